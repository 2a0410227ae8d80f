"""Layer 3: the code location loads, with the contract's jobs and a grouped asset graph."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.resources import RadarConfig, run_start_day
from tests.conftest import REPO


def test_definitions_load_with_contract_jobs():
    from pipelines.definitions import defs

    jobs = {j.name for j in defs.resolve_all_job_defs()}
    assert {"radar_refresh", "weekly_migration_report", "openai_api_sync"} <= jobs
    graph = defs.resolve_asset_graph()
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert {"catalog", "staging", "intermediate", "marts"} <= groups
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, key
        assert node.owners, key
    # a backfill of the API pull is one run (its beta warning is silenced, not the policy)
    pull = defs.resolve_assets_def(dg.AssetKey(["sync", "openai_api_pages"]))
    assert pull.backfill_policy == dg.BackfillPolicy.single_run()


def test_every_sql_model_file_is_used():
    from pipelines.definitions import defs
    from pipelines.settings import SQL_DIR

    graph = defs.resolve_asset_graph()
    used = {str(graph.get(k).metadata.get("sql_file")) for k in graph.get_all_asset_keys()}
    for path in (SQL_DIR / "marts").glob("*.sql"):
        assert f"sql/marts/{path.name}" in used


def test_import_is_fast_and_does_not_import_great_expectations():
    code = ("import sys, time; t = time.perf_counter(); import pipelines.definitions; "
            "from pipelines.quality import gx; "
            "print(time.perf_counter() - t, 'great_expectations' in sys.modules, "
            "'httpx' in sys.modules, gx._WORKER is not None)")
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout.split()
    print(f"import pipelines.definitions: {float(out[0]):.2f}s "
          f"(process {time.perf_counter() - start:.2f}s)")
    assert out[1] == "False"
    # the API client's HTTP library loads when the sync job makes a client, not before
    assert out[2] == "False"
    # loading the code location outside a run (webserver, daemon, tests) starts no worker
    assert out[3] == "False"


@pytest.mark.parametrize(("argv", "expected"), [
    (["/venv/bin/dagster", "job", "execute", "-m", "pipelines.definitions"], True),
    (["/venv/lib/dagster/__main__.py", "asset", "materialize", "--select", "x"], True),
    (["dagster", "api", "execute_run", "{}"], True),
    (["dagster", "api", "grpc", "-m", "pipelines.definitions"], False),
    (["dagster-webserver", "-m", "pipelines.definitions"], False),
    (["dagster", "job", "launch", "-j", "radar_refresh"], False),
    (["dagster", "dev"], False),
    (["-c"], False),
])
def test_which_processes_execute_a_run(argv, expected):
    from pipelines.quality import gx

    assert gx.executes_a_run(argv) is expected


def test_a_run_process_starts_the_worker_as_the_code_location_loads():
    """`dagster job execute` (its argv) loading the code location: the worker is already
    importing GX before the run exists; it ends with the process."""
    code = ("import sys; sys.argv = ['dagster', 'job', 'execute']; "
            "import pipelines.definitions; from pipelines.quality import gx; "
            "print(gx._WORKER is not None and gx._WORKER.alive(), gx._WORKER.proc.pid)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    assert out[0] == "True"
    assert not Path(f"/proc/{out[1]}").exists()


def test_landing_sensor_requests_a_run_only_for_new_or_changed_files(tmp_path, monkeypatch):
    import dagster as dg

    from pipelines.definitions import defs

    monkeypatch.setenv("RADAR_LANDING_DIR", str(tmp_path))
    sensor = defs.resolve_sensor_def("landing_folder_sensor")
    (tmp_path / "a.json").write_text("{}")
    with dg.instance_for_test() as instance:
        first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        assert first.run_requests is not None and len(first.run_requests) == 1
        again = sensor.evaluate_tick(dg.build_sensor_context(instance=instance,
                                                             cursor=first.cursor))
        assert again.run_requests == [] and again.skip_message
        (tmp_path / "b.csv").write_text("x")
        changed = sensor.evaluate_tick(dg.build_sensor_context(instance=instance,
                                                               cursor=first.cursor))
        assert changed.run_requests is not None and len(changed.run_requests) == 1
        assert changed.run_requests[0].run_key != first.run_requests[0].run_key


@pytest.mark.parametrize(("variable", "value"), [
    ("RADAR_AS_OF", "2026-13-01"), ("RADAR_SYNC_START", "04/12/2026")])
def test_a_date_setting_that_is_not_a_date_names_its_variable(monkeypatch, variable, value):
    from pipelines.settings import RadarSettings

    monkeypatch.setenv("RADAR_AS_OF", "2026-12-04")
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=f"^{variable} must be an ISO date YYYY-MM-DD, got "):
        RadarSettings.from_env()


@pytest.mark.parametrize(("variable", "value"), [
    ("RADAR_RECONCILIATION_TOLERANCE_SHARE", "1%"),
    ("RADAR_RECONCILIATION_TOLERANCE_SHARE", "1.5"),
    ("RADAR_RECONCILIATION_TOLERANCE_USD", "-0.01"),
    ("RADAR_RECONCILIATION_TOLERANCE_USD", "0.0000001"),
    ("RADAR_UNPRICED_MAX_SHARE", "five percent")])
def test_a_number_setting_out_of_range_names_its_variable(monkeypatch, variable, value):
    from pipelines.settings import RadarSettings

    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=f"^{variable} must be a number from 0 to "):
        RadarSettings.from_env()


def test_a_catalog_file_setting_that_is_not_a_file_names_its_variable(tmp_path):
    from pipelines.lib.catalog import CatalogError, configured_file

    with pytest.raises(CatalogError, match="RADAR_CATALOG_OVERRIDES names .* is not a file"):
        configured_file("RADAR_CATALOG_OVERRIDES", tmp_path)
    with pytest.raises(CatalogError, match="RADAR_TEAMS_FILE names .* does not exist"):
        configured_file("RADAR_TEAMS_FILE", tmp_path / "teams.csv")

    (tmp_path / "teams.csv").write_text("key_type,key_value,team\n")
    assert configured_file("RADAR_TEAMS_FILE", tmp_path / "teams.csv") == tmp_path / "teams.csv"

def test_the_lifecycle_override_setting_is_read_from_the_environment(monkeypatch, tmp_path):
    from pipelines.settings import RadarSettings

    monkeypatch.delenv("RADAR_LIFECYCLE_OVERRIDES", raising=False)
    assert RadarSettings.from_env().lifecycle_overrides is None
    monkeypatch.setenv("RADAR_LIFECYCLE_OVERRIDES", str(tmp_path / "lifecycle.csv"))
    assert RadarSettings.from_env().lifecycle_overrides == tmp_path / "lifecycle.csv"


@pytest.mark.parametrize("value", ["27", "four hundred", "-400", "40.5"])
def test_a_request_ledger_setting_below_the_window_names_its_variable(monkeypatch, value):
    from pipelines.settings import RadarSettings

    monkeypatch.setenv("RADAR_REQUEST_LEDGER_DAYS", value)
    with pytest.raises(ValueError, match="^RADAR_REQUEST_LEDGER_DAYS must be a whole number "
                                         "of days, at least 28"):
        RadarSettings.from_env()


@pytest.mark.parametrize("value", ["0", "sixty", "-60", "60.5"])
def test_a_catalog_age_setting_that_is_not_a_number_of_days_names_its_variable(monkeypatch,
                                                                               value):
    from pipelines.settings import CATALOG_MAX_AGE_DAYS, RadarSettings

    monkeypatch.delenv("RADAR_CATALOG_MAX_AGE_DAYS", raising=False)
    assert RadarSettings.from_env().catalog_max_age_days == CATALOG_MAX_AGE_DAYS
    monkeypatch.setenv("RADAR_CATALOG_MAX_AGE_DAYS", "120")
    assert RadarSettings.from_env().catalog_max_age_days == 120
    monkeypatch.setenv("RADAR_CATALOG_MAX_AGE_DAYS", value)
    with pytest.raises(ValueError, match="^RADAR_CATALOG_MAX_AGE_DAYS must be a whole number "
                                         "of days, at least 1"):
        RadarSettings.from_env()


@pytest.mark.parametrize(("value", "names"), [
    ("", True), ("1", True), ("TRUE", True), ("yes", True), ("0", False), ("false", False),
    (" No ", False), ("maybe", None), ("2", None)])
def test_the_sync_names_setting_is_yes_or_no(monkeypatch, value, names):
    from pipelines.settings import RadarSettings

    monkeypatch.setenv("RADAR_SYNC_NAMES", value)
    if names is None:
        with pytest.raises(ValueError, match="^RADAR_SYNC_NAMES must be 1, true or yes, or 0, "
                                             "false or no; got "):
            RadarSettings.from_env()
    else:
        assert RadarSettings.from_env().sync_names is names


@pytest.mark.parametrize(("value", "version"), [
    ("", "v1.0.0"), ("v1.4.0", "v1.4.0"), (" latest ", "latest"), ("1.0.0", None),
    ("v1.0", None), ("newest", None), ("v1.0.0'; DROP TABLE x; --", None)])
def test_the_bi_copy_format_setting_names_a_duckdb_release(monkeypatch, value, version):
    from pipelines.settings import RadarSettings

    monkeypatch.setenv("RADAR_PUBLISH_STORAGE_VERSION", value)
    if version is None:
        with pytest.raises(ValueError, match="^RADAR_PUBLISH_STORAGE_VERSION must be a DuckDB "
                                             "release such as v1.0.0"):
            RadarSettings.from_env()
    else:
        assert RadarSettings.from_env().publish_storage_version == version


def test_the_request_ledger_keeps_its_last_days_up_to_as_of(monkeypatch):
    from pipelines.settings import RadarSettings

    monkeypatch.setenv("RADAR_AS_OF", "2026-12-04")
    monkeypatch.delenv("RADAR_REQUEST_LEDGER_DAYS", raising=False)
    assert RadarSettings.from_env().request_ledger_kept_from is None
    monkeypatch.setenv("RADAR_REQUEST_LEDGER_DAYS", "28")  # as the window: as-of inclusive
    settings = RadarSettings.from_env()
    assert settings.request_ledger_kept_from == settings.window_start
    monkeypatch.setenv("RADAR_REQUEST_LEDGER_DAYS", "400")
    assert str(RadarSettings.from_env().request_ledger_kept_from) == "2025-10-31"
    # an as-of after today (mistyped) trims no further than today would: keys are for good
    monkeypatch.setenv("RADAR_AS_OF", "2099-12-04")
    today = dt.datetime.now(dt.UTC).date()
    assert RadarSettings.from_env().request_ledger_kept_from == today - dt.timedelta(days=399)


#: run in a process whose clock is set (POSIX TZ, no tz database needed) to a zone where the
#: date differs from UTC's now: 12 hours behind UTC in the UTC morning, 14 ahead after noon
DEFAULT_AS_OF_IN_ANOTHER_ZONE = """
import datetime as dt, json, os, time
os.environ["TZ"] = "ZZZ+12" if dt.datetime.now(dt.UTC).hour < 12 else "ZZZ-14"
time.tzset()
from pipelines.settings import RadarSettings
settings = RadarSettings.from_env()
print(json.dumps({"as_of": str(settings.as_of), "sync_start": str(settings.sync_start),
                  "local": str(dt.date.today()), "utc": str(dt.datetime.now(dt.UTC).date())}))
"""


def test_the_default_as_of_is_today_in_utc_whatever_the_machine_time_zone(monkeypatch):
    """RADAR_AS_OF unset: the as-of date is today in UTC (the contract's default), not the
    machine's local date: west of Greenwich, in its evening, that is still the day before
    UTC's; east of it, in its morning, already the day after."""
    monkeypatch.delenv("RADAR_AS_OF", raising=False)
    monkeypatch.delenv("RADAR_SYNC_START", raising=False)
    done = subprocess.run([sys.executable, "-c", DEFAULT_AS_OF_IN_ANOTHER_ZONE], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["local"] != seen["utc"]  # the process's clock is in another day
    assert seen["as_of"] == seen["utc"]
    assert dt.date.fromisoformat(seen["sync_start"]) == (
        dt.date.fromisoformat(seen["utc"]) - dt.timedelta(days=35))


def test_a_run_is_as_of_the_utc_day_it_started(monkeypatch):
    """RADAR_AS_OF unset, a run's as-of is the UTC day its run record says it started (else
    was created), whatever the day its later steps run on; outside a run, the day of the
    call; a RADAR_AS_OF or the resource's own as_of wins over both."""
    last_second = dt.datetime(2026, 12, 6, 23, 59, 59, 900000, tzinfo=dt.UTC)
    east = dt.timezone(dt.timedelta(hours=2))
    assert run_start_day(last_second.timestamp(), None) == dt.date(2026, 12, 6)
    assert run_start_day(last_second.timestamp() + 0.1, None) == dt.date(2026, 12, 7)
    # created at 01:00 in UTC+2: still the day before in UTC; the start wins when there is one
    created = dt.datetime(2026, 12, 7, 1, 0, tzinfo=east)
    assert run_start_day(None, created) == dt.date(2026, 12, 6)
    assert run_start_day(last_second.timestamp() + 86_400, created) == dt.date(2026, 12, 7)
    assert run_start_day(None, None) is None

    monkeypatch.delenv("RADAR_AS_OF", raising=False)
    seen: list[dt.date] = []

    @dg.asset
    def as_of(radar: RadarConfig) -> None:
        seen.append(radar.settings().as_of)

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([as_of], resources={"radar": RadarConfig()}, instance=instance)
    record = instance.get_run_record_by_id(result.run_id)
    assert record is not None and record.start_time is not None
    assert seen == [run_start_day(record.start_time, None)]
    assert RadarConfig().settings().as_of == dt.datetime.now(dt.UTC).date()
    monkeypatch.setenv("RADAR_AS_OF", "2026-11-02")
    dg.materialize([as_of], resources={"radar": RadarConfig()})
    dg.materialize([as_of], resources={"radar": RadarConfig(as_of="2026-10-05")})
    assert seen[1:] == [dt.date(2026, 11, 2), dt.date(2026, 10, 5)]
