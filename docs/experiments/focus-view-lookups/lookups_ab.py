"""How marts.focus_costs looks up RADAR_BILLING_ACCOUNTS' account, timed four ways.

Run from the repository root (a git checkout: three variants are the view as committed), on
a copy of a refreshed working file (it adds catalog.billing_accounts and a view per variant,
then drops the views):

    cp warehouse/bench/30000000/wh/radar.duckdb /tmp/w.duckdb
    .venv/bin/python docs/experiments/focus-view-lookups/lookups_ab.py /tmp/w.duckdb 5

Each round times, per variant, what every refresh does with the view (`SELECT count(*)`,
duck.build_view's row count) and what the publish does (its Parquet file), with the table
empty and with two providers' accounts.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path.cwd()))
from pipelines.lib.duck import prepare  # noqa: E402

#: the view as committed: before the setting, with two scalar subqueries, with the join kept
COMMITS = {"without_accounts": "9e72885", "two_subqueries": "49c8aa2", "join": "3c2c080"}
#: never committed: two_subqueries' look-ups as one struct subquery, in a CTE
STRUCT_IN_CTE = [
    ("    WHERE priced\n),\n", """    WHERE priced
),

costs_with_account AS (
    SELECT
        *,
        (SELECT any_value({'id': b.billing_account_id, 'name': b.billing_account_name})
         FROM catalog.billing_accounts AS b
         WHERE lower(b.provider) = lower(c.provider_name)) AS provider_account
    FROM costs AS c
),
"""),
    ("""         ELSE (SELECT any_value(b.billing_account_id) FROM catalog.billing_accounts AS b
               WHERE lower(b.provider) = lower(costs.provider_name)) END""",
     "         ELSE provider_account.id END"),
    ("""         ELSE (SELECT any_value(b.billing_account_name) FROM catalog.billing_accounts AS b
               WHERE lower(b.provider) = lower(costs.provider_name)) END""",
     "         ELSE provider_account.name END"),
    ("FROM costs\nLEFT JOIN publishers", "FROM costs_with_account AS costs\nLEFT JOIN publishers"),
]


def variants() -> dict[str, str]:
    sql = {name: subprocess.run(["git", "show", f"{commit}:sql/marts/focus_costs.sql"],
                                check=True, capture_output=True, text=True).stdout
           for name, commit in COMMITS.items()}
    struct = sql["two_subqueries"]
    for old, new in STRUCT_IN_CTE:
        assert struct.count(old) == 1, old
        struct = struct.replace(old, new)
    return {"without_accounts": sql["without_accounts"],
            "two_subqueries": sql["two_subqueries"], "struct_in_cte": struct,
            "join": sql["join"]}


def main(warehouse: str, rounds: int) -> None:
    views = variants()
    con = prepare(duckdb.connect(warehouse))
    con.execute("CREATE SCHEMA IF NOT EXISTS catalog")
    con.execute("CREATE OR REPLACE TABLE catalog.billing_accounts (provider VARCHAR, "
                "billing_account_id VARCHAR, billing_account_name VARCHAR, source VARCHAR)")
    for name, sql in views.items():
        con.execute(f"CREATE OR REPLACE VIEW marts.ab_{name} AS {sql}")
    out = Path(tempfile.mkdtemp())
    try:
        for filled in (False, True):
            if filled:
                con.execute("INSERT INTO catalog.billing_accounts VALUES "
                            "('OpenAI', 'org-1', 'One', 'ab line 2'), "
                            "('Anthropic', 'ws-1', NULL, 'ab line 3')")
            for r in range(1, rounds + 1):
                for name in views:
                    t = time.perf_counter()
                    (rows,) = con.execute(f"SELECT count(*) FROM marts.ab_{name}").fetchone()
                    counted = time.perf_counter() - t
                    t = time.perf_counter()
                    con.execute(f"COPY marts.ab_{name} TO '{out / name}.parquet' "
                                "(FORMAT parquet)")
                    written = time.perf_counter() - t
                    print(f"accounts {'2 rows' if filled else 'empty'}, round {r}, {name}: "
                          f"count {counted:.3f} s, Parquet {written:.2f} s ({rows:,} rows)",
                          flush=True)
            named = {name: con.execute(
                f"SELECT count(\"BillingAccountId\") FROM '{out / name}.parquet'").fetchone()[0]
                for name in list(views)[1:]}
            print(f"rows with a billing account: {named}")
    finally:
        for name in views:
            con.execute(f"DROP VIEW IF EXISTS marts.ab_{name}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3)
