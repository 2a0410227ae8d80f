"""openai_api_sync against a real local HTTP server in the official schema."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from decimal import Decimal

import dagster as dg
import pytest

from pipelines.sync.client import ENDPOINTS, AdminApiError, OpenAIAdminClient
from tests.conftest import run_job
from tests.fake_openai import ADMIN_KEY, FakeAdminApi

AS_OF = dt.date(2026, 11, 25)
MARTS = ["marts.usage_cost_daily", "marts.deprecated_model_usage",
         "marts.migration_status_weekly", "marts.unpriced_usage", "marts.cost_reconciliation"]


@pytest.fixture
def api(httpserver, monkeypatch):
    fake = FakeAdminApi(AS_OF - dt.timedelta(days=35), AS_OF,
                        empty_day=AS_OF - dt.timedelta(days=10))
    fake.install(httpserver)
    monkeypatch.setenv("OPENAI_ADMIN_KEY", ADMIN_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", httpserver.url_for("/v1"))
    return fake


def snapshot(env) -> dict:
    return {t: sorted(map(repr, env.query(f"SELECT * FROM {t}"))) for t in MARTS}


def test_sync_then_refresh_equals_the_file_exports(radar, api, tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    started = time.perf_counter()
    result = run_job("openai_api_sync")
    seconds = time.perf_counter() - started
    assert result.success
    files = sorted((radar.landing / "openai_api").glob("*.json"))
    # 36 daily buckets: each of the ten usage endpoints needs two pages at limit 31 (empty
    # days still come as buckets), the Costs API one page at limit 180
    assert len([f for f in files if f.name.startswith("completions_")]) == 2
    assert len([f for f in files if f.name.startswith("costs_")]) == 1
    # and the API keys of the two projects seen: proj_a's on two pages
    assert [f.name for f in files if f.name.startswith(("api_keys_", "projects_"))] == [
        "api_keys_proj_a_p001.json", "api_keys_proj_a_p002.json", "api_keys_proj_b_p001.json",
        "projects_p001.json", "projects_p002.json"]
    assert [f.name for f in files if f.name.startswith("users_")] == [
        "users_p001.json", "users_p002.json"]
    assert len(files) == 10 * 2 + 1 + 3 + 2 + 2
    params = {p["kind"]: p for p in api.seen_params}
    assert params["usage/completions"]["limit"] == "31"
    assert params["costs"]["limit"] == "180"
    assert params["usage/completions"]["group_by"] == [
        "project_id", "user_id", "api_key_id", "model", "batch", "service_tier"]
    assert {p["bucket_width"] for p in api.seen_params} == {"1d"}
    # one 429 and one 500 were retried
    assert api.calls["usage/completions"] == 3 and api.calls["costs"] == 2
    print(f"sync of 36 days: {sum(api.calls.values())} requests, "
          f"{len(api.seen_params)} pages, {len(files)} files, {seconds:.1f}s")
    # the key is never written anywhere
    for f in files:
        assert ADMIN_KEY not in f.read_text()
    assert ADMIN_KEY not in caplog.text

    assert run_job("radar_refresh").success
    synced = snapshot(radar)
    # whisper-1's seconds are priced at $0.006 a minute: every second the API reported
    seconds_total = sum(r["seconds"] for b in api.buckets("usage/audio_transcriptions")
                        for r in b["results"])
    assert radar.query("SELECT sum(units), sum(cost_usd) FROM marts.usage_cost_daily "
                       "WHERE model = 'whisper-1'") == [
        (seconds_total, Decimal(seconds_total) * 100 / 1_000_000)]
    # the same data, saved by hand as four page files, in a fresh warehouse
    other = tmp_path / "exports"
    other.mkdir()
    for kind, page in api.export_page().items():
        (other / f"{kind.replace('/', '_')}.json").write_text(json.dumps(page))
    monkeypatch.setenv("RADAR_LANDING_DIR", str(other))
    monkeypatch.setenv("RADAR_WAREHOUSE", str(tmp_path / "exports.duckdb"))
    monkeypatch.setenv("RADAR_PUBLISH_DIR", str(tmp_path / "exports_pub"))
    assert run_job("radar_refresh").success
    radar.warehouse = tmp_path / "exports.duckdb"
    assert snapshot(radar) == synced
    # the partial last bucket and the empty day are there as the API gave them
    assert radar.query("SELECT count(DISTINCT usage_date) FROM marts.usage_cost_daily "
                       "WHERE endpoint = 'completions'") == [(35,)]


def test_resync_of_a_day_replaces_its_pages(radar, api):
    assert run_job("openai_api_sync").success
    assert run_job("radar_refresh").success
    def last_day() -> list[tuple]:
        return radar.query("SELECT endpoint, sum(requests), sum(units) FROM "
                           "marts.usage_cost_daily WHERE usage_date = $d GROUP BY ALL "
                           "ORDER BY ALL", {"d": AS_OF})

    # (the transcriptions in seconds of audio)
    assert last_day() == [("audio_transcriptions", 1, 600), ("completions", 1 * 10 + 1, None),
                          ("embeddings", 1, None)]
    total_before = radar.query("SELECT sum(requests) FROM marts.usage_cost_daily")[0][0]
    api.partial_last = False  # the day is over: the API now reports the whole day
    api.failures = {}
    assert run_job("openai_api_sync").success
    assert run_job("radar_refresh").success
    n = AS_OF.toordinal() % 7 + 3
    assert last_day() == [("audio_transcriptions", n, n * 600), ("completions", n * 10 + n, None),
                          ("embeddings", n, None)]
    total_after = radar.query("SELECT sum(requests) FROM marts.usage_cost_daily")[0][0]
    assert total_after - total_before == (n * 12 + n) - (12 + 1)  # replaced, not added
    # only the pages whose content changed were read again
    rows = radar.query("SELECT path, rows_loaded, rows_duplicate FROM staging.ingested_files "
                       "WHERE path LIKE '%completions_%' ORDER BY file_id")
    assert [r[0].rsplit("_", 1)[-1] for r in rows] == ["p001.json", "p002.json", "p002.json"]


def test_the_sync_names_each_project_key_and_user_and_who_owns_a_key(radar, api, caplog):
    """The Usage API names a project, a key and a user by their ids only: the sync lists the
    projects (archived ones too), the users and the keys of every project in the pages, and
    the callers of a deprecated model get their names and the key's owner; a rename shows at
    the next sync, and a list that cannot be read leaves its callers unnamed without failing
    the sync."""
    api.failures = {}
    assert run_job("openai_api_sync").success
    # every page of each list, 100 asked for, the next after the last id
    assert api.key_requests == [("proj_a", "100", None), ("proj_a", "100", "key_a"),
                                ("proj_b", "100", None)]
    assert api.project_requests == [{"include_archived": "true", "limit": "100"},
                                    {"include_archived": "true", "limit": "100",
                                     "after": "proj_a"}]
    refresh = run_job("radar_refresh")
    assert refresh.success
    # the UI's preview of the callers names them too
    (mat,) = refresh.asset_materializations_for_node("marts__deprecated_model_callers")
    assert "| proj_a | Checkout | key_a | checkout-prod | Ada Lovelace |" in \
        str(mat.metadata["preview"].value)
    assert radar.query("SELECT api_key_id, key_alias, key_owner, owner_type "
                       "FROM staging.openai_api_keys ORDER BY ALL") == [
        ("key_a", "checkout-prod", "Ada Lovelace", "user"),
        ("key_a2", "notebook", "bo@example.com", "user"),  # no name: the e-mail
        ("key_b", "nightly-batch", "batch-runner", "service_account")]
    assert radar.query("SELECT project_id, project_name, status FROM staging.openai_projects "
                       "ORDER BY ALL") == [("proj_a", "Checkout", "active"),
                                           ("proj_b", "Batch jobs", "archived")]
    assert radar.query("SELECT * EXCLUDE (file_id) FROM staging.openai_users ORDER BY ALL"
                       ) == [("user_ada", "Ada Lovelace"), ("user_bo", "bo@example.com")]
    callers = ("SELECT DISTINCT project_name, api_key_id, key_alias, key_owner, user_name "
               "FROM marts.deprecated_model_callers ORDER BY ALL")
    assert radar.query(callers) == [
        ("Checkout", "key_a", "checkout-prod", "Ada Lovelace", "Ada Lovelace")]
    # the redacted value (part of the secret) is never kept
    assert radar.query("SELECT count(*) FROM staging.openai_api_keys "
                       "WHERE concat_ws('|', COLUMNS(*)) LIKE '%sk-%'") == [(0,)]

    api.keys["proj_a"][0]["name"] = "checkout-v2"
    api.projects[0]["name"] = "Checkout EU"
    del api.keys["proj_b"]  # deleted since: its list answers 404
    api.users = None  # and the users list answers something that is not a list
    caplog.set_level(logging.WARNING, logger="pipelines.sync.client")
    assert run_job("openai_api_sync").success
    assert "the API keys of project proj_b were not listed" in caplog.text
    assert "No such project: proj_b" in caplog.text
    assert ("the users were not listed (their callers stay unnamed): GET organization/users: "
            "the response is not a list object") in caplog.text
    assert run_job("radar_refresh").success
    # the earlier user list still names user_ada
    assert radar.query(callers) == [
        ("Checkout EU", "key_a", "checkout-v2", "Ada Lovelace", "Ada Lovelace")]
    # the earlier list of proj_b is still what names key_b
    assert radar.query("SELECT count(*) FROM staging.openai_api_keys "
                       "WHERE api_key_id = 'key_b'") == [(1,)]


def test_names_are_not_pulled_when_told_not_to(radar, api, monkeypatch):
    """RADAR_SYNC_NAMES=0: usage and costs only, no project, user or key list asked for."""
    api.failures = {}
    monkeypatch.setenv("RADAR_SYNC_NAMES", "0")
    result = run_job("openai_api_sync")
    assert result.success
    assert api.key_requests == [] and api.project_requests == []
    files = [f.name for f in (radar.landing / "openai_api").glob("*.json")]
    assert len(files) == 10 * 2 + 1
    assert not [f for f in files if f.startswith(("api_keys_", "projects_", "users_"))]


def test_missing_or_refused_key_fails_clearly(radar, httpserver, monkeypatch):
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    result = run_job("openai_api_sync")
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "OPENAI_ADMIN_KEY is not set" in str(failure.step_failure_data.error)
    httpserver.expect_request("/v1/organization/usage/completions").respond_with_json(
        {"error": {"message": "Incorrect API key provided"}}, status=401)
    with (OpenAIAdminClient("sk-proj-not-an-admin-key-123456",
                            httpserver.url_for("/v1")) as client,
          pytest.raises(AdminApiError) as info):
        list(client.pages(ENDPOINTS[0], AS_OF, AS_OF))
    assert "admin key" in str(info.value)
    assert "sk-proj" not in str(info.value)


def test_retries_honour_retry_after_and_give_up(httpserver):
    waits: list[float] = []
    httpserver.expect_request("/v1/organization/costs").respond_with_json(
        {"error": "busy"}, status=429, headers={"Retry-After": "7"})
    with (OpenAIAdminClient(ADMIN_KEY, httpserver.url_for("/v1"), max_retries=3,
                            sleep=waits.append) as client,
          pytest.raises(AdminApiError, match="429 after 4 attempts")):
        list(client.pages(ENDPOINTS[-1], AS_OF, AS_OF))
    assert waits == [7.0, 7.0, 7.0]


def test_timeout_is_a_retryable_network_error(httpserver):
    calls = []

    def handler(request):
        from werkzeug import Response
        calls.append(time.perf_counter())
        if len(calls) == 1:
            time.sleep(1.5)  # longer than the client's timeout
        return Response(json.dumps({"object": "page", "data": [], "has_more": False,
                                    "next_page": None}), 200, content_type="application/json")

    httpserver.expect_request("/v1/organization/usage/completions").respond_with_handler(handler)
    # the back-off wait outlasts the slow answer, so the retry finds the server free
    with OpenAIAdminClient(ADMIN_KEY, httpserver.url_for("/v1"), timeout=0.5,
                           sleep=lambda s: time.sleep(1.2)) as client:
        assert list(client.pages(ENDPOINTS[0], AS_OF, AS_OF))[0]["data"] == []
        assert client.stats.retries == 1
    assert len(calls) == 2


def test_a_backfill_of_days_from_the_ui_pulls_them_in_one_run(radar, api):
    """The partitioned asset behind the UI's backfill: three days are one run, one pull of
    exactly those days, and the refresh then has their usage and no other day's."""
    from pipelines.definitions import build_defs
    from tests.fake_openai import day_epoch

    api.failures = {}  # the scripted 429/500 are the job's test; here only the range matters
    first, last = AS_OF - dt.timedelta(days=6), AS_OF - dt.timedelta(days=4)
    defs = build_defs()
    result = dg.materialize(
        # resolved from the code location, the asset comes with its resources bound
        [defs.resolve_assets_def(dg.AssetKey(["sync", "openai_api_pages"]))],
        instance=dg.DagsterInstance.ephemeral(),
        tags={"dagster/asset_partition_range_start": str(first),
              "dagster/asset_partition_range_end": str(last)})
    assert result.success
    mats = result.asset_materializations_for_node("sync__openai_api_pages")
    assert sorted(str(m.partition) for m in mats) == [
        str(first + dt.timedelta(days=i)) for i in range(3)]  # each day marked materialized
    meta = {k: v.value for k, v in mats[0].metadata.items()}
    assert (meta["first_day"], meta["last_day"]) == (str(first), str(last))
    assert meta["pages"] == len(api.seen_params) == 11  # each endpoint once, three buckets
    assert {(p["start_time"], p["end_time"]) for p in api.seen_params} == {
        (day_epoch(first), day_epoch(last + dt.timedelta(days=1)))}
    assert meta["files_written"] == len(list((radar.landing / "openai_api").glob("*.json")))
    assert run_job("radar_refresh").success
    assert radar.query("SELECT min(usage_date), max(usage_date), count(DISTINCT usage_date) "
                       "FROM marts.usage_cost_daily") == [(first, last, 3)]


def test_the_daily_sync_schedule_runs_only_with_a_key(monkeypatch):
    from pipelines.sync.assets import daily_sync_schedule

    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    skipped = daily_sync_schedule(dg.build_schedule_context())
    assert isinstance(skipped, dg.SkipReason)
    assert "OPENAI_ADMIN_KEY is not set" in (skipped.skip_message or "")
    monkeypatch.setenv("OPENAI_ADMIN_KEY", ADMIN_KEY)
    request = daily_sync_schedule(dg.build_schedule_context())
    assert isinstance(request, dg.RunRequest)
    assert request.tags["radar/trigger"] == "daily_schedule"


def test_a_retry_after_date_is_waited_for_until_then(httpserver):
    """Retry-After may be an HTTP date rather than seconds (RFC 9110): the wait is the time
    until then; a date already past, or a header that is neither, falls back to back-off."""
    from email.utils import format_datetime

    waits: list[float] = []
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    for retry_after in (format_datetime(later, usegmt=True), "soon"):
        httpserver.expect_ordered_request("/v1/organization/costs").respond_with_json(
            {"error": "busy"}, status=503, headers={"Retry-After": retry_after})
    httpserver.expect_ordered_request("/v1/organization/costs").respond_with_json(
        {"object": "page", "data": [], "has_more": False, "next_page": None})
    with OpenAIAdminClient(ADMIN_KEY, httpserver.url_for("/v1"), max_retries=3, backoff=2.0,
                           sleep=waits.append) as client:
        assert list(client.pages(ENDPOINTS[-1], AS_OF, AS_OF))[0]["data"] == []
    assert 25 < waits[0] <= 30  # until the date (the header has whole seconds)
    assert 2.0 * 2 * 0.5 <= waits[1] <= 2.0 * 2  # back-off of the second attempt, jittered


def test_an_unreachable_api_and_a_bad_answer_fail_with_what_happened(httpserver):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    waits: list[float] = []
    with (OpenAIAdminClient(ADMIN_KEY, closed, max_retries=2, sleep=waits.append) as client,
          pytest.raises(AdminApiError, match=r"network error after 3 attempts \(ConnectError\)")):
        list(client.pages(ENDPOINTS[0], AS_OF, AS_OF))
    assert len(waits) == 2 and client.stats.retries == 2
    httpserver.expect_request("/v1/organization/usage/embeddings").respond_with_json(
        {"error": {"message": "Invalid value for 'group_by'"}}, status=400)
    httpserver.expect_request("/v1/organization/usage/moderations").respond_with_data(
        "<html>\n  <body>404 Not Found</body>\n</html>", status=404, content_type="text/html")
    httpserver.expect_request("/v1/organization/usage/completions").respond_with_json(
        {"object": "list", "data": []})
    with OpenAIAdminClient(ADMIN_KEY, httpserver.url_for("/v1"), sleep=waits.append) as client:
        # what the API said, on one line: OpenAI's error message, else the body's text
        with pytest.raises(AdminApiError) as info:
            list(client.pages(ENDPOINTS[1], AS_OF, AS_OF))
        assert str(info.value) == ("GET organization/usage/embeddings: HTTP 400: "
                                   "Invalid value for 'group_by'")
        with pytest.raises(AdminApiError) as info:
            list(client.pages(ENDPOINTS[2], AS_OF, AS_OF))
        assert str(info.value).endswith(
            "HTTP 404: <html> <body>404 Not Found</body> </html>")
        with pytest.raises(AdminApiError, match="the response is not a page object"):
            list(client.pages(ENDPOINTS[0], AS_OF, AS_OF))
    assert len(waits) == 2  # a 400 is not retried
