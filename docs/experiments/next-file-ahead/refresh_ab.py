"""The full refresh (`dagster job execute -j radar_refresh`, as `benchmarks/run.py` runs it,
into a fresh warehouse) with the next file parsed ahead and without, alternating the order
every round. Needs `next-file-ahead.patch` and then the switch of `toggle.patch` applied
(``RADAR_PARSE_AHEAD=0`` turns parsing ahead off; the product has no such switch):

    git apply docs/experiments/next-file-ahead/next-file-ahead.patch
    git apply docs/experiments/next-file-ahead/toggle.patch
    RADAR_AS_OF=2026-12-03 .venv/bin/python \
        docs/experiments/next-file-ahead/refresh_ab.py 10000000 3
    git apply -R docs/experiments/next-file-ahead/toggle.patch
    git apply -R docs/experiments/next-file-ahead/next-file-ahead.patch

Prints each refresh's seconds, peak RSS of the process tree and its ingest step's seconds,
then the medians. A third argument is a run config file for every refresh (`-c`), e.g.
`docs/experiments/next-file-ahead/gx-in-run.yaml`: great-expectations validated in the
run's own process, not in its worker.
"""

from __future__ import annotations

import shutil
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "benchmarks"))

import run as bench  # noqa: E402  (benchmarks/run.py)


def main(rows: int, rounds: int, config: str | None = None) -> None:
    workdir = REPO / "warehouse" / "bench" / str(rows)
    landing = workdir / "landing"
    bench.warm_page_cache(landing)
    modes = ["ahead", "in-turn"]
    figures: dict[str, list[tuple[float, float, float]]] = {m: [] for m in modes}
    for r in range(rounds):
        for mode in modes[r % 2:] + modes[:r % 2]:
            shutil.rmtree(workdir / "wh", ignore_errors=True)
            env = bench.refresh_env(workdir, landing, bench.HISTORY_AS_OF)
            env["RADAR_PARSE_AHEAD"] = "1" if mode == "ahead" else "0"
            cmd = bench.REFRESH_CMD + (["-c", str(Path(config).resolve())] if config else [])
            m = bench.measure(cmd, env)
            seconds, rss, log = m.seconds, m.peak_mb, m.output
            ingest = bench.step_seconds(log).get("ingest_landing_folder", float("nan"))
            figures[mode].append((seconds, rss, ingest))
            print(f"round {r + 1} {mode:8s} refresh {seconds:6.2f} s peak RSS {rss:5.0f} MB "
                  f"ingest step {ingest:5.1f} s", flush=True)
    for mode in modes:
        s, m, i = zip(*figures[mode], strict=True)
        print(f"{mode:8s}: refresh median {statistics.median(s):.2f} s "
              f"({', '.join(f'{x:.2f}' for x in s)}), ingest step median "
              f"{statistics.median(i):.1f} s, peak RSS median {statistics.median(m):.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
