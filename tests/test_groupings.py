"""The same OpenAI usage saved at two groupings counts once (pipelines/lib/groupings.py).

An ungrouped save has every dimension null (formats.md 1.8); the sync groups by every
dimension. Their bucket keys differ, so both are staged; the roll-up counts what the finer rows
report, and of the coarser row only what they do not explain.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.duck import prepare
from pipelines.lib.incremental import roll_up_usage_daily
from pipelines.lib.ingest import ingest_landing
from tests.exports import LITELLM_HEADER, bucket, completion, litellm_row, page

DAY = "2026-11-20"


def row(requests: int, **dims) -> dict:
    """A completions result: 100 input tokens (10 cached) and 10 output tokens a request."""
    return completion(num_model_requests=requests, input_tokens=requests * 100,
                      input_cached_tokens=requests * 10, output_tokens=requests * 10, **dims)


def fine(project: str, model: str, requests: int, **dims) -> dict:
    """A result as the sync writes it: grouped by every dimension (user_id null: no user)."""
    return row(requests, project_id=project, api_key_id=f"key_{project}", model=model,
               batch=False, service_tier="default", **dims)


def drop(landing: Path, name: str, results: list[dict], order: int, day: str = DAY) -> None:
    path = landing / name
    path.write_text(json.dumps(page([bucket(day, results)])))
    os.utime(path, ns=(10**18 + order, 10**18 + order))  # processing order


def roll_up(con: duckdb.DuckDBPyConnection, landing: Path):
    ingest_landing(con, landing)
    return roll_up_usage_daily(con)


def daily(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT project_id, model, requests, input_tokens, cached_input_tokens, output_tokens "
        "FROM intermediate.usage_daily ORDER BY ALL NULLS FIRST").fetchall()


def totals(con: duckdb.DuckDBPyConnection) -> tuple:
    return con.execute("SELECT sum(requests), sum(input_tokens), sum(cached_input_tokens), "
                       "sum(output_tokens) FROM intermediate.usage_daily").fetchall()[0]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return prepare(duckdb.connect(":memory:"))


@pytest.mark.parametrize("ungrouped_first", [True, False], ids=["ungrouped-first",
                                                                 "grouped-first"])
def test_an_ungrouped_save_beside_the_grouped_pages_counts_once(tmp_path, con, ungrouped_first):
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "notebook.json", [row(100)], 1 if ungrouped_first else 2)
    drop(landing, "sync.json", [fine("proj_a", "gpt-4o-2024-08-06", 60),
                                fine("proj_a", "gpt-5.6-sol", 40)], 2 if ungrouped_first else 1)
    built = roll_up(con, landing)
    assert (built.set_aside_rows, built.set_aside_requests) == (1, 100)
    assert daily(con) == [("proj_a", "gpt-4o-2024-08-06", 60, 6000, 600, 600),
                          ("proj_a", "gpt-5.6-sol", 40, 4000, 400, 400)]
    # the staged rows are kept as the files say; what is set aside says why
    assert con.execute("SELECT sum(requests) FROM staging.usage").fetchone() == (200,)
    set_aside = con.execute(
        "SELECT requests, fully_set_aside, finer_rows, finer_files "
        "FROM intermediate.usage_set_aside").fetchall()
    assert set_aside == [(100, True, 2, str(landing / "sync.json"))]


def test_a_finer_save_that_arrives_later_takes_back_the_day(tmp_path, con):
    """Run 1 has only the ungrouped save; run 2 brings the grouped pages: the day is rolled up
    again (incrementally) and counted once; a third run with nothing new changes nothing."""
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "notebook.json", [row(100)], 1)
    drop(landing, "other-day.json", [fine("proj_a", "gpt-5.6-sol", 5)], 2, day="2026-11-21")
    assert roll_up(con, landing).mode == "full"
    assert totals(con) == (105, 10500, 1050, 1050)
    drop(landing, "sync.json", [fine("proj_a", "gpt-5.6-sol", 100)], 3)
    second = roll_up(con, landing)
    assert (second.mode, second.days, second.set_aside_requests) == ("incremental", 1, 100)
    assert totals(con) == (105, 10500, 1050, 1050)
    assert daily(con) == [("proj_a", "gpt-5.6-sol", 5, 500, 50, 50),
                          ("proj_a", "gpt-5.6-sol", 100, 10000, 1000, 1000)]
    third = roll_up(con, landing)
    assert third.mode == "unchanged"
    assert totals(con) == (105, 10500, 1050, 1050)


def test_what_the_finer_rows_do_not_explain_is_kept(tmp_path, con):
    """The grouped pages were fetched at 09:00 (60 requests); the ungrouped save is of the
    whole day (100): the 40 after 09:00 are known only without a model, and stay."""
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "notebook.json", [row(100)], 1)
    start = int(dt.datetime(2026, 11, 20, tzinfo=dt.UTC).timestamp())
    morning = {"object": "bucket", "start_time": start, "end_time": start + 9 * 3600,
               "results": [fine("proj_a", "gpt-4o-2024-08-06", 60)]}
    (landing / "morning.json").write_text(json.dumps(page([morning])))
    built = roll_up(con, landing)
    assert (built.set_aside_rows, built.set_aside_requests) == (1, 60)
    assert daily(con) == [(None, None, 40, 4000, 400, 400),
                          ("proj_a", "gpt-4o-2024-08-06", 60, 6000, 600, 600)]
    assert con.execute("SELECT fully_set_aside FROM intermediate.usage_set_aside"
                       ).fetchall() == [(False,)]


def test_three_groupings_nested_are_not_subtracted_twice(tmp_path, con):
    """Ungrouped (100), by project (proj_a 60, proj_b 40) and by model for proj_a only (a save
    filtered to one project): proj_a's 60 come from the finest rows, proj_b's 40 from the save
    by project, and nothing from the ungrouped one."""
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "ungrouped.json", [row(100)], 1)
    drop(landing, "by-project.json", [row(60, project_id="proj_a"),
                                      row(40, project_id="proj_b")], 2)
    drop(landing, "proj-a-by-model.json", [fine("proj_a", "gpt-4o-2024-08-06", 60)], 3)
    roll_up(con, landing)
    assert daily(con) == [("proj_a", "gpt-4o-2024-08-06", 60, 6000, 600, 600),
                          ("proj_b", None, 40, 4000, 400, 400)]


def test_saves_filtered_to_one_project_each_add_up(tmp_path, con):
    """A notebook that loops over projects writes one file each; beside an ungrouped save of
    the day, their sum explains it, so it adds nothing."""
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "ungrouped.json", [row(100)], 1)
    drop(landing, "proj_a.json", [fine("proj_a", "gpt-4o-2024-08-06", 70)], 2)
    drop(landing, "proj_b.json", [fine("proj_b", "gpt-4o-2024-08-06", 30)], 3)
    roll_up(con, landing)
    assert totals(con) == (100, 10000, 1000, 1000)


def test_a_page_from_before_service_tier_beside_a_refetch_with_it(tmp_path, con):
    """The old field set has no service_tier (null); a re-fetch of the day says "default".
    The same usage, keys that differ only there: the re-fetch is the finer row."""
    landing = tmp_path / "landing"
    landing.mkdir()
    old = fine("proj_a", "gpt-4o-2024-08-06", 50)
    del old["service_tier"]
    drop(landing, "2025-save.json", [old], 1)
    drop(landing, "refetch.json", [fine("proj_a", "gpt-4o-2024-08-06", 50)], 2)
    roll_up(con, landing)
    assert con.execute("SELECT service_tier, requests FROM intermediate.usage_daily"
                       ).fetchall() == [("default", 50)]


def test_rows_of_one_file_never_set_each_other_aside(tmp_path, con):
    """Grouped by user, usage without a user has user_id null: a group of its own, not the
    total of the others. (Another file on the same day, so that the day is compared at all.)"""
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "sync.json", [fine("proj_a", "gpt-5.6-sol", 30),
                                fine("proj_a", "gpt-5.6-sol", 20, user_id="user_1")], 1)
    drop(landing, "proj_b.json", [fine("proj_b", "gpt-5.6-sol", 5)], 2)
    built = roll_up(con, landing)
    assert built.set_aside_rows == 0
    assert totals(con)[0] == 55


def test_buckets_that_do_not_contain_each_other_are_not_compared(tmp_path, con):
    """An ungrouped save of the morning and grouped pages of the afternoon: other hours, both
    count."""
    landing = tmp_path / "landing"
    landing.mkdir()
    start = int(dt.datetime(2026, 11, 20, tzinfo=dt.UTC).timestamp())
    for name, (lo, hi), result in (("morning.json", (0, 12), row(10)),
                                   ("afternoon.json", (12, 24),
                                    fine("proj_a", "gpt-5.6-sol", 20))):
        (landing / name).write_text(json.dumps(page([{
            "object": "bucket", "start_time": start + lo * 3600,
            "end_time": start + hi * 3600, "results": [result]}])))
    built = roll_up(con, landing)
    assert built.set_aside_rows == 0
    assert totals(con)[0] == 30


def test_gateway_logs_are_never_compared_with_openai_usage(tmp_path, con):
    """A LiteLLM log of the same day sees the same traffic from the gateway's side; it is kept
    apart by `source`, never set against an ungrouped API save."""
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "notebook.json", [row(100)], 1)
    rows = [litellm_row(f"r{i}", "gpt-4o-2024-08-06", 100, 10, "team-x", "growth", "success",
                        day=DAY) for i in range(3)]
    with (landing / "spend.csv").open("w", newline="") as f:
        import csv

        writer = csv.writer(f)
        writer.writerow(LITELLM_HEADER)
        writer.writerows(rows)
    built = roll_up(con, landing)
    assert built.set_aside_rows == 0
    assert con.execute("SELECT source, sum(requests) FROM intermediate.usage_daily "
                       "GROUP BY ALL ORDER BY ALL").fetchall() == [
        ("litellm", 3), ("openai_usage_api", 100)]


def test_left_over_cached_tokens_never_exceed_left_over_input(tmp_path, con):
    """Ungrouped: 1,000 input of which 500 cached; the finer rows: 900 input, 100 cached. Left
    over: 100 input, so at most 100 cached (not 400), and the cost formula stays >= 0."""
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "notebook.json", [completion(num_model_requests=10, input_tokens=1000,
                                               input_cached_tokens=500, output_tokens=0)], 1)
    drop(landing, "sync.json", [dict(fine("proj_a", "gpt-5.6-sol", 9), input_tokens=900,
                                     input_cached_tokens=100, output_tokens=0)], 2)
    roll_up(con, landing)
    assert daily(con)[0] == (None, None, 1, 100, 100, 0)


def test_left_over_audio_tokens_never_exceed_what_is_left_of_their_totals(tmp_path, con):
    """Ungrouped: 1,000 input (200 cached, of them 200 audio; 800 uncached audio), 100 output
    (all audio); the finer rows: 600 input (100 cached), 50 output, no audio. Left over: 400
    input, 100 of it cached, so at most 300 uncached audio and 100 cached audio; 50 output,
    so at most 50 audio: every text count left over stays >= 0."""
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "notebook.json", [completion(
        num_model_requests=10, input_tokens=1000, input_cached_tokens=200,
        input_audio_tokens=800, input_cached_audio_tokens=200, output_tokens=100,
        output_audio_tokens=100)], 1)
    drop(landing, "sync.json", [dict(fine("proj_a", "gpt-realtime", 6), input_tokens=600,
                                     input_cached_tokens=100, output_tokens=50)], 2)
    roll_up(con, landing)
    assert con.execute(
        "SELECT input_tokens, cached_input_tokens, input_audio_tokens, "
        "cached_input_audio_tokens, output_tokens, output_audio_tokens "
        "FROM intermediate.usage_daily WHERE project_id IS NULL").fetchall() == [
        (400, 100, 300, 100, 50, 50)]


def test_the_refresh_and_the_report_count_an_ungrouped_save_once(radar):
    """Through Dagster: the deprecated share is 60%, not 30% (what counting the ungrouped save
    too would give); the blocking cross-layer check passes; the report says what it did."""
    from tests.conftest import run_job

    drop(radar.landing, "notebook.json", [row(100)], 1)
    drop(radar.landing, "sync.json", [fine("proj_a", "gpt-4o-2024-08-06", 60),
                                      fine("proj_a", "gpt-5.6-sol", 40)], 2)
    result = run_job("weekly_migration_report")
    assert result.success
    checks = {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
              for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert checks["costs_reconcile_across_layers"] is True
    assert checks["groupings_nest"] is True  # nested groupings: nothing to warn about
    assert radar.query("SELECT team, requests, deprecated_requests, deprecated_share FROM "
                       "marts.migration_status_weekly WHERE requests > 0") == [
        ("alpha", 100, 60, 0.6)]
    assert radar.query("SELECT count(*) FROM marts.unpriced_usage") == [(0,)]
    text = (radar.reports / "migration-status-2026-W48.md").read_text()
    assert "Counted once: 100 requests in the window are also in another export" in text
    materialization = next(
        e.materialization for e in result.all_events if e.event_type_value ==
        "ASSET_MATERIALIZATION" and e.materialization.asset_key.path == ["intermediate",
                                                                         "usage_daily"])
    assert materialization.metadata["set_aside_requests"].value == 100



def test_groupings_that_do_not_nest_are_listed_not_guessed(tmp_path, con):
    """One save by project only, another by model only: neither row contains the other, so
    both count (they may be the same usage or not: the data cannot say); the WARN check's
    query lists the pair. A nested pair, or hours that do not overlap, are not listed."""
    from pipelines.lib.groupings import unnested_groupings_sql

    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "by-project.json", [row(100, project_id="proj_a")], 1)
    drop(landing, "by-model.json", [row(100, model="gpt-5.6-sol")], 2)
    drop(landing, "ungrouped.json", [row(100)], 3)  # contains both: set aside, not listed
    built = roll_up(con, landing)
    assert built.set_aside_requests == 100
    assert totals(con)[0] == 200
    assert con.execute(unnested_groupings_sql()).fetchall() == [
        (dt.date(2026, 11, 20), "completions", str(landing / "by-project.json"), "project_id",
         str(landing / "by-model.json"), "model")]

    nested = tmp_path / "nested"
    nested.mkdir()
    drop(nested, "ungrouped.json", [row(100)], 1)
    drop(nested, "sync.json", [fine("proj_a", "gpt-5.6-sol", 100)], 2)
    other = prepare(duckdb.connect(":memory:"))
    roll_up(other, nested)
    assert other.execute(unnested_groupings_sql()).fetchall() == []


def test_the_warn_check_lists_groupings_that_do_not_nest(radar, refresh):
    drop(radar.landing, "by-project.json", [row(100, project_id="proj_a")], 1)
    drop(radar.landing, "by-model.json", [row(100, model="gpt-5.6-sol")], 2)
    result = refresh()
    (evaluation,) = [e.asset_check_evaluation_data for e in result.all_events
                     if e.event_type_value == "ASSET_CHECK_EVALUATION"
                     and e.asset_check_evaluation_data.check_name == "groupings_nest"]
    assert evaluation.passed is False
    assert evaluation.severity.value == "WARN"
    assert radar.query("SELECT passed, json_extract(observed, '$.pairs') FROM "
                       "quality.check_results WHERE \"check\" = 'groupings_nest'") == [
        (False, "1")]

# ------------------------------------------------------------------ the bill (Costs API)

def cost(project: str | None, line: str | None, amount: str, key: str | None = None) -> dict:
    return {"object": "organization.costs.result", "project_id": project, "api_key_id": key,
            "line_item": line, "amount": {"value": amount, "currency": "usd"}}


def billed(con: duckdb.DuckDBPyConnection, landing: Path,
           columns: str = "project_id, line_item, CAST(amount_usd AS VARCHAR)") -> list[tuple]:
    """Ingest ``landing``, count the bill once, and read ``columns`` of
    ``intermediate.billed_costs``."""
    from pipelines.lib.duck import build_table
    from pipelines.lib.groupings import BILLED, settle_groupings

    ingest_landing(con, landing)
    settle_groupings(con, full=True, spec=BILLED)
    build_table(con, "intermediate.billed_costs", "intermediate/int_billed_costs")
    return con.execute(f"SELECT {columns} FROM intermediate.billed_costs "
                       "ORDER BY ALL NULLS FIRST").fetchall()


def test_an_ungrouped_cost_save_beside_the_grouped_pages_bills_once(tmp_path, con):
    """The Costs API's default is one amount a day; the sync groups by project and line item.
    Beside it, the day's amount (and a save by line item only) add nothing."""
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "costs-default.json", [cost(None, None, "3.5")], 1)
    drop(landing, "costs-by-line.json", [cost(None, "gpt-4o, input", "2.5"),
                                         cost(None, "gpt-4o, output", "1.0")], 2)
    drop(landing, "costs-sync.json", [cost("proj_a", "gpt-4o, input", "2.0"),
                                      cost("proj_b", "gpt-4o, input", "0.5"),
                                      cost("proj_a", "gpt-4o, output", "1.0")], 3)
    assert billed(con, landing) == [("proj_a", "gpt-4o, input", "2.0000000000"),
                                    ("proj_a", "gpt-4o, output", "1.0000000000"),
                                    ("proj_b", "gpt-4o, input", "0.5000000000")]
    assert con.execute("SELECT count(*), bool_and(fully_set_aside) FROM "
                       "intermediate.billed_set_aside").fetchone() == (3, True)


def test_a_credit_left_over_stays_a_credit(tmp_path, con):
    """A day whose bill is a $3 credit, saved ungrouped, beside a save by project that has $1
    of it: the $2 the finer rows do not explain stays -$2 (it is not clamped to 0)."""
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "ungrouped.json", [cost(None, None, "-3")], 1)
    drop(landing, "by-project.json", [cost("proj_a", None, "-1")], 2)
    assert billed(con, landing) == [(None, None, "-2.0000000000"),
                                    ("proj_a", None, "-1.0000000000")]


def test_the_reconciliation_compares_the_bill_once(radar, refresh):
    """Through Dagster: $3.50 of usage, billed by the sync and again by an ungrouped save.
    Before, the organisation's row showed $7.00 billed, "unexplained"."""
    drop(radar.landing, "usage.json", [dict(fine("proj_a", "gpt-4o-2024-08-06", 100),
                                            input_tokens=1_000_000, input_cached_tokens=0,
                                            output_tokens=100_000)], 1)
    drop(radar.landing, "costs-default.json", [cost(None, None, "3.5")], 2)
    drop(radar.landing, "costs-sync.json", [cost("proj_a", "gpt-4o, input", "2.5"),
                                            cost("proj_a", "gpt-4o, output", "1.0")], 3)
    result = refresh()
    assert radar.query(
        "SELECT project_id, CAST(billed_usd AS VARCHAR), CAST(computed_usd AS VARCHAR), "
        "classification FROM marts.cost_reconciliation") == [
        ("proj_a", "3.5000000000", "3.5000000000", "matched")]
    assert [e.asset_check_evaluation_data.passed for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
            and e.asset_check_evaluation_data.check_name == "bill_groupings_nest"] == [True]


def test_bills_at_groupings_that_do_not_nest_are_listed(tmp_path, con):
    """One save by project only, another by line item only, of the same day: both bill (the
    data cannot say whether it is the same money), and the WARN check's query lists them."""
    from pipelines.lib.groupings import BILLED, unnested_groupings_sql

    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "by-project.json", [cost("proj_a", None, "3.5")], 1)
    drop(landing, "by-line.json", [cost(None, "gpt-4o, input", "3.5")], 2)
    assert len(billed(con, landing)) == 2
    assert con.execute(unnested_groupings_sql(BILLED)).fetchall() == [
        (dt.date(2026, 11, 20), str(landing / "by-project.json"), "project_id",
         str(landing / "by-line.json"), "line_item")]


def test_left_over_image_tokens_fit_beside_the_audio_left_over(tmp_path, con):
    """Ungrouped: 1,000 input (300 cached: 200 audio, 100 image; 100 written to the cache;
    600 uncached: 400 audio, 200 image), 100 output (60 audio, 40 image); the finer rows: 600
    input (100 cached), 50 output, no audio, image or cache writes. Left over: 400 input, 200
    of it cached; the audio takes the other 200 and the 200 cached first, so nothing is left
    for the image parts or the cache writes; 50 output: 50 audio, 0 image. Every text count
    left over stays >= 0."""
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "notebook.json", [completion(
        num_model_requests=10, input_tokens=1000, input_cached_tokens=300,
        input_audio_tokens=400, input_image_tokens=200, input_cache_write_tokens=100,
        input_cached_audio_tokens=200,
        input_cached_image_tokens=100, output_tokens=100, output_audio_tokens=60,
        output_image_tokens=40)], 1)
    drop(landing, "sync.json", [dict(fine("proj_a", "gpt-realtime", 6), input_tokens=600,
                                     input_cached_tokens=100, output_tokens=50)], 2)
    roll_up(con, landing)
    (left,) = con.execute(
        "SELECT input_tokens, cached_input_tokens, input_audio_tokens, input_image_tokens, "
        "cached_input_audio_tokens, cached_input_image_tokens, output_tokens, "
        "output_audio_tokens, output_image_tokens, cache_write_input_tokens "
        "FROM intermediate.usage_daily WHERE project_id IS NULL").fetchall()
    assert left == (400, 200, 200, 0, 200, 0, 50, 50, 0, 0)
