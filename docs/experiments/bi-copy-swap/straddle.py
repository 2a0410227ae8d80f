"""What a reader that straddles a publish's rename reads: the old copy's headers, the new
copy's blocks (fifty-second session).

`.venv/bin/python docs/experiments/bi-copy-swap/straddle.py [--without-keeping]` from the repo
root. A warehouse of eight marts of 300,000 rows that do not compress is published seven
times; after each publish the file a straddling reader sees (the first 12 KB of the copy
before, the rest of the new copy) is opened. `--without-keeping` turns the publish's
`_keep_previous_blocks` off, as before the fix.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from pipelines.lib.duck import prepare  # noqa: E402
from pipelines.publish import assets  # noqa: E402


def main(keep: bool) -> None:
    if not keep:
        assets._keep_previous_blocks = lambda previous, new: 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        con = prepare(duckdb.connect(str(root / "wh.duckdb")))
        con.execute("CREATE SCHEMA marts")
        for mart in assets.PARQUET_ORDER:
            con.execute(f"CREATE TABLE marts.{mart} AS SELECT hash(range) AS h, "
                        "hash(range + 1) AS g FROM range(300000)")
        pub, as_of = root / "pub", dt.date(2026, 12, 7)
        assets.publish(con, pub, "r0", as_of)
        for i in range(1, 7):
            old = (pub / "radar.duckdb").read_bytes()
            assets.publish(con, pub, f"r{i}", as_of)
            new = (pub / "radar.duckdb").read_bytes()
            straddled = root / f"straddled_{i}.duckdb"
            straddled.write_bytes(old[:assets.DUCKDB_HEADERS_BYTES]
                                  + new[assets.DUCKDB_HEADERS_BYTES:])
            try:
                with duckdb.connect(str(straddled), read_only=True) as reader:
                    (run_id,) = reader.execute("SELECT run_id FROM publish_info").fetchall()[0]
                    (rows,) = reader.execute(
                        "SELECT count(*) FROM marts.usage_cost_daily").fetchall()[0]
                seen = f"reads publish {run_id} ({rows:,} rows)"
            except duckdb.Error as exc:
                seen = f"FAILS: {type(exc).__name__}: {str(exc)[:110]}"
            print(f"publish {i}: copy {len(old):,} -> {len(new):,} bytes; the straddling "
                  f"reader {seen}")
        con.close()


if __name__ == "__main__":
    main(keep="--without-keeping" not in sys.argv[1:])
