"""The whole ingest of a benchmark landing folder with the Usage API pages parsed ahead
(the default) and each in its turn (``parse_ahead_bytes=0``), alternating, each run in a
process of its own with a new warehouse and a run's DuckDB settings:

    .venv/bin/python docs/experiments/parse-ahead/ab.py 10000000 4

Prints each run's seconds and what it loaded (the two must load the same), then the medians.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def one(rows: str, ahead: bool) -> dict:
    """One ingest, in this process: seconds and the files' outcomes."""
    with tempfile.TemporaryDirectory(prefix="radar-ahead-") as tmp:
        os.environ["RADAR_WAREHOUSE"] = str(Path(tmp) / "wh" / "radar.duckdb")
        from pipelines.lib import ingest
        from pipelines.resources import default_resources
        from pipelines.settings import RadarSettings

        warehouse = default_resources(RadarSettings.from_env())["warehouse"]
        landing = REPO / "warehouse/bench" / rows / "landing"
        budget = ingest.PARSE_AHEAD_BYTES if ahead else 0
        t = time.perf_counter()
        with warehouse.get_connection() as con:
            outcomes = ingest.ingest_landing(con, landing, parse_ahead_bytes=budget)
            seconds = time.perf_counter() - t
            staged = con.execute("SELECT count(*), sum(requests), sum(input_tokens) "
                                 "FROM staging.usage").fetchall()[0]
        loaded = sorted((Path(o.path).name, o.status, o.rows_read, o.rows_loaded,
                         o.rows_rejected, o.rows_duplicate) for o in outcomes)
        return {"seconds": seconds, "loaded": loaded, "staged": [int(v) for v in staged]}


def main(rows: str, rounds: int) -> None:
    import run as bench  # benchmarks/run.py

    bench.warm_page_cache(REPO / "warehouse/bench" / rows / "landing")
    seen: dict[bool, list[float]] = {True: [], False: []}
    results = {}
    for r in range(rounds):
        for ahead in ((True, False) if r % 2 == 0 else (False, True)):
            out = subprocess.run([sys.executable, __file__, "--one", rows, str(int(ahead))],
                                 check=True, capture_output=True, text=True).stdout
            result = json.loads(out.splitlines()[-1])
            seen[ahead].append(result["seconds"])
            results[ahead] = (result["loaded"], result["staged"])
            print(f"round {r + 1} {'ahead  ' if ahead else 'in turn'} "
                  f"{result['seconds']:.2f} s  staged {result['staged']}", flush=True)
    assert results[True] == results[False], "the two variants loaded different rows"
    for ahead in (True, False):
        print(f"{'ahead  ' if ahead else 'in turn'} median {statistics.median(seen[ahead]):.2f} s"
              f" ({', '.join(f'{s:.2f}' for s in seen[ahead])})")


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        print(json.dumps(one(sys.argv[2], sys.argv[3] == "1")))
    else:
        main(sys.argv[1], int(sys.argv[2]))
