"""A BI tool stand-in: query the published copy in a loop, read-only, until told to stop.

Run as a separate process by tests/test_publish.py. Prints one JSON line: how many queries
ran, how many failed on a connection that had opened (lock or any other error), how many
connects failed, how many saw a partial publish (a table whose row count differs from what
that publish recorded), and which publishes it saw.

Failed connects are counted apart (``connect_errors``): DuckDB opens a file three times as
it connects (magic bytes, headers, blocks), so a rename between those opens gives it the old
copy's headers and the new copy's blocks, which failed before the publish kept the old
copy's blocks in the new file (docs/experiments/bi-copy-swap/).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import duckdb


def _describe(exc: Exception, published: str) -> str:
    """The error, and what the path holds now: a publish since, or a file shorter than read?"""
    try:
        st = os.stat(published)
        now = f" [the path now: {st.st_size} bytes, inode {st.st_ino}]"
    except OSError as gone:
        now = f" [the path now: {gone}]"
    return f"{type(exc).__name__}: {exc}"[:500] + now


def main(published: str, stop_file: str, max_seconds: float) -> None:
    queries = errors = connect_errors = partial = 0
    seen: set[str] = set()
    messages: list[str] = []
    connect_messages: list[str] = []
    deadline = time.monotonic() + max_seconds
    while not Path(stop_file).exists() and time.monotonic() < deadline:
        if not Path(published).exists():
            time.sleep(0.01)
            continue
        try:
            con = duckdb.connect(published, read_only=True)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            connect_errors += 1
            connect_messages.append(_describe(exc, published))
            time.sleep(0.005)
            continue
        try:
            run_id, counts = con.execute(
                "SELECT run_id, row_counts FROM publish_info").fetchall()[0]
            for table, expected in counts.items():
                (got,) = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0]
                partial += got != expected
            total = con.execute(
                "SELECT sum(requests) FROM marts.usage_cost_daily").fetchall()[0][0]
            seen.add(f"{run_id}:{total}")
            queries += 1
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            errors += 1
            messages.append(_describe(exc, published))
        finally:
            con.close()
        time.sleep(0.005)
    print(json.dumps({"queries": queries, "errors": errors, "connect_errors": connect_errors,
                      "partial": partial, "publishes_seen": sorted(seen),
                      "messages": messages[:5], "connect_messages": connect_messages[:5]}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
