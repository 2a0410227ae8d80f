"""What the request keys cost in the roll-up of one gateway file: the digest, or the list?
(twenty-second session, 2026-12-04; ``keys_split.log``)

    .venv/bin/python docs/experiments/request-keys/keys_split.py \
        warehouse/bench/30000000/landing/gateway/spend_logs_2026_11.csv [ROUNDS]

The ingest's roll-up (``litellm_csv.rollup_sql``) keeps, per group, the list of its requests'
128-bit digests (``list(md5_number(request_id))``), which the request ledger is written from.
Variants of that one aggregate, in one process, each on a new connection with a run's memory
limit, rounds interleaved: no keys; the product's; the digest counted but not listed; a list
of DuckDB's 64-bit ``hash`` (not stable across DuckDB versions, so not usable for a ledger
kept across upgrades); a list of the digest's lower 64 bits. Wall and CPU seconds (all
threads) of the ``CREATE TEMP TABLE ... AS`` roll-up.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from pipelines.lib import litellm_csv  # noqa: E402


def variants(path: Path) -> dict[str, str]:
    cols = litellm_csv.csv_columns(path)
    base = litellm_csv.rollup_sql(cols, request_keys=True)
    trimmed = litellm_csv._trimmed("request_id")
    keys = f"list(md5_number({trimmed})) FILTER (WHERE reason IS NULL)"
    merge = "flatten(list(request_keys) FILTER (WHERE request_keys IS NOT NULL))"
    assert keys in base and merge in base
    return {
        "no keys": litellm_csv.rollup_sql(cols, request_keys=False),
        "list(md5_number)": base,
        "count(md5_number)": base.replace(keys, keys.replace("list(", "count(", 1))
                                 .replace(merge, "sum(request_keys)"),
        "list(hash)": base.replace(keys, f"list(hash({trimmed})) FILTER (WHERE reason IS NULL)"),
        "list(md5_number_lower)": base.replace("md5_number(", "md5_number_lower("),
    }


def main() -> None:
    path = Path(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    queries = variants(path)
    for number in range(rounds):
        for name, query in queries.items():
            con = duckdb.connect()
            con.execute("SET preserve_insertion_order = false")
            con.execute("SET memory_limit = '768MB'")
            wall, cpu = time.perf_counter(), time.process_time()
            con.execute("CREATE TEMP TABLE g AS " + query, {"path": str(path)})
            print(f"r{number} {name:24} {time.perf_counter() - wall:5.2f}s cpu "
                  f"{time.process_time() - cpu:5.2f}", flush=True)
            con.close()


if __name__ == "__main__":
    main()
