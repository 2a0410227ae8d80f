"""Write the request ledger from the roll-up's first level instead of its result?
(twenty-second session, 2026-12-04; ``split_levels.log``)

    .venv/bin/python docs/experiments/request-keys/split_levels.py \
        warehouse/bench/30000000/landing/gateway/spend_logs_2026_11.csv [ROUNDS]

The ingest's roll-up (``litellm_csv.rollup_sql``) lists the request keys of each group at its
first level (per raw text of the dimensions), then merges those lists again at its second
level (``flatten(list(request_keys))``), and the ledger is written from that result with
``unnest``. The variant keeps the first level in a temporary table, writes the ledger from
it and builds the second level without lists: the keys are copied once fewer. Both write
the same groups and the same ledger (printed). Wall and CPU seconds (all threads) of the
statements, in one process, a new connection with a run's memory limit each time, the two
ways alternating.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from pipelines.lib import litellm_csv  # noqa: E402

LEDGER = ("CREATE TEMP TABLE ledger AS SELECT usage_date, unnest(request_keys) AS request_key "
          "FROM {table} WHERE reason IS NULL")


def statements(path: Path) -> dict[str, list[str]]:
    rollup = litellm_csv.rollup_sql(litellm_csv.csv_columns(path), request_keys=True)
    cut = rollup.index("derived AS (")
    level1 = rollup[:cut].rstrip().rstrip(",") + "\nSELECT * FROM per_text"
    level2 = "WITH " + rollup[cut:].replace("FROM per_text", "FROM per_text_t").replace(
        "flatten(list(request_keys) FILTER (WHERE request_keys IS NOT NULL))",
        "NULL::UHUGEINT[]")
    return {
        "product": ["CREATE TEMP TABLE gateway_groups AS " + rollup,
                    LEDGER.format(table="gateway_groups")],
        "split": ["CREATE TEMP TABLE per_text_t AS " + level1,
                  "CREATE TEMP TABLE gateway_groups AS " + level2,
                  LEDGER.format(table="per_text_t")],
    }


def main() -> None:
    path = Path(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    ways = statements(path)
    for _ in range(rounds):
        for name, stmts in ways.items():
            con = duckdb.connect()
            con.execute("SET preserve_insertion_order = false")
            con.execute("SET memory_limit = '768MB'")
            wall, cpu = time.perf_counter(), time.process_time()
            for sql in stmts:
                con.execute(sql, {"path": str(path)} if "$path" in sql else None)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            ledger = con.execute("SELECT count(*), count(DISTINCT request_key) "
                                 "FROM ledger").fetchone()
            groups = con.execute("SELECT count(*), sum(rows_read), sum(input_tokens) "
                                 "FROM gateway_groups").fetchone()
            print(f"{name:8} {wall:5.2f}s cpu {cpu:5.2f} ledger {ledger} groups {groups}",
                  flush=True)
            con.close()


if __name__ == "__main__":
    main()
