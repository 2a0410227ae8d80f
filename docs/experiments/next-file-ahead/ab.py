"""The whole ingest of a benchmark landing folder with the next file parsed ahead (on a
second connection, while this one's rows load) and without, alternating the order every
round, each ingest in a process of its own with a new warehouse and a run's DuckDB settings:

    git apply docs/experiments/next-file-ahead/next-file-ahead.patch
    .venv/bin/python docs/experiments/next-file-ahead/ab.py 10000000 4
    git apply -R docs/experiments/next-file-ahead/next-file-ahead.patch

(rows, rounds). Prints each ingest's seconds, peak RSS, largest write-ahead log seen and
what it staged, checks both ways loaded exactly the same, then prints the medians.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

MODES = {"ahead": True, "in-turn": False}


def one(rows: str, mode: str) -> dict:
    """One ingest, in this process: seconds, peak RSS, largest WAL and what was staged."""
    with tempfile.TemporaryDirectory(prefix="radar-next-") as tmp:
        database = Path(tmp) / "wh" / "radar.duckdb"
        os.environ["RADAR_WAREHOUSE"] = str(database)
        from pipelines.lib import ingest
        from pipelines.resources import default_resources
        from pipelines.settings import RadarSettings

        warehouse = default_resources(RadarSettings.from_env())["warehouse"]
        landing = REPO / "warehouse/bench" / rows / "landing"
        wal = Path(f"{database}.wal")
        largest = [0]
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.05):
                with contextlib.suppress(OSError):
                    largest[0] = max(largest[0], wal.stat().st_size)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        t = time.perf_counter()
        with warehouse.get_connection() as con:
            outcomes = ingest.ingest_landing(con, landing, parse_ahead=MODES[mode])
            seconds = time.perf_counter() - t
            staged = con.execute("SELECT count(*), sum(requests), sum(input_tokens), "
                                 "sum(output_tokens), (SELECT count(*) FROM "
                                 "staging.gateway_requests) FROM staging.usage").fetchall()[0]
        done.set()
        loaded = sorted((Path(o.path).name, o.status, o.rows_read, o.rows_loaded,
                         o.rows_rejected, o.rows_duplicate) for o in outcomes)
        return {"seconds": seconds, "loaded": loaded, "staged": [int(v) for v in staged],
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "largest_wal_mb": largest[0] / 1e6}


def main(rows: str, rounds: int) -> None:
    import run as bench  # benchmarks/run.py

    bench.warm_page_cache(REPO / "warehouse/bench" / rows / "landing")
    modes = list(MODES)
    seconds: dict[str, list[float]] = {m: [] for m in modes}
    rss: dict[str, list[float]] = {m: [] for m in modes}
    results = {}
    for r in range(rounds):
        for mode in modes[r % 2:] + modes[:r % 2]:
            out = subprocess.run([sys.executable, __file__, "--one", rows, mode],
                                 check=True, capture_output=True, text=True).stdout
            result = json.loads(out.splitlines()[-1])
            seconds[mode].append(result["seconds"])
            rss[mode].append(result["peak_rss_mb"])
            results[mode] = (result["loaded"], result["staged"])
            print(f"round {r + 1} {mode:8s} {result['seconds']:6.2f} s peak RSS "
                  f"{result['peak_rss_mb']:5.0f} MB largest WAL {result['largest_wal_mb']:6.1f} "
                  f"MB staged {result['staged']}", flush=True)
    assert len({json.dumps(v) for v in results.values()}) == 1, "the modes loaded different rows"
    print("both modes loaded the same files, rows and requests")
    for mode in modes:
        print(f"{mode:8s}: median {statistics.median(seconds[mode]):.2f} s "
              f"({', '.join(f'{s:.2f}' for s in seconds[mode])}), peak RSS median "
              f"{statistics.median(rss[mode]):.0f} MB ({', '.join(f'{m:.0f}' for m in rss[mode])})")


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        print(json.dumps(one(sys.argv[2], sys.argv[3])))
    else:
        main(sys.argv[1], int(sys.argv[2]))
