"""Day-by-day models and the day-by-day publish: the same tables as a full rebuild, and a full
rebuild whenever something besides the usage of some days changed (a new as-of date only when
it changes a lifecycle status, a replacement or a price in effect)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os

import dagster as dg
import duckdb
import pytest

from pipelines.lib import duck
from pipelines.lib.duck import prepare, sql_text
from tests.conftest import RadarEnv
from tests.exports import LITELLM_HEADER, RESULT_A, RESULT_C, bucket, litellm_row, page

BY_DAY = {
    "intermediate.usage_priced": "intermediate/int_usage_priced",
    "marts.usage_cost_daily": "marts/usage_cost_daily",
}


#: the lifecycle rows of the catalog entries the usage's models resolve to
LIFECYCLE_IN_USE_ROWS = (
    "SELECT * FROM intermediate.lifecycle_as_of WHERE model IN (SELECT lifecycle_model "
    "FROM intermediate.model_resolution WHERE model IN (SELECT model FROM staging.usage)) "
    "ORDER BY model")


def modes(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    out = {}
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        if "mode" in mat.metadata:
            out[".".join(mat.asset_key.path)] = str(mat.metadata["mode"].value)
    return out


def add_day(landing, day: str, n: int) -> None:
    """Usage of ``day`` from both kinds of source: a Usage API page and a gateway log."""
    (landing / "api" / f"more_{n}.json").write_text(json.dumps(page([
        bucket(day, [dict(RESULT_A, num_model_requests=7 + n), RESULT_C])])))
    with (landing / "gateway" / f"more_{n}.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(LITELLM_HEADER)
        w.writerow(litellm_row(f"more-{n}", "gpt-4o-2024-08-06", 100 * n, 10, "team-x", "g",
                               "success", day=day))


def refresh_next_day(env, refresh, monkeypatch, day: str) -> dict[str, str]:
    """The daily schedule's next run: the as-of date moves on to ``day`` and its usage lands.
    The modes of the run's day-by-day models."""
    monkeypatch.setenv("RADAR_AS_OF", day)
    add_day(env.landing, day, 1)
    return modes(refresh())


def assert_same_as_full_rebuild(con: duckdb.DuckDBPyConnection, as_of: str) -> None:
    prepare(con)
    for table, model in BY_DAY.items():
        sql = duck.with_macros(con, sql_text(model))
        params = {"as_of": dt.date.fromisoformat(as_of)} if "$as_of" in sql else {}
        full = f"({sql})"
        for a, b in ((table, full), (full, table)):
            diff = con.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL "
                               f"SELECT * FROM {b})", params).fetchall()[0][0]
            assert diff == 0, f"{table}: {diff} rows differ from a full rebuild"


def assert_warehouse_same_as_full_rebuild(env: RadarEnv, as_of: str) -> None:
    con = duckdb.connect(str(env.warehouse), read_only=True)
    try:
        assert_same_as_full_rebuild(con, as_of)
    finally:
        con.close()


def test_new_days_update_the_models_day_by_day(fixture_exports, refresh):
    first = modes(refresh())
    assert {first[t] for t in BY_DAY} == {"full"}
    # a full build writes its rows in day order (a day's later replace stays in its row groups)
    from pipelines.marts.assets import DAY_OF_ROW

    con = duckdb.connect(str(fixture_exports.warehouse), read_only=True)
    try:
        for table, day in DAY_OF_ROW.items():
            (days, backwards) = con.execute(
                f"SELECT count(DISTINCT d), count(*) FILTER (WHERE d < before) FROM "
                f"(SELECT {day} AS d, lag({day}) OVER (ORDER BY rowid) AS before "
                f"FROM {table})").fetchall()[0]
            assert days > 1 and backwards == 0, f"{table} is not in day order"
    finally:
        con.close()
    add_day(fixture_exports.landing, "2026-11-24", 1)
    second = modes(refresh())
    assert {second[t] for t in BY_DAY} == {"incremental"}, second
    assert second["intermediate.usage_daily"] == "incremental"
    nothing_new = modes(refresh())
    assert {nothing_new[t] for t in BY_DAY} == {"unchanged"}
    add_day(fixture_exports.landing, "2026-11-20", 2)  # a day that already had usage
    add_day(fixture_exports.landing, "2026-11-25", 3)
    third = modes(refresh())
    assert {third[t] for t in BY_DAY} == {"incremental"}

    con = duckdb.connect(str(fixture_exports.warehouse), read_only=True)
    try:
        assert_same_as_full_rebuild(con, fixture_exports.env()["RADAR_AS_OF"])
        # the new usage is in: 7+2 more requests of RESULT_A on the 20th, one gateway request
        (api_req,) = con.execute(
            "SELECT sum(requests) FROM marts.usage_cost_daily WHERE usage_date = '2026-11-20' "
            "AND source = 'openai_usage_api' AND project_id = 'proj_a' "
            "AND api_key_id = 'key_a'").fetchall()[0]
        assert api_req == 7 + 2  # the newest file's version of the bucket, not both
        (gw,) = con.execute("SELECT count(*) FROM marts.usage_cost_daily WHERE "
                            "usage_date = '2026-11-25' AND source = 'litellm'").fetchall()[0]
        assert gw == 1
    finally:
        con.close()

    # the BI copy, updated day by day too, holds exactly the warehouse's rows
    pub = duckdb.connect(str(fixture_exports.publish / "radar.duckdb"), read_only=True)
    try:
        pub.execute(f"ATTACH '{fixture_exports.warehouse}' AS wh (READ_ONLY)")
        for table in ("marts.usage_cost_daily", "marts.focus_costs",
                      "marts.deprecated_model_usage"):
            for a, b in ((table, f"wh.{table}"), (f"wh.{table}", table)):
                diff = pub.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL "
                                   f"SELECT * FROM {b})").fetchall()[0][0]
                assert diff == 0, f"published {table} differs from the warehouse"
        builds = dict(pub.execute("SELECT builds FROM publish_info").fetchall()[0][0])
        assert set(builds) == {"marts.usage_cost_daily"}
    finally:
        pub.close()


def test_a_new_day_that_changes_no_lifecycle_goes_on_day_by_day(fixture_exports, refresh,
                                                                monkeypatch):
    """The daily schedule's run: the as-of date moves on by a day, and new usage arrives. No
    model in use changes status, replacement or price between 2026-11-25 and 2026-11-26, so
    the models are updated day by day, and equal a full rebuild as of the new date."""
    refresh()
    before = fixture_exports.query(LIFECYCLE_IN_USE_ROWS)
    after = refresh_next_day(fixture_exports, refresh, monkeypatch, "2026-11-26")
    assert {after[t] for t in BY_DAY} == {"incremental"}, after
    con = duckdb.connect(str(fixture_exports.warehouse), read_only=True)
    try:
        assert con.execute(LIFECYCLE_IN_USE_ROWS).fetchall() == before
        assert_same_as_full_rebuild(con, "2026-11-26")
        (gw,) = con.execute("SELECT count(*) FROM marts.usage_cost_daily WHERE "
                            "usage_date = '2026-11-26' AND source = 'litellm'").fetchall()[0]
        assert gw == 1
    finally:
        con.close()


def test_a_new_day_on_which_a_replacement_price_starts_rebuilds_in_full(
        fixture_exports, refresh, monkeypatch):
    """The replacement's cost is priced on the as-of date: a price of the replacement that
    starts on the new day changes that column on every row of the deprecated model, although
    the catalog's contents and the lifecycle stay the same."""
    refresh()
    (price_model,) = fixture_exports.query(
        "SELECT r.price_model FROM intermediate.lifecycle_as_of l "
        "JOIN intermediate.model_resolution r ON r.model = l.replacement_model "
        "WHERE l.model = 'gpt-4o-2024-08-06'")[0]
    overrides = fixture_exports.root / "overrides.csv"
    overrides.write_text(
        "model,valid_from,valid_to,input_usd_per_1m,cached_input_usd_per_1m,"
        f"output_usd_per_1m\n{price_model},2026-11-26,,0.50,0.25,2.00\n")
    monkeypatch.setenv("RADAR_CATALOG_OVERRIDES", str(overrides))
    changed = modes(refresh())
    assert {changed[t] for t in BY_DAY} == {"full"}, (price_model, changed)  # a new catalog
    after = refresh_next_day(fixture_exports, refresh, monkeypatch, "2026-11-26")
    assert {after[t] for t in BY_DAY} == {"full"}, after
    assert_warehouse_same_as_full_rebuild(fixture_exports, "2026-11-26")


def test_a_model_nobody_calls_retiring_on_the_new_day_keeps_the_day_by_day_build(
        fixture_exports, refresh, monkeypatch):
    """The catalog holds many providers' retirements, on many more days than one company's
    usage meets: a model no usage row resolves to that shuts down on the new day changes no
    row, so the day's run stays day by day."""
    lifecycle = fixture_exports.root / "lifecycle.csv"
    lifecycle.write_text("model,announced_date,shutdown_date,replacement_model\n"
                         "nobody-calls-me-1,2026-10-01,2026-11-26,\n")
    monkeypatch.setenv("RADAR_LIFECYCLE_OVERRIDES", str(lifecycle))
    refresh()
    status = ("SELECT lifecycle_status FROM intermediate.lifecycle_as_of "
              "WHERE model = 'nobody-calls-me-1'")
    assert fixture_exports.query(status) == [("deprecated",)]
    after = refresh_next_day(fixture_exports, refresh, monkeypatch, "2026-11-26")
    assert fixture_exports.query(status) == [("shutdown",)]
    assert {after[t] for t in BY_DAY} == {"incremental"}, after
    assert_warehouse_same_as_full_rebuild(fixture_exports, "2026-11-26")


@pytest.mark.parametrize("change", ["as_of", "catalog", "macros/money", "macros/prices"])
def test_anything_else_changing_rebuilds_in_full(fixture_exports, refresh, monkeypatch,
                                                 change):
    refresh()
    if change == "as_of":  # gpt-4o-2024-08-06, which has usage, is shut down from this day
        monkeypatch.setenv("RADAR_AS_OF", "2027-01-14")
    elif change.startswith("macros/"):  # an upgrade changes a macro the pricing model calls
        read = duck.sql_text
        monkeypatch.setattr(duck, "sql_text", lambda name: read(name) + (
            "\n-- a changed rule\n" if name == change else ""))
    else:  # a price correction for a model with usage in the past
        overrides = fixture_exports.root / "overrides.csv"
        overrides.write_text(
            "model,valid_from,valid_to,input_usd_per_1m,cached_input_usd_per_1m,"
            "output_usd_per_1m\n"
            "gpt-4o-2024-08-06,2024-08-06,,3.00,1.50,12.00\n")
        monkeypatch.setenv("RADAR_CATALOG_OVERRIDES", str(overrides))
    add_day(fixture_exports.landing, "2026-11-24", 1)
    after = modes(refresh())
    assert {after[t] for t in BY_DAY} == {"full"}, after
    assert_warehouse_same_as_full_rebuild(fixture_exports, os.environ["RADAR_AS_OF"])
