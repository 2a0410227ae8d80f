"""great-expectations checks in real runs: results persisted, ERROR checks block, WARN report."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import OrderedDict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from tests.conftest import REPO, run_job, unique_dict
from tests.exports import TEAMS

if TYPE_CHECKING:
    import dagster as dg


def _report_data(radar):
    """What the weekly report collects over the test warehouse, as of the fixture's as-of."""
    from pipelines.reports.report import collect
    from tests.exports import AS_OF

    con = duckdb.connect(str(radar.warehouse), read_only=True)
    try:
        return collect(con, dt.date.fromisoformat(AS_OF))
    finally:
        con.close()


def report_health(radar) -> dict:
    """The weekly report's data-health figures over the test warehouse, as of the fixture's
    as-of date."""
    return _report_data(radar).health


def report_headline(radar) -> list[str]:
    """The lines of the weekly report's headline over the test warehouse."""
    from pipelines.reports.report import headline_lines

    return headline_lines(_report_data(radar))


def check_evaluations(result) -> dict[str, tuple[bool, str]]:
    out = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            out[data.check_name] = (data.passed, data.severity.value)
    return out


def observed_of(evaluation: dg.AssetCheckEvaluation) -> dict[str, Any]:
    """The JSON object a check put in its evaluation's ``observed`` metadata."""
    value = evaluation.metadata["observed"].value
    assert isinstance(value, dict), value
    return value


def test_checks_run_and_results_are_persisted(fixture_refresh):
    fixture_exports, result = fixture_refresh
    evaluations = check_evaluations(result)
    assert evaluations["staging_usage_is_valid"] == (True, "ERROR")
    assert evaluations["costs_reconcile_across_layers"] == (True, "ERROR")
    assert evaluations["deprecated_totals_match_daily"] == (True, "ERROR")
    assert evaluations["catalog_prices_are_valid"] == (True, "ERROR")
    assert evaluations["landing_folder_has_exports"] == (True, "WARN")
    assert evaluations["team_directory_reads_cleanly"] == (True, "WARN")
    # the fixture has a negative count and a JSON file that is not a usage page
    assert evaluations["nothing_quarantined_this_run"] == (False, "WARN")
    rows = fixture_exports.query(
        'SELECT "check", severity, passed, observed, run_id FROM quality.check_results')
    assert {r[0] for r in rows} == set(evaluations)
    assert {r[4] for r in rows} == {result.run_id}
    quarantine = json.loads(next(r[3] for r in rows if r[0] == "nothing_quarantined_this_run"))
    assert {q["status"] for q in quarantine["quarantined"]} == {"loaded", "rejected"}
    # the fixture's OpenAI exports stop 3-4 days before as-of, its gateway logs 1 day before
    assert evaluations["usage_is_current"] == (False, "WARN")
    freshness = json.loads(next(r[3] for r in rows if r[0] == "usage_is_current"))
    assert {s["source"]: s["days_behind"] for s in freshness["sources"]} == {
        "litellm": 1, "openai_dashboard": 3, "openai_usage_api": 4}


def test_gateway_calls_that_are_not_model_usage_do_not_warn(radar, refresh):
    """A gateway that also serves rerank and file uploads: those rows are set aside with
    their reason (nothing lost) but the quarantine check and the report do not count them as
    a data problem; a real bad row still warns."""
    import csv

    from pipelines.lib.schema import NOT_MODEL_USAGE
    from pipelines.reports.report import rejected_line
    from tests.exports import LITELLM_HEADER, litellm_row

    def export(name, rows):
        with (radar.landing / name).open("w", newline="") as fh:
            csv.writer(fh).writerows([LITELLM_HEADER, *rows])

    def call(rid, call_type, prompt=0, completion=0):
        row = litellm_row(rid, "rerank-v3.5" if "rerank" in call_type else "gpt-4o", prompt,
                          completion, "", "search", "success", day="2026-11-24")
        row[1] = call_type
        return row

    export("spend-1.csv", [call("r1", "acompletion", 100, 10), call("r2", "arerank", 40),
                           call("r3", "acreate_file"), call("r4", "aretrieve_batch")])
    export("spend-2.csv", [call("r5", "arerank", 7)])  # nothing but calls that are no usage
    result = refresh()
    assert check_evaluations(result)["nothing_quarantined_this_run"] == (True, "WARN")
    (observed,) = radar.query("SELECT observed FROM quality.check_results "
                              "WHERE \"check\" = 'nothing_quarantined_this_run'")[0]
    assert json.loads(observed)["not_model_usage_this_run"] == 4
    assert radar.query("SELECT count(*) FROM staging.rejected_rows "
                       "WHERE starts_with(reason, $p)", {"p": NOT_MODEL_USAGE}) == [(4,)]
    files = radar.query("SELECT path, status, rows_loaded, rows_rejected, error "
                        "FROM staging.ingested_files ORDER BY path")
    assert [(f[1], f[2], f[3]) for f in files] == [("loaded", 1, 3), ("loaded", 0, 1)]
    assert "(3 of them not model usage)" in files[0][4]
    assert radar.query("SELECT sum(requests) FROM marts.usage_cost_daily") == [(1,)]

    # a completed batch's tokens cannot be placed, and a negative count is bad input: warned
    export("spend-3.csv", [call("r6", "aretrieve_batch", 5000, 900),
                           call("r7", "acompletion", -1)])
    result = refresh()
    assert check_evaluations(result)["nothing_quarantined_this_run"] == (False, "WARN")
    (observed,) = radar.query(
        "SELECT observed FROM quality.check_results WHERE \"check\" = "
        "'nothing_quarantined_this_run' AND run_id = $run", {"run": result.run_id})[0]
    (bad,) = json.loads(observed)["quarantined"]
    assert bad["rows_quarantined"] == 2 and bad["status"] == "rejected"

    health = report_health(radar)
    assert (health["rejected_rows_total"], health["not_usage_rows_total"]) == (2, 4)
    assert "Set aside as well: 4 rows this week that are not model usage" in \
        rejected_line(health)


def test_the_catalog_age_is_checked_against_as_of(radar, refresh, monkeypatch):
    """catalog_is_recent: WARN when the catalog's newest knowledge of retirements is more
    than RADAR_CATALOG_MAX_AGE_DAYS before as-of; a lifecycle override announcing a newer
    retirement brings it up to that day."""
    from tests.test_report import catalog_known_through

    def observed(result):
        (text,) = radar.query("SELECT observed FROM quality.check_results WHERE \"check\" = "
                              "'catalog_is_recent' AND run_id = $run", {"run": result.run_id})[0]
        return json.loads(text)

    known = catalog_known_through()
    monkeypatch.setenv("RADAR_AS_OF", str(known + dt.timedelta(days=61)))
    result = refresh()
    assert check_evaluations(result)["catalog_is_recent"] == (False, "WARN")
    seen = observed(result)
    assert (seen["known_through"], seen["age_days"], seen["max_age_days"]) == (
        str(known), 61, 60)
    assert any(s["as_of"] == str(known) for s in seen["lifecycle_sources"])

    monkeypatch.setenv("RADAR_CATALOG_MAX_AGE_DAYS", "61")
    assert check_evaluations(refresh())["catalog_is_recent"] == (True, "WARN")

    monkeypatch.delenv("RADAR_CATALOG_MAX_AGE_DAYS")
    overrides = radar.root / "lifecycle.csv"
    announced = known + dt.timedelta(days=40)
    overrides.write_text("model,announced_date,shutdown_date,replacement_model\n"
                         f"gpt-5.6-sol,{announced},{announced + dt.timedelta(days=90)},\n")
    monkeypatch.setenv("RADAR_LIFECYCLE_OVERRIDES", str(overrides))
    result = refresh()
    assert check_evaluations(result)["catalog_is_recent"] == (True, "WARN")
    assert observed(result)["age_days"] == 21


def test_catalog_conflicts_warn_only_for_models_in_use(radar, refresh):
    """catalog_sources_agree: a disagreement between the catalog's sources about a model
    nobody calls changes no figure (listed, no warning); once a model in use is concerned
    (here through its dated snapshot), it warns."""
    import csv

    import pytest

    from pipelines.settings import CATALOG_DATA_DIR
    from tests.exports import LITELLM_HEADER, litellm_row

    with (CATALOG_DATA_DIR / "catalog_conflicts.csv").open() as fh:
        conflicts = list(csv.DictReader(fh))
    if not conflicts:
        pytest.skip("the shipped catalog's sources agree everywhere")
    conflicted = conflicts[0]["model"]

    def observed(result):
        (text,) = radar.query("SELECT observed FROM quality.check_results WHERE \"check\" = "
                              "'catalog_sources_agree' AND run_id = $run",
                              {"run": result.run_id})[0]
        return json.loads(text)

    def export(name, model):
        with (radar.landing / name).open("w", newline="") as fh:
            csv.writer(fh).writerows([LITELLM_HEADER, litellm_row(
                name, model, 100, 10, "", "search", "success", day="2026-11-24")])

    export("a.csv", "gpt-4o-2024-08-06")
    result = refresh()
    assert check_evaluations(result)["catalog_sources_agree"] == (True, "WARN")
    seen = observed(result)
    assert seen["conflicts"] == len(conflicts)
    assert seen["conflicts_on_models_in_use"] == []
    assert conflicted in {c["model"] for c in seen["other_conflicts"]}

    export("b.csv", f"{conflicted}-2025-10-06")  # a dated snapshot resolves to its base
    result = refresh()
    assert check_evaluations(result)["catalog_sources_agree"] == (False, "WARN")
    assert {c["model"] for c in observed(result)["conflicts_on_models_in_use"]} == {conflicted}


def test_unpriced_replacements_warn_only_where_a_caller_is_pointed_to_them(
        fixture_exports, refresh, monkeypatch):
    """replacements_are_priced: the catalog names replacements it has no price for (new
    models, moderation, images); that changes a figure only where a deprecated model in use
    is pointed to one, and only then warns."""
    def observed(result):
        (text,) = fixture_exports.query(
            "SELECT observed FROM quality.check_results WHERE \"check\" = "
            "'replacements_are_priced' AND run_id = $run", {"run": result.run_id})[0]
        return json.loads(text)

    result = refresh()
    assert check_evaluations(result)["replacements_are_priced"] == (True, "WARN")
    seen = observed(result)
    assert seen["unpriced_replacements_in_use"] == []
    assert seen["unpriced_replacements"]  # the shipped catalog has some, for models not used

    overrides = fixture_exports.root / "lifecycle.csv"
    overrides.write_text("model,announced_date,shutdown_date,replacement_model\n"
                         "gpt-4o-2024-08-06,2026-07-01,2027-01-14,gpt-unpriced-successor\n")
    monkeypatch.setenv("RADAR_LIFECYCLE_OVERRIDES", str(overrides))
    result = refresh()
    assert check_evaluations(result)["replacements_are_priced"] == (False, "WARN")
    assert observed(result)["unpriced_replacements_in_use"] == ["gpt-unpriced-successor"]
    assert fixture_exports.query(
        "SELECT DISTINCT replacement_model, replacement_cost_usd_28d FROM "
        "marts.deprecated_model_usage WHERE model = 'gpt-4o-2024-08-06'") == [
        ("gpt-unpriced-successor", None)]


def test_usage_up_to_yesterday_is_current(radar, refresh):
    from tests.exports import RESULT_C, bucket, page

    (radar.landing / "usage.json").write_text(json.dumps(page([bucket("2026-11-24", [RESULT_C])])))
    assert check_evaluations(refresh())["usage_is_current"] == (True, "WARN")


def test_unpriced_share_threshold_is_configurable(fixture_exports, monkeypatch):
    # 1 unpriced request of 154 in the window: passes at 5%, fails at 0.1%
    monkeypatch.setenv("RADAR_UNPRICED_MAX_SHARE", "0.001")
    result = run_job()
    assert result.success  # WARN does not fail the run
    assert check_evaluations(result)["unpriced_share_is_small"] == (False, "WARN")


def test_a_landing_folder_that_is_not_there_is_said_not_read_as_no_usage(
        fixture_exports, refresh, monkeypatch):
    refresh()
    before = fixture_exports.query("SELECT sum(requests), sum(cost_usd) FROM "
                                   "marts.usage_cost_daily")
    # a typo (or a share not mounted): the run succeeds, the numbers stay, the check says why
    missing = fixture_exports.root / "landng"
    monkeypatch.setenv("RADAR_LANDING_DIR", str(missing))
    result = run_job()
    assert result.success
    assert check_evaluations(result)["landing_folder_has_exports"] == (False, "WARN")
    assert fixture_exports.query("SELECT sum(requests), sum(cost_usd) FROM "
                                 "marts.usage_cost_daily") == before
    (observed,) = fixture_exports.query(
        "SELECT observed FROM quality.check_results WHERE \"check\" = 'landing_folder_has_exports' "
        "AND run_id = $run", {"run": result.run_id})[0]
    assert json.loads(observed)["landing_dir"] == str(missing)
    (files,) = [m for m in result.asset_materializations_for_node("ingest_landing_folder")
                if m.asset_key.path == ["staging", "ingested_files"]]
    assert files.metadata["landing_dir_exists"].value is False


def test_exports_of_two_organisations_in_one_landing_folder_warn(radar):
    """Two organisations' ungrouped bills of the same day have the same bucket key: only the
    newer counts, and nothing else would say so. The dashboard's cost view names its
    organisation, so the check does: one organisation in two files passes, a second fails
    and is listed with its file."""
    header = ("start_time,end_time,start_time_iso,end_time_iso,amount_value,amount_currency,"
              "line_item,project_id,organization_id,organization_name")
    day = "1795392000,1795478400,2026-11-23T00:00:00+00:00,2026-11-24T00:00:00+00:00"

    def bill(name: str, org: str, amount: str) -> None:
        (radar.landing / name).write_text(f"{header}\n{day},{amount},usd,,,{org},Org {org}\n")

    bill("acme-nov.csv", "org-acme", "10.00")
    bill("acme-nov-again.csv", "org-acme", "10.50")
    result = run_job()
    assert result.success
    assert check_evaluations(result)["one_organisation_per_landing_folder"] == (True, "WARN")
    assert report_health(radar)["organisations"] == ["org-acme"]
    assert not any("Several organisations" in line for line in report_headline(radar))
    bill("beta-nov.csv", "org-beta", "7.25")  # the same day, no project: the same key
    result = run_job()
    assert result.success
    evaluation = next(e.asset_check_evaluation_data for e in result.all_events
                      if e.event_type_value == "ASSET_CHECK_EVALUATION"
                      and e.asset_check_evaluation_data.check_name
                      == "one_organisation_per_landing_folder")
    assert (evaluation.passed, evaluation.severity.value) == (False, "WARN")
    assert observed_of(evaluation)["organisations"] == [
        {"organization_id": "org-acme", "files": 2,
         "first_file": str(radar.landing / "acme-nov-again.csv")},
        {"organization_id": "org-beta", "files": 1,
         "first_file": str(radar.landing / "beta-nov.csv")}]
    # ... which is what the warning is for: one bill of the day counts, the newest file's
    assert radar.query("SELECT sum(billed_usd) FROM marts.cost_reconciliation") == [(
        Decimal("7.25"),)]
    # and the weekly report's headline says it first thing
    assert [line for line in report_headline(radar) if "Several organisations" in line] == [
        "**Several organisations in one landing folder**: the exports name 2 OpenAI "
        "organisations (org-acme, org-beta). Usage or bills of one day that two of them saved "
        "without grouping by project look like the same usage saved twice, and count once: "
        "give each organisation its own landing folder and working file (README, "
        "troubleshooting; check `one_organisation_per_landing_folder` lists their files)."]


def test_a_team_directory_that_is_not_there_fails_the_run_and_names_the_setting(
        fixture_exports, monkeypatch):
    monkeypatch.setenv("RADAR_TEAMS_FILE", str(fixture_exports.root / "teams-typo.csv"))
    result = run_job()
    assert not result.success
    errors = [str(e.step_failure_data.error) for e in result.all_events if e.is_step_failure]
    assert any("RADAR_TEAMS_FILE names" in m and "does not exist" in m for m in errors)
    # nothing was attributed with a guess: no mart of teams was built from an empty
    # directory (marts.accounts, the names the exports give, needs none)
    assert not fixture_exports.warehouse.exists() or not fixture_exports.query(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'marts' "
        "AND column_name = 'team'")[0][0]


def test_a_team_directory_line_that_does_not_map_warns_and_the_others_map(
        fixture_exports, refresh):
    """team_directory_reads_cleanly: a typo in the team directory (a stray quote, here on the
    line before alpha's) was only a line in the run log, and it stopped the read, so alpha's
    usage went to unassigned. The line is now skipped alone, the run succeeds, and the
    check warns, naming the line; with the line mended it passes."""
    def teams_of_usage() -> set[str]:
        return {t for (t,) in fixture_exports.query(
            "SELECT DISTINCT team FROM marts.usage_cost_daily")}

    fixture_exports.teams.write_text(
        'key_type,key_value,team\napi_key_id,key_batch,"batch-team\nproject_id,proj_a,alpha\n'
        'litellm_team_id,team-x,growth\n')
    result = refresh()
    assert check_evaluations(result)["team_directory_reads_cleanly"] == (False, "WARN")
    (observed,) = fixture_exports.query(
        "SELECT observed FROM quality.check_results WHERE \"check\" = "
        "'team_directory_reads_cleanly' AND run_id = $run", {"run": result.run_id})[0]
    found = json.loads(observed)
    assert (found["keys_mapped"], found["lines_not_read"]) == (2, 1)
    assert found["problems"][0].startswith("teams.csv line 2 has a quoted value that does "
                                           "not close on it")
    assert {"alpha", "growth"} <= teams_of_usage()
    assert "batch-team" not in teams_of_usage()
    assert fixture_exports.query("SELECT position, problem FROM "
                                 "catalog.team_directory_problems") == [(1, found["problems"][0])]

    fixture_exports.teams.write_text(TEAMS)
    result = refresh()
    assert check_evaluations(result)["team_directory_reads_cleanly"] == (True, "WARN")
    assert "batch-team" in teams_of_usage()


def test_failed_blocking_check_keeps_bad_data_out_of_the_marts(fixture_exports, refresh):
    refresh()
    before = fixture_exports.query("SELECT sum(requests) FROM marts.usage_cost_daily")
    published_before = (fixture_exports.publish / "radar.duckdb").stat().st_mtime_ns
    # corrupt staging behind the pipeline's back: the same bucket twice (double counting)
    con = duckdb.connect(str(fixture_exports.warehouse))
    con.execute("INSERT INTO staging.usage SELECT * FROM staging.usage "
                "WHERE model = 'gpt-5.6-sol'")
    con.close()
    # a new export for the same day arrives: the check validates the days this run touched
    from tests.exports import RESULT_C, bucket, page
    (fixture_exports.landing / "late.json").write_text(json.dumps(page([
        bucket("2026-11-21", [dict(RESULT_C, api_key_id="key_late")])])))
    result = run_job()
    assert not result.success
    assert check_evaluations(result)["staging_usage_is_valid"] == (False, "ERROR")
    assert fixture_exports.query("SELECT sum(requests) FROM marts.usage_cost_daily") == before
    assert (fixture_exports.publish / "radar.duckdb").stat().st_mtime_ns == published_before


WORKER_SUITE: list[tuple[str, dict[str, Any]]] = [
    ("ExpectColumnValuesToNotBeNull", {"column": "a"}),
    ("ExpectColumnValuesToBeBetween", {"column": "b", "min_value": 0})]


def test_the_validation_worker_gives_the_in_process_result():
    """The suites of a run are validated by a child process (GX imported off the run's
    GIL); its outcome is the one GX gives here."""
    from pipelines.quality import gx

    frame = pl.DataFrame({"a": [1, None, 3], "b": [0, 1, -1]})
    worker = gx._Worker()
    try:
        there = worker.call(("worker_suite", frame, WORKER_SUITE))
        again = worker.call(("worker_suite", frame.drop_nulls().filter(pl.col("b") >= 0),
                             WORKER_SUITE))
    finally:
        worker.stop()
    assert worker.proc.returncode == 0  # it exits when its input closes
    here = gx.validate_here("worker_suite", frame, WORKER_SUITE)
    assert (there.passed, there.evaluated, there.failed) == (here.passed, here.evaluated,
                                                             here.failed)
    assert not there.passed and len(there.failed) == 2
    assert again.passed and again.rows_validated == 1


def test_a_suite_is_sent_only_the_columns_its_expectations_read():
    from pipelines.quality import gx

    frame = pl.DataFrame({"a": [1], "b": [2], "c": [3], "d": [4]})
    pair = ("ExpectColumnPairValuesAToBeGreaterThanB", {"column_A": "c", "column_B": "a"})
    missing = ("ExpectColumnValuesToNotBeNull", {"column": "zz"})
    assert gx.only_used_columns(frame, [pair, missing]).columns == ["a", "c"]
    whole = ("ExpectTableRowCountToEqual", {"value": 1})
    assert gx.only_used_columns(frame, [pair, whole]).columns == ["a", "b", "c", "d"]
    # a column no longer sent cannot hide a failure: the missing one still fails the suite
    outcome = gx.validate("projection", frame, [pair, missing])
    assert not outcome.passed and [f["columns"] for f in outcome.failed] == ["zz"]


def test_a_long_ingest_lowers_the_priority_of_the_worker_a_short_one_does_not(monkeypatch):
    from pipelines.quality import gx
    from pipelines.resources import LONG_INGEST_BYTES, GreatExpectationsResource

    worker = gx._Worker()
    monkeypatch.setattr(gx, "_WORKER", worker)
    try:
        before = os.getpriority(os.PRIO_PROCESS, worker.proc.pid)
        resource = GreatExpectationsResource()
        assert not resource.ingest_ahead(LONG_INGEST_BYTES - 1)
        assert os.getpriority(os.PRIO_PROCESS, worker.proc.pid) == before
        assert not GreatExpectationsResource(in_worker=False).ingest_ahead(LONG_INGEST_BYTES)
        assert resource.ingest_ahead(LONG_INGEST_BYTES)
        assert os.getpriority(os.PRIO_PROCESS, worker.proc.pid) == min(19, before + 10)
        # it still validates, at its lower priority
        outcome = gx.validate("worker_suite", pl.DataFrame({"a": [1], "b": [1]}), WORKER_SUITE)
        assert outcome.passed
    finally:
        worker.stop()


def _printed_lines(code: str) -> list[str]:
    """What ``code`` prints, run by a new Python, as the worker's imports happen in one."""
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, check=True,
                          env={**os.environ, "GX_ANALYTICS_ENABLED": "false"}).stdout.split("\n")


def test_the_worker_defers_scipy_stats_until_something_uses_it():
    """GX imports scipy.stats for expectations our suites never use; the worker loads it on
    first use instead. Imported GX must work, and so must scipy.stats once it is called."""
    code = (
        "import sys\n"
        "from pipelines.quality.gx_worker import defer_import\n"
        "assert defer_import('scipy.stats') is not None\n"
        "import great_expectations\n"
        "print('before', 'scipy.stats._stats_py' in sys.modules)\n"
        "from scipy import stats\n"
        "print('value', round(float(stats.entropy([0.5, 0.5])), 6))\n"
        "print('after', 'scipy.stats._stats_py' in sys.modules)\n"
        "print('again', defer_import('scipy.stats'))\n"
    )
    out = _printed_lines(code)
    assert out[:4] == ["before False", "value 0.693147", "after True", "again None"]


def test_the_worker_defers_altair_a_top_level_package_until_something_uses_it():
    """altair is a top-level package that GX imports with ``import altair as alt``, which a
    lazy module of importlib would not survive: the worker puts a stand-in in its place."""
    code = (
        "import sys\n"
        "from pipelines.quality.gx_worker import defer_import\n"
        "assert defer_import('altair') is not None\n"
        "import great_expectations\n"
        "from great_expectations.expectations.core import "
        "expect_column_kl_divergence_to_be_less_than as kl\n"
        "print('before', 'altair.vegalite' in sys.modules, type(kl.alt).__name__)\n"
        "print('value', kl.alt.Chart.__name__)\n"
        "import altair\n"
        "print('after', 'altair.vegalite' in sys.modules, type(altair).__name__)\n"
        "print('again', defer_import('altair'))\n"
    )
    out = _printed_lines(code)
    assert out[:4] == ["before False StandIn", "value Chart", "after True module",
                       "again None"]


def test_a_worker_that_died_is_replaced_by_validation_in_process(monkeypatch):
    from pipelines.quality import gx

    monkeypatch.setattr(gx, "_OUTCOMES", OrderedDict())  # nothing validated before here
    worker = gx._Worker()
    worker.proc.kill()
    worker.proc.wait()
    monkeypatch.setattr(worker, "alive", lambda: True)  # it died after the last look
    monkeypatch.setattr(gx, "_WORKER", worker)
    outcome = gx.validate("worker_suite", pl.DataFrame({"a": [None], "b": [1]}), WORKER_SUITE)
    assert not outcome.passed and outcome.failed[0]["columns"] == "a"
    assert gx._WORKER is None  # from now on this process validates itself


def test_a_suite_validated_before_in_the_process_gives_that_outcome_again(monkeypatch):
    """The same rows (values and types, in any order) with the same expectations under the
    same name are validated once per process; any difference in one of them is validated
    anew."""
    from pipelines.quality import gx

    monkeypatch.setattr(gx, "_OUTCOMES", OrderedDict())
    validated: list[str] = []
    real = gx._validate

    def counted(name, frame, expectations):
        validated.append(name)
        return real(name, frame, expectations)

    monkeypatch.setattr(gx, "_validate", counted)
    frame = pl.DataFrame({"a": [1, None, 3], "b": [0, 1, -1]})
    first = gx.validate("memo", frame, WORKER_SUITE)
    again = gx.validate("memo", frame.clone(), WORKER_SUITE)
    assert validated == ["memo"]
    assert not first.reused and again.reused
    assert (again.passed, again.evaluated, again.rows_validated, again.failed) == (
        first.passed, first.evaluated, first.rows_validated, first.failed)
    assert not again.passed and len(again.failed) == 2
    assert json.loads(json.dumps(again.observed()))["reused"] is True
    assert "reused" not in first.observed()
    assert again.markdown().startswith(first.markdown()) and "earlier in this process" in (
        again.markdown())
    # each caller gets an outcome of its own
    again.failed.clear()
    assert len(gx.validate("memo", frame, WORKER_SUITE).failed) == 2
    # the same rows in another order (no expectation of ours reads the order)
    assert gx.validate("memo", frame.reverse(), WORKER_SUITE).reused
    # one value, a column's type or name, a row more, the expectations or the name differs
    fixed = gx.validate("memo", frame.with_columns(pl.col("b").abs()), WORKER_SUITE)
    assert not fixed.reused and [f["columns"] for f in fixed.failed] == ["a"]
    as_float = gx.validate("memo", frame.with_columns(pl.col("b").cast(pl.Float64)),
                           WORKER_SUITE)
    renamed_column = gx.validate("memo", frame.rename({"b": "c"}), WORKER_SUITE)
    assert sorted(f["columns"] for f in renamed_column.failed) == ["a", "b"]  # b is missing
    twice = gx.validate("memo", pl.concat([frame, frame]), WORKER_SUITE)
    assert twice.rows_validated == 6
    looser = [WORKER_SUITE[0], ("ExpectColumnValuesToBeBetween",
                                {"column": "b", "min_value": -1})]
    assert len(gx.validate("memo", frame, looser).failed) == 1
    renamed = gx.validate("memo_too", frame, WORKER_SUITE)
    assert not any(o.reused for o in (as_float, renamed_column, twice, renamed))
    assert renamed.suite == "memo_too"
    assert validated == ["memo"] * 6 + ["memo_too"]
    # a frame polars cannot hash is validated each time
    objects = pl.DataFrame({"a": [object()], "b": [1]}, schema={"a": pl.Object, "b": pl.Int64})
    assert gx.validation_key("memo", objects, WORKER_SUITE) is None


def test_only_the_latest_outcomes_are_remembered(monkeypatch):
    from pipelines.quality import gx

    monkeypatch.setattr(gx, "_OUTCOMES", OrderedDict())
    monkeypatch.setattr(gx, "REMEMBERED_OUTCOMES", 2)
    frames = [pl.DataFrame({"a": [i], "b": [i]}) for i in range(3)]
    for frame in [*frames, frames[1]]:  # the last look-up makes frame 1 the newest
        gx.validate("bounded", frame, WORKER_SUITE)
    assert len(gx._OUTCOMES) == 2
    assert gx.validate("bounded", frames[1], WORKER_SUITE).reused
    assert gx.validate("bounded", frames[2], WORKER_SUITE).reused
    assert not gx.validate("bounded", frames[0], WORKER_SUITE).reused


def test_callers_that_do_not_add_up_to_their_row_fail_the_check(fixture_exports, refresh):
    """callers_add_up_to_deprecated_usage passes on a real run, and fails, naming the row,
    when the callers of a team, endpoint and model say more or less than its row of
    deprecated_model_usage (here edited behind the pipeline's back, then the check run
    alone)."""
    import dagster as dg

    from pipelines.definitions import build_defs
    from pipelines.quality.checks import CALLERS

    assert check_evaluations(refresh())["callers_add_up_to_deprecated_usage"] == (True, "ERROR")
    key = dg.AssetCheckKey(CALLERS, "callers_add_up_to_deprecated_usage")
    only_check = dg.Definitions.merge(build_defs(), dg.Definitions(jobs=[dg.define_asset_job(
        "only_check", selection=dg.AssetSelection.checks(key))])).resolve_job_def("only_check")

    def observed_after(edit: str) -> dict:
        con = duckdb.connect(str(fixture_exports.warehouse))
        con.execute(edit)
        con.close()
        result = only_check.execute_in_process(instance=dg.DagsterInstance.ephemeral(),
                                               raise_on_error=False)
        assert check_evaluations(result)["callers_add_up_to_deprecated_usage"] == (
            False, "ERROR")
        (evaluation,) = [e.asset_check_evaluation_data for e in result.all_events
                         if e.event_type_value == "ASSET_CHECK_EVALUATION"]
        return observed_of(evaluation)

    observed = observed_after(
        "UPDATE marts.deprecated_model_callers SET cost_usd_28d = cost_usd_28d + 0.0000000001 "
        "WHERE team = 'alpha' AND model = 'gpt-4o-mini-2024-07-18'")
    assert observed["rows_that_differ"] == [["alpha", "gpt-4o-mini-2024-07-18"]]
    observed = observed_after("DELETE FROM marts.deprecated_model_callers WHERE team = 'growth'")
    assert ["growth", "gpt-4.1-nano-2025-04-14"] in observed["rows_that_differ"]


def test_an_account_named_twice_fails_the_check(fixture_exports, refresh):
    """accounts_are_unique passes on a real run; a second row for a key (edited in behind
    the pipeline's back, then the check run alone) would count its callers twice, and fails
    it, as a row without an id or of an unknown kind does."""
    import dagster as dg

    from pipelines.definitions import build_defs
    from pipelines.quality.checks import ACCOUNTS

    assert check_evaluations(refresh())["accounts_are_unique"] == (True, "ERROR")
    key = dg.AssetCheckKey(ACCOUNTS, "accounts_are_unique")
    only_check = dg.Definitions.merge(build_defs(), dg.Definitions(jobs=[dg.define_asset_job(
        "only_check", selection=dg.AssetSelection.checks(key))])).resolve_job_def("only_check")
    for edit in ("INSERT INTO marts.accounts VALUES ('api_key', 'key_a', 'a', NULL, 'litellm'), "
                 "('api_key', 'key_a', 'b', NULL, 'openai_api_keys_json')",
                 "INSERT INTO marts.accounts VALUES ('project', NULL, 'a', NULL, 'x')",
                 "INSERT INTO marts.accounts VALUES ('team', 't', 'a', NULL, 'x')"):
        con = duckdb.connect(str(fixture_exports.warehouse))
        con.execute("DELETE FROM marts.accounts")
        con.execute(edit)
        con.close()
        result = only_check.execute_in_process(instance=dg.DagsterInstance.ephemeral(),
                                               raise_on_error=False)
        assert check_evaluations(result)["accounts_are_unique"] == (False, "ERROR"), edit


def test_a_check_frame_past_its_bound_is_a_sample_cut_at_it():
    from pipelines.quality.checks import MAX_VALIDATED_ROWS, sample_clause

    assert sample_clause(MAX_VALIDATED_ROWS) == ""  # what fits is validated whole
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS i FROM range(20000)")
    assert con.execute(f"SELECT count(*) FROM t {sample_clause(20000, 20000)}").fetchall() \
        == [(20000,)]
    sizes = []
    for limit in (500, 5000):
        rows = [i for (i,) in con.execute(f"SELECT i FROM t {sample_clause(20000, limit)}")
                .fetchall()]
        sizes.append(len(rows))
        # never more than the bound, and about as many (a Bernoulli draw of that expected size:
        # within five standard deviations), spread over the whole table
        assert limit - 5 * (limit ** 0.5) <= len(rows) <= limit
        assert len(set(rows)) == len(rows) and min(rows) < 2000 and max(rows) > 18000
    assert sizes[0] < sizes[1]


def test_the_staging_check_validates_a_bounded_sample_of_the_runs_rows(
        fixture_exports, refresh, monkeypatch):
    """Past the bound, a sample of it; within it, every row the run loaded, however many
    rows the history holds (a sample drawn from the whole table first, as until 2026-12-05,
    validated a fraction of them: 233 of 1,200 on a 525,600-row history)."""
    from tests.exports import RESULT_C, bucket, page

    def validated(run_id: str) -> int:
        (observed,) = fixture_exports.query(
            "SELECT observed FROM quality.check_results "
            "WHERE \"check\" = 'staging_usage_is_valid' AND run_id = $run", {"run": run_id})[0]
        return json.loads(observed)["rows_validated"]

    monkeypatch.setattr("pipelines.quality.checks.MAX_VALIDATED_ROWS", 2)
    result = refresh()
    (loaded,) = fixture_exports.query("SELECT count(*) FROM staging.usage")[0]
    assert loaded > 2
    assert validated(result.run_id) <= 2  # a Bernoulli draw of 2 expected rows
    # a later run loads two rows onto that history: both are validated
    (fixture_exports.landing / "late.json").write_text(json.dumps(page([
        bucket("2026-11-21", [dict(RESULT_C, api_key_id=f"key_late_{i}") for i in range(2)])])))
    result = refresh()
    assert fixture_exports.query(
        "SELECT count(*) FROM staging.usage WHERE file_id IN (SELECT file_id "
        "FROM staging.ingested_files WHERE run_id = $run)", {"run": result.run_id}) == [(2,)]
    assert validated(result.run_id) == 2


def test_a_file_read_again_after_an_upgrade_is_told_from_new_rejections(radar, refresh,
                                                                        monkeypatch):
    """Older readers (this version with its UTF-16 repair taken out, its version number set
    back) reject a UTF-16 sheet and a picture. After the upgrade both are read again: the
    sheet loads, the picture is rejected again, and a new bad file arrives. The manifest says
    which files were read again and when they were first rejected; the report counts the
    week's rejections and says how many of them are old ones read again."""

    from pipelines.lib import ingest as ingest_module
    from pipelines.reports.report import rejected_line
    from tests.test_text_repairs import dashboard, spend_log

    (radar.landing / "activity.txt").write_bytes(dashboard("\t").encode("utf-16"))
    (radar.landing / "spend.csv").write_bytes(spend_log())
    (radar.landing / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with monkeypatch.context() as old:
        old.setattr(ingest_module, "READER_VERSION", 1)
        old.setattr(ingest_module, "text_repairs", lambda head: ())
        refresh()
    first = unique_dict(radar.query("SELECT regexp_extract(path, '[^/]+$'), status "
                                    "FROM staging.ingested_files"))
    assert first == {"activity.txt": "rejected", "spend.csv": "loaded",
                     "picture.png": "rejected"}
    ((rejected_at,),) = radar.query("SELECT DISTINCT CAST(ingested_at AS DATE) "
                                    "FROM staging.ingested_files WHERE status = 'rejected'")
    (radar.landing / "broken.json").write_text("{\"object\": \"page\", \"data\": [")
    refresh()
    manifest = unique_dict((name, (status, note)) for name, status, note in radar.query(
        "SELECT regexp_extract(path, '[^/]+$'), status, note FROM staging.ingested_files"))
    again = (f"read again after an upgrade of the readers (rejected whole on {rejected_at} by "
             "an older version)")
    assert manifest == {"activity.txt": ("loaded", f"decoded from UTF-16; {again}"),
                        "spend.csv": ("loaded", None),
                        "picture.png": ("rejected", again),
                        "broken.json": ("rejected", None)}
    health = report_health(radar)
    assert (health["rejected_files_week"], health["retried_files_week"]) == (2, 1)
    assert rejected_line(health).startswith(
        "Rejected this week: 2 files (1 of them rejected before by an older version, read "
        "again after an upgrade of the readers), ")
    health["retried_files_week"] = 0
    assert rejected_line(health).startswith("Rejected this week: 2 files, ")
