"""The whole ingest of a benchmark landing folder with the Usage API pages parsed ahead
within several budgets (``parse_ahead_bytes``; 0: each file in its turn), the budgets'
order rotated every round, each run in a process of its own with a new warehouse and a
run's DuckDB settings. Needs one of this folder's patches applied (see README.md):

    .venv/bin/python docs/experiments/parse-ahead/ab.py 10000000 4 64 8 0

(rows, rounds, then the budgets in MiB; 64 and 0 if none). Prints each run's seconds, peak
RSS and what it staged, checks every budget loaded the same, then prints the medians.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def one(rows: str, budget: int) -> dict:
    """One ingest, in this process: seconds, peak RSS and the files' outcomes."""
    with tempfile.TemporaryDirectory(prefix="radar-ahead-") as tmp:
        os.environ["RADAR_WAREHOUSE"] = str(Path(tmp) / "wh" / "radar.duckdb")
        from pipelines.lib import ingest
        from pipelines.resources import default_resources
        from pipelines.settings import RadarSettings

        warehouse = default_resources(RadarSettings.from_env())["warehouse"]
        landing = REPO / "warehouse/bench" / rows / "landing"
        t = time.perf_counter()
        with warehouse.get_connection() as con:
            outcomes = ingest.ingest_landing(con, landing, parse_ahead_bytes=budget)
            seconds = time.perf_counter() - t
            staged = con.execute("SELECT count(*), sum(requests), sum(input_tokens) "
                                 "FROM staging.usage").fetchall()[0]
        loaded = sorted((Path(o.path).name, o.status, o.rows_read, o.rows_loaded,
                         o.rows_rejected, o.rows_duplicate) for o in outcomes)
        return {"seconds": seconds, "loaded": loaded, "staged": [int(v) for v in staged],
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(rows: str, rounds: int, budgets_mib: list[int]) -> None:
    import run as bench  # benchmarks/run.py

    bench.warm_page_cache(REPO / "warehouse/bench" / rows / "landing")
    seconds: dict[int, list[float]] = {b: [] for b in budgets_mib}
    rss: dict[int, list[float]] = {b: [] for b in budgets_mib}
    results = {}
    for r in range(rounds):
        k = r % len(budgets_mib)
        for mib in budgets_mib[k:] + budgets_mib[:k]:
            out = subprocess.run([sys.executable, __file__, "--one", rows, str(mib << 20)],
                                 check=True, capture_output=True, text=True).stdout
            result = json.loads(out.splitlines()[-1])
            seconds[mib].append(result["seconds"])
            rss[mib].append(result["peak_rss_mb"])
            results[mib] = (result["loaded"], result["staged"])
            print(f"round {r + 1} budget {mib:3d} MiB {result['seconds']:6.2f} s "
                  f"peak RSS {result['peak_rss_mb']:5.0f} MB staged {result['staged']}",
                  flush=True)
    assert len({json.dumps(v) for v in results.values()}) == 1, "the budgets loaded different rows"
    for mib in budgets_mib:
        print(f"budget {mib:3d} MiB: median {statistics.median(seconds[mib]):.2f} s "
              f"({', '.join(f'{s:.2f}' for s in seconds[mib])}), peak RSS median "
              f"{statistics.median(rss[mib]):.0f} MB ({', '.join(f'{m:.0f}' for m in rss[mib])})")


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        print(json.dumps(one(sys.argv[2], int(sys.argv[3]))))
    else:
        main(sys.argv[1], int(sys.argv[2]), [int(b) for b in sys.argv[3:]] or [64, 0])
