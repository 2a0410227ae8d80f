"""What the floor costs when it aggregates to the product's daily grain.

    .venv/bin/python docs/experiments/daily-grain-floor/grain.py ROUNDS ROWS [ROWS ...]
    .venv/bin/python docs/experiments/daily-grain-floor/grain.py --pandas ROUNDS ROWS

Until 2026-12-04 ``benchmarks/run.py``'s floors and pandas baseline read the gateway files
and the Usage API pages, priced them and summed them to (usage_date, team, model): 153,300
groups at 10M and 30M. The refresh's daily grain, the one the contract's
``marts.usage_cost_daily`` is kept at, is (usage_date, source, team, project_id, user_id,
api_key_id, endpoint, route, model, service_tier, is_batch): 525,600 rows of a year at those
sizes. This script times, each in a process of its own, the DuckDB and polars floors at both
grains (the same reads, the same price join, the same measures; the daily grain's keys need
the call type, the key, the user and two more metadata paths). The order of the four
rotates each round; the input is read once first so that all of them read from the page
cache. It prints every time, the fastest of each, and the added seconds from each size to
the next. ``--pandas`` does the same for the two pandas baselines, with their peak RSS.

The logs beside it were made before the daily-grain baselines moved into
``benchmarks/run.py`` (``GRAINS``, measured in every run since): this script then held its
own copies of them, the same queries but for the call-type mapping, taken from the product's
``litellm_csv`` instead of written out for the benchmark's eight call types.

Needs the benchmark's data (``benchmarks/run.py --rows N`` generates it under
``warehouse/bench/N``) for the as-of date it was generated for (``RADAR_AS_OF``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import run  # noqa: E402  (benchmarks/run.py)

MODES = {
    "team-model-duckdb": lambda landing: run.run_floor_duckdb(landing, "team-model"),
    "team-model-polars": lambda landing: run.run_floor_polars(landing, "team-model"),
    "grain-duckdb": lambda landing: run.run_floor_duckdb(landing, "daily"),
    "grain-polars": lambda landing: run.run_floor_polars(landing, "daily"),
}
PANDAS_MODES = {
    "team-model-pandas": lambda landing: run.run_pandas(landing, "team-model"),
    "grain-pandas": lambda landing: run.run_pandas(landing, "daily"),
}


def main() -> None:
    if sys.argv[1] == "--mode":
        (MODES | PANDAS_MODES)[sys.argv[2]](Path(sys.argv[3]))
        return
    if sys.argv[1] == "--pandas":  # the two pandas baselines, alternating
        pandas(int(sys.argv[2]), int(sys.argv[3]))
        return
    rounds, sizes = int(sys.argv[1]), [int(s) for s in sys.argv[2:]]
    times: dict[tuple[int, str], list[float]] = {}
    order = list(MODES)
    for size in sizes:
        print(f"warm {size}: {run.warm_page_cache(REPO / 'warehouse' / 'bench' / str(size)):.1f}s",
              flush=True)
    for r in range(rounds):
        for size in sizes:
            landing = REPO / "warehouse" / "bench" / str(size) / "landing"
            for mode in order[r % 4:] + order[:r % 4]:
                os.sync()
                t = time.perf_counter()
                out = subprocess.run([sys.executable, __file__, "--mode", mode, str(landing)],
                                     check=True, capture_output=True, text=True).stdout.strip()
                s = time.perf_counter() - t
                times.setdefault((size, mode), []).append(s)
                print(f"round {r + 1} {size:>10,} {mode:<18} {s:6.2f}s  {out}", flush=True)
    print("\nfastest of each:")
    for size in sizes:
        print(f"{size:>10,} " + "  ".join(f"{m} {min(times[size, m]):.2f}s" for m in MODES))
    for small, large in zip(sizes, sizes[1:], strict=False):
        for kind in ("team-model", "grain"):
            added = [min(times[large, f"{kind}-{e}"]) - min(times[small, f"{kind}-{e}"])
                     for e in ("duckdb", "polars")]
            floor = (min(min(times[large, f"{kind}-{e}"]) for e in ("duckdb", "polars"))
                     - min(min(times[small, f"{kind}-{e}"]) for e in ("duckdb", "polars")))
            print(f"{kind} floor {small:,} -> {large:,}: adds {floor:.2f}s "
                  f"(duckdb {added[0]:.2f}s, polars {added[1]:.2f}s)")


def pandas(rounds: int, size: int) -> None:
    """``--pandas ROUNDS ROWS``: the benchmark's pandas baseline and the grain's, alternating,
    each with its seconds and the peak RSS of its process."""
    landing = REPO / "warehouse" / "bench" / str(size) / "landing"
    print(f"warm {size}: {run.warm_page_cache(landing):.1f}s", flush=True)
    order = list(PANDAS_MODES)
    for r in range(rounds):
        for mode in order[r % 2:] + order[:r % 2]:
            m = run.measure([sys.executable, __file__, "--mode", mode, str(landing)])
            s, rss, out = m.seconds, m.peak_mb, m.output
            print(f"round {r + 1} {size:>10,} {mode:<18} {s:6.2f}s  peak {rss:,.0f} MB  "
                  f"{out.strip()}", flush=True)


if __name__ == "__main__":
    main()
