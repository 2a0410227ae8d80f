"""A DuckDB reader that connects while the file at its path is replaced (fifty-second session).

`.venv/bin/python docs/experiments/bi-copy-swap/swap_race.py` from the repo root (needs
`strace`: `apt-get install strace`). DuckDB opens a database file by its path three times
while connecting: the magic bytes, then the headers (the first 12 KB), then the blocks. The
script makes two files, an old and a new, puts the old at the path, and connects a reader
under strace with the third open of the path delayed by 2 s; meanwhile the new file is
renamed over the path, as the publish does. The reader then reads the new file's blocks at
the old header's offsets.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

READER = """
import sys, duckdb
try:
    con = duckdb.connect(sys.argv[1], read_only=True)
    print("connected:", con.execute("SELECT count(*), sum(y) FROM t").fetchall())
except Exception as exc:
    print("failed to connect:", type(exc).__name__, str(exc)[:200])
"""


def make(path: Path, rows: int, factor: int) -> None:
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE t AS SELECT hash(range) AS x, range * {factor} AS y "
                f"FROM range({rows})")
    con.execute("CHECKPOINT")
    con.close()


def race(folder: Path, old_rows: int, new_rows: int) -> str:
    old, new, path = folder / "old.duckdb", folder / "new.duckdb", folder / "bi.duckdb"
    for f in (old, new, path):
        f.unlink(missing_ok=True)
    make(old, old_rows, 2)
    make(new, new_rows, 3)
    shutil.copyfile(old, path)
    reader = subprocess.Popen(
        ["strace", "-q", "-f", "-P", str(path), "-e", "trace=openat",
         "-e", "inject=openat:delay_enter=2000000:when=3", "-o", str(folder / "strace.txt"),
         sys.executable, "-c", READER, str(path)], stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)  # the reader is in its delayed third open
    new.replace(path)  # the publish's rename
    out, _ = reader.communicate(timeout=60)
    return out.strip()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for old_rows, new_rows in ((3_000_000, 1_000), (1_000, 1_000), (1_000, 3_000_000)):
            print(f"old file {old_rows:,} rows, new file {new_rows:,} rows ->",
                  race(Path(tmp), old_rows, new_rows))
        print("without the race (no rename while it connects):")
        reader = subprocess.run([sys.executable, "-c", READER, str(Path(tmp) / "bi.duckdb")],
                                capture_output=True, text=True)
        print("  ", reader.stdout.strip())


if __name__ == "__main__":
    main()
