"""What parsing each request's endTime costs the roll-up of one gateway file (twenty-second
session, 2026-12-04; ``end_time.log``).

    .venv/bin/python docs/experiments/cpu-seconds/end_time.py \
        warehouse/bench/30000000/landing/gateway/spend_logs_2026_11.csv [ROUNDS]

The roll-up parses two timestamps per request; ``endTime`` only feeds each group's
``bucket_end`` (its latest end). Variants of ``litellm_csv.rollup_sql``: the product's; no
``endTime`` at all (not a correct roll-up: the bound on what the parse can cost); and the
latest ``endTime`` kept as text per group (what a parse once per group would start from).
Wall and CPU seconds (all threads), a new connection with a run's memory limit each time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from pipelines.lib import litellm_csv  # noqa: E402


def _swap(sql: str, old: str, new: str) -> str:
    assert sql.count(old) == 1, old
    return sql.replace(old, new)


def variants(path: Path) -> dict[str, str]:
    product = litellm_csv.rollup_sql(litellm_csv.csv_columns(path), request_keys=True)
    no_end = _swap(product, litellm_csv._timestamp_sql('"endTime"') + " AS ended",
                   "NULL::TIMESTAMP AS ended")
    text = _swap(no_end, "max(coalesce(ended, started)) AS bucket_end,",
                 'max(coalesce(ended, started)) AS bucket_end, max("endTime") AS end_text,')
    text = _swap(text, "bucket_start, bucket_end, request_keys,",
                 "bucket_start, bucket_end, request_keys, end_text,")
    text = _swap(text, "max(bucket_end)                                               AS "
                       "bucket_end,", "max(bucket_end) AS bucket_end, max(end_text) AS end_text,")
    return {"product": product, "no endTime": no_end, "endTime max text": text}


def main() -> None:
    path = Path(sys.argv[1])
    queries = variants(path)
    for number in range(int(sys.argv[2]) if len(sys.argv) > 2 else 5):
        for name, query in queries.items():
            con = duckdb.connect()
            con.execute("SET preserve_insertion_order = false")
            con.execute("SET memory_limit = '768MB'")
            wall, cpu = time.perf_counter(), time.process_time()
            con.execute("CREATE TEMP TABLE g AS " + query, {"path": str(path)})
            print(f"r{number} {name:18} {time.perf_counter() - wall:5.2f}s cpu "
                  f"{time.process_time() - cpu:5.2f}", flush=True)
            con.close()


if __name__ == "__main__":
    main()
