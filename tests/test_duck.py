"""Our DuckDB session settings, and the DuckDB 2.0.0 wrong sum they keep out of the models."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.lib.duck import prepare

#: per team: 1,100,000, 2,000,000, 1,000, 0, 1,000 (two rows without a project, two of 0)
ROWS = [("alpha", "proj_a", 1_000_000), ("batch-team", "proj_a", 2_000_000),
        ("unassigned", "proj_b", 1_000), ("alpha", "proj_a", 100_000), ("growth", None, 0),
        ("ds", None, 1_000), ("growth", None, 0)]
WANT = [("alpha", 1_100_000), ("batch-team", 2_000_000), ("ds", 1_000), ("growth", 0),
        ("unassigned", 1_000)]
#: the shape the models join names and teams in: a LEFT JOIN on one kind of row of a table
#: (the table holds none of that kind: where DuckDB 2.0.0 gets it wrong)
QUERY = ("SELECT team, sum(n)::BIGINT FROM u LEFT JOIN a ON a.kind = 'project' "
         "AND a.id = u.project_id GROUP BY ALL ORDER BY ALL")


def _tables(con: duckdb.DuckDBPyConnection, names: list[tuple[str, str, str]]) -> None:
    con.execute("CREATE TABLE u (team VARCHAR, project_id VARCHAR, n BIGINT)")
    con.executemany("INSERT INTO u VALUES (?, ?, ?)", ROWS)
    con.execute("CREATE TABLE a (kind VARCHAR, id VARCHAR, name VARCHAR)")
    if names:
        con.executemany("INSERT INTO a VALUES (?, ?, ?)", names)


@pytest.mark.parametrize("names", [[], [("user", "user_1", "Bo")],
                                   [("api_key", "key_a", "k"), ("user", "user_1", "Bo")]],
                         ids=["empty", "another kind", "other kinds around it"])
def test_a_sum_after_a_join_on_one_kind_of_row_is_right(names):
    """DuckDB 2.0.0's compressed materialization cuts such a sum to a byte (1,100,000 reads
    -32) or fails to cast it; our connections turn it off (``DISABLED_OPTIMIZERS``)."""
    con = prepare(duckdb.connect())
    _tables(con, names)
    assert con.execute(QUERY).fetchall() == WANT
    assert con.execute("SELECT current_setting('disabled_optimizers')").fetchall() == [
        ("compressed_materialization",)]

