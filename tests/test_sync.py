"""openai_api_sync against a real local HTTP server in the official schema."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time

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
    assert len(files) == 10 * 2 + 1
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
    # the same data, saved by hand as three page files, in a fresh warehouse
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
        return radar.query("SELECT endpoint, sum(requests) FROM marts.usage_cost_daily "
                           "WHERE usage_date = $d GROUP BY ALL ORDER BY ALL", {"d": AS_OF})

    assert last_day() == [("completions", 1 * 10 + 1), ("embeddings", 1)]
    total_before = radar.query("SELECT sum(requests) FROM marts.usage_cost_daily")[0][0]
    api.partial_last = False  # the day is over: the API now reports the whole day
    api.failures = {}
    assert run_job("openai_api_sync").success
    assert run_job("radar_refresh").success
    n = AS_OF.toordinal() % 7 + 3
    assert last_day() == [("completions", n * 10 + n), ("embeddings", n)]
    total_after = radar.query("SELECT sum(requests) FROM marts.usage_cost_daily")[0][0]
    assert total_after - total_before == (n * 11 + n) - (11 + 1)  # replaced, not added
    # only the pages whose content changed were read again
    rows = radar.query("SELECT path, rows_loaded, rows_duplicate FROM staging.ingested_files "
                       "WHERE path LIKE '%completions_%' ORDER BY file_id")
    assert [r[0].rsplit("_", 1)[-1] for r in rows] == ["p001.json", "p002.json", "p002.json"]


def test_missing_or_refused_key_fails_clearly(radar, httpserver, monkeypatch):
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    result = run_job("openai_api_sync")
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "OPENAI_ADMIN_KEY is not set" in str(failure.event_specific_data.error)
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
