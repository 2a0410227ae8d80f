"""Seconds per statement of ``ingest_landing`` over the gateway files of N rows.

    [RADAR_EXPERIMENT_NO_REQUEST_KEYS=1] .venv/bin/python \\
        docs/experiments/request-keys/stmt.py 10000000

The gateway files of ``benchmarks/run.py``'s data for N rows (not the Usage API pages), in a
new warehouse with a run's DuckDB settings; every statement the ingest runs is timed, and the
totals are printed by statement (its first 60 characters), largest first, then file by file
for the statements that run once per file and take over 0.1 s in all (whether a statement's
cost grows with what is already loaded, such as the request ledger). With the variable
set and ``no-request-keys.patch`` applied, the ingest skips the request keys (see ``ab.py``).
"""

from __future__ import annotations

import collections
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))


def main(rows: str) -> None:
    with tempfile.TemporaryDirectory(prefix="radar-stmt-") as tmp:
        landing = Path(tmp) / "landing" / "gateway"
        landing.mkdir(parents=True)
        for f in sorted((REPO / "warehouse/bench" / rows / "landing/gateway").glob("*.csv")):
            (landing / f.name).symlink_to(f)
        os.environ["RADAR_WAREHOUSE"] = str(Path(tmp) / "wh" / "radar.duckdb")
        from pipelines.lib import ingest
        from pipelines.resources import default_resources
        from pipelines.settings import RadarSettings

        seconds: collections.Counter[str] = collections.Counter()
        each: dict[str, list[float]] = collections.defaultdict(list)
        untimed = ingest._x

        def timed(con, sql, params=None):  # noqa: ANN001, ANN202
            t = time.perf_counter()
            out = untimed(con, sql, params)
            label = " ".join(sql.split())[:60]
            elapsed = time.perf_counter() - t
            seconds[label] += elapsed
            each[label].append(elapsed)
            return out

        ingest._x = timed
        warehouse = default_resources(RadarSettings.from_env())["warehouse"]
        t = time.perf_counter()
        with warehouse.get_connection() as con:
            outcomes = ingest.ingest_landing(con, landing.parent)
            total = time.perf_counter() - t
        variant = os.environ.get("RADAR_EXPERIMENT_NO_REQUEST_KEYS") == "1"
        print(f"nokeys={variant} total {total:.1f}s files {len(outcomes)}")
        for label, s in seconds.most_common(12):
            print(f"  {s:6.2f}s x{len(each[label]):3d} {label}")
        for label, s in seconds.most_common():
            if len(each[label]) == len(outcomes) > 1 and s > 0.1:
                print(f"  by file: {label[:40]}: "
                      + " ".join(f"{x:.2f}" for x in each[label]))


if __name__ == "__main__":
    main(sys.argv[1])
