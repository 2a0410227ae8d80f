"""How a row's team was found (``team_matched_by``): ``intermediate.usage_priced`` names one way
per row, and ``marts.usage_cost_daily`` lists the ways of the rows it sums, sorted and
comma-separated. The mart builds that text from one bit per way (an integer aggregate, ~0.5 s
less on a 525,600-row build than a list of names): every combination must read as the sorted
names would, and a way the mart does not know must stop the build, not drop out of the text."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import duckdb
import pytest

from pipelines.lib.duck import prepare, sql_text

#: the columns of intermediate.usage_priced the mart reads
PRICED_COLUMNS = {
    "usage_date": "DATE", "source": "VARCHAR", "team": "VARCHAR", "project_id": "VARCHAR",
    "user_id": "VARCHAR", "api_key_id": "VARCHAR", "endpoint": "VARCHAR", "route": "VARCHAR",
    "model": "VARCHAR", "service_tier": "VARCHAR", "is_batch": "BOOLEAN", "requests": "BIGINT",
    "failed_requests": "BIGINT", "input_tokens": "BIGINT", "cached_input_tokens": "BIGINT",
    "output_tokens": "BIGINT", "cost_usd": "DECIMAL(38, 10)", "priced": "BOOLEAN",
    "lifecycle_status": "VARCHAR", "shutdown_date": "DATE", "replacement_model": "VARCHAR",
    "replacement_cost_usd": "DECIMAL(38, 10)", "price_model": "VARCHAR",
    "contracted_cost_usd": "DECIMAL(38, 10)", "list_cost_usd": "DECIMAL(38, 10)",
    "team_matched_by": "VARCHAR", "provider": "VARCHAR",
    "unpriced_reason": "VARCHAR", "units": "BIGINT", "unit": "VARCHAR",
}


def matching_ways() -> list[str]:
    """The values int_usage_priced's CASE gives ``team_matched_by``, read from its SQL."""
    sql = sql_text("intermediate/int_usage_priced")
    case = sql[:sql.index("END AS team_matched_by")]
    case = case[case.rindex("CASE"):]
    return re.findall(r"(?:THEN|ELSE) '([a-z_]+)'", case)


def usage_priced(rows: list[tuple[str, str]]) -> duckdb.DuckDBPyConnection:
    """A database whose intermediate.usage_priced has one row per (api key, way)."""
    con = prepare(duckdb.connect())
    con.execute("CREATE SCHEMA intermediate")
    columns = ", ".join(f"{c} {t}" for c, t in PRICED_COLUMNS.items())
    con.execute(f"CREATE TABLE intermediate.usage_priced ({columns})")
    con.executemany(
        "INSERT INTO intermediate.usage_priced (usage_date, source, team, api_key_id, endpoint, "
        "model, is_batch, requests, failed_requests, input_tokens, cached_input_tokens, "
        "output_tokens, cost_usd, priced, contracted_cost_usd, list_cost_usd, "
        "replacement_cost_usd, team_matched_by) "
        "VALUES (?, 'litellm', 'search', ?, 'completions', 'gpt-4o', false, 1, 0, 10, 0, 5, "
        "0.25, true, 0.25, 0.25, 0.125, ?)",
        [(dt.date(2026, 11, 20), key, way) for key, way in rows])
    return con


def test_the_ways_of_int_usage_priced_are_the_six_the_mart_knows():
    assert sorted(matching_ways()) == ["api_key_id", "litellm_team_alias", "litellm_team_id",
                                       "project_id", "unassigned", "user_id"]


def test_every_combination_of_ways_reads_as_its_sorted_names():
    ways = matching_ways()
    combos = [c for n in range(1, len(ways) + 1) for c in itertools.combinations(ways, n)]
    # one API key per combination: its rows are one mart row; listed in reverse, and the
    # first way twice, so neither the order of the rows nor a repeat shows in the text
    rows = [(f"key-{i}", way) for i, combo in enumerate(combos)
            for way in (*reversed(combo), combo[0])]
    con = usage_priced(rows)
    got = {key: (ways_text, requests) for key, ways_text, requests in con.execute(
        f"SELECT api_key_id, team_matched_by, requests "
        f"FROM ({sql_text('marts/usage_cost_daily')})").fetchall()}
    assert len(got) == len(combos) == 63
    for i, combo in enumerate(combos):
        assert got[f"key-{i}"] == (",".join(sorted(combo)), len(combo) + 1)


def test_a_way_the_mart_does_not_know_stops_the_build():
    con = usage_priced([("key-1", "litellm_team_id"), ("key-1", "key_alias")])
    with pytest.raises(duckdb.Error, match="team_matched_by key_alias has no bit"):
        con.execute(f"SELECT * FROM ({sql_text('marts/usage_cost_daily')})").fetchall()
