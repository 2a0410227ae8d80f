"""The publish's Parquet files, one by one and as the publish writes them (two at a time), on
a refreshed benchmark warehouse (sixty-second session, 2026-12-08).

    .venv/bin/python docs/experiments/one-more-day/parquet.py warehouse/bench/30000000/wh

Writes into a scratch folder, never over the warehouse's published copy.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))
from pipelines.lib.duck import prepare  # noqa: E402
from pipelines.publish import assets as publish  # noqa: E402


def main() -> None:
    wh = Path(sys.argv[1])
    con = prepare(duckdb.connect(str(wh / "radar.duckdb"), read_only=True))
    out = Path(tempfile.mkdtemp(prefix="parquet-"))
    try:
        for mart in publish.PARQUET_ORDER:
            started = time.perf_counter()
            publish._write_parquet(con, mart, out, "one")
            print(f"{mart}: {time.perf_counter() - started:.3f} s")
        started = time.perf_counter()
        publish.write_parquet_files(con, out, "all")
        print(f"all nine, two at a time (as the publish writes them): "
              f"{time.perf_counter() - started:.3f} s")
    finally:
        con.close()
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
