"""radar_refresh through Dagster on the fixture exports: exact numbers in every contract table.

Every expected figure is derived in tests/exports.py from the values written there.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from tests.conftest import RadarEnv, unique_dict

D = Decimal
CONTRACT_COLUMNS = {
    "catalog.model_prices": ["model", "valid_from", "valid_to", "input_usd_per_1m",
                             "cached_input_usd_per_1m", "output_usd_per_1m", "batch_discount",
                             "source"],
    "catalog.model_lifecycle": ["model", "announced_date", "shutdown_date", "replacement_model",
                                "source"],
    "staging.ingested_files": ["path", "sha256", "format", "status", "rows_loaded",
                               "rows_rejected", "error", "ingested_at"],
    "staging.rejected_rows": ["source_file", "position", "reason", "raw"],
    "marts.usage_cost_daily": ["usage_date", "source", "team", "project_id", "user_id",
                               "api_key_id", "endpoint", "route", "model", "service_tier",
                               "is_batch", "requests", "failed_requests", "input_tokens",
                               "cached_input_tokens", "output_tokens", "cost_usd", "priced",
                               "lifecycle_status"],
    "marts.deprecated_model_usage": [
        "team", "endpoint", "model", "lifecycle_status", "shutdown_date", "days_to_shutdown",
        "replacement_model", "first_seen", "last_seen", "requests_28d", "failed_requests_28d",
        "input_tokens_28d", "cached_input_tokens_28d", "output_tokens_28d", "cost_usd_28d",
        "replacement_cost_usd_28d"],
    "marts.migration_status_weekly": ["week_start", "team", "requests", "deprecated_requests",
                                      "deprecated_share", "cost_usd", "deprecated_cost_usd",
                                      "open_pairs"],
    "marts.unpriced_usage": ["model", "endpoint", "first_seen", "last_seen", "requests",
                             "input_tokens", "output_tokens"],
    "marts.cost_reconciliation": ["usage_date", "project_id", "billed_usd", "computed_usd",
                                  "difference_usd", "within_tolerance"],
}


@pytest.fixture
def refreshed(fixture_exports, refresh):
    """A refresh of the fixture exports of the test's own: for the tests that change them."""
    refresh()
    return fixture_exports


@pytest.fixture
def refreshed_once(fixture_refresh) -> RadarEnv:
    """The shared refresh of the fixture exports, for the tests that only read its tables."""
    return fixture_refresh[0]


def test_every_contract_table_and_column_exists(refreshed_once):
    for table, columns in CONTRACT_COLUMNS.items():
        schema, name = table.split(".")
        got = [r[0] for r in refreshed_once.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = $s "
            "AND table_name = $t ORDER BY ordinal_position", {"s": schema, "t": name})]
        missing = [c for c in columns if c not in got]
        assert not missing, f"{table} lacks {missing}"


def test_file_manifest_accounts_for_every_row(refreshed_once):
    rows = unique_dict((p.rsplit("/", 1)[-1], r) for p, *r in refreshed_once.query(
        "SELECT path, format, status, rows_read, rows_loaded, rows_rejected, rows_duplicate "
        "FROM staging.ingested_files"))
    assert rows["completions.json"] == ["openai_api_json", "loaded", 3, 3, 0, 0]
    assert rows["completions_resent.jsonl"] == ["openai_api_json", "loaded", 1, 0, 0, 1]
    assert rows["copy_of_completions.json"][1] == "duplicate"
    assert rows["activity.csv"] == ["openai_dashboard_csv", "loaded", 2, 1, 1, 0]
    assert rows["spend.csv"] == ["litellm_spend_logs_csv", "loaded", 3, 3, 0, 0]
    assert rows["not_usage.json"][1] == "rejected"
    for name, (_, _, read, loaded, rejected, dup) in rows.items():
        assert read == loaded + rejected + dup, name


def test_rejections_have_reasons(refreshed_once):
    reasons = unique_dict(
        (p.rsplit("/", 1)[-1], r) for p, r in refreshed_once.query(
            "SELECT source_file, reason FROM staging.rejected_rows"))
    assert "negative num_model_requests" in reasons["activity.csv"]
    assert "not a usage/costs page" in reasons["not_usage.json"]


def test_usage_cost_daily_exact(refreshed_once):
    rows = refreshed_once.query(
        "SELECT usage_date, source, team, model, is_batch, requests, failed_requests, "
        "cost_usd, priced, lifecycle_status, replacement_cost_usd "
        "FROM marts.usage_cost_daily ORDER BY usage_date, team, model")
    d = dt.date
    assert rows == [
        (d(2026, 11, 20), "openai_usage_api", "alpha", "gpt-4o-2024-08-06", False, 100, 0,
         D("3.25"), True, "deprecated", D("0.132")),
        (d(2026, 11, 20), "openai_usage_api", "batch-team", "gpt-4o-2024-08-06", True, 10, 0,
         D("2.5"), True, "deprecated", D("0.1")),
        (d(2026, 11, 21), "openai_usage_api", "unassigned", "gpt-5.6-sol", False, 1, 0,
         D("0.024"), True, "active", None),
        (d(2026, 11, 22), "openai_dashboard", "alpha", "gpt-4o-mini-2024-07-18", False, 40, 0,
         D("0.0195"), True, "deprecated", D("0.0132")),
        (d(2026, 11, 23), "litellm", "ds", "mystery-model-9", False, 1, 0,
         None, False, "unknown", None),
        (d(2026, 11, 23), "litellm", "growth", "gpt-4.1-nano-2025-04-14", False, 1, 1,
         D("0"), True, "shutdown", D("0")),
        (d(2026, 11, 24), "litellm", "growth", "gpt-4.1-nano-2025-04-14", False, 1, 1,
         D("0"), True, "shutdown", D("0")),
    ]
    route = refreshed_once.query("SELECT DISTINCT route FROM marts.usage_cost_daily "
                                 "WHERE source = 'litellm'")
    assert route == [("/v1/chat/completions",)]


def test_deprecated_model_usage_exact(refreshed_once):
    rows = refreshed_once.query(
        "SELECT team, model, lifecycle_status, shutdown_date, days_to_shutdown, "
        "replacement_model, first_seen, last_seen, requests_28d, failed_requests_28d, "
        "input_tokens_28d, cached_input_tokens_28d, output_tokens_28d, cost_usd_28d, "
        "replacement_cost_usd_28d FROM marts.deprecated_model_usage")
    d = dt.date
    assert rows == [
        # a shut-down model whose calls now fail comes first, with negative days left
        ("growth", "gpt-4.1-nano-2025-04-14", "shutdown", d(2026, 10, 23), -33, "gpt-5.6-luna",
         d(2026, 11, 23), d(2026, 11, 24), 2, 2, 0, 0, 0, D("0"), D("0")),
        ("alpha", "gpt-4o-2024-08-06", "deprecated", d(2027, 1, 14), 50, "gpt-6-luna",
         d(2026, 11, 20), d(2026, 11, 20), 100, 0, 1_000_000, 200_000, 100_000, D("3.25"),
         D("0.132")),
        ("alpha", "gpt-4o-mini-2024-07-18", "deprecated", d(2027, 1, 14), 50, "gpt-6-luna",
         d(2026, 11, 22), d(2026, 11, 22), 40, 0, 100_000, 20_000, 10_000, D("0.0195"),
         D("0.0132")),
        ("batch-team", "gpt-4o-2024-08-06", "deprecated", d(2027, 1, 14), 50, "gpt-6-luna",
         d(2026, 11, 20), d(2026, 11, 20), 10, 0, 2_000_000, 0, 0, D("2.5"), D("0.1")),
    ]


def test_migration_status_weekly_exact(refreshed_once):
    rows = refreshed_once.query(
        "SELECT week_start, team, requests, deprecated_requests, deprecated_share, cost_usd, "
        "deprecated_cost_usd, open_pairs FROM marts.migration_status_weekly "
        "ORDER BY week_start, team")
    d = dt.date
    assert rows == [
        (d(2026, 11, 16), "alpha", 140, 140, 1.0, D("3.2695"), D("3.2695"), 2),
        (d(2026, 11, 16), "batch-team", 10, 10, 1.0, D("2.5"), D("2.5"), 1),
        (d(2026, 11, 16), "unassigned", 1, 0, 0.0, D("0.024"), D("0"), 0),
        (d(2026, 11, 23), "ds", 1, 0, 0.0, D("0"), D("0"), 0),
        (d(2026, 11, 23), "growth", 2, 2, 1.0, D("0"), D("0"), 1),
    ]


def test_unpriced_usage_lists_unknown_model_never_zero(refreshed_once):
    assert refreshed_once.query(
        "SELECT model, endpoint, first_seen, last_seen, requests, input_tokens, output_tokens "
        "FROM marts.unpriced_usage") == [
        ("mystery-model-9", "completions", dt.date(2026, 11, 23), dt.date(2026, 11, 23), 1,
         1000, 500)]


def test_prompt_and_response_text_never_loaded(refreshed_once):
    con = duckdb.connect(str(refreshed_once.warehouse), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR'").fetchall()
        assert len(columns) > 50  # every text column of every table is looked at
        for schema, table, column in columns:
            hits = con.execute(
                f'SELECT count(*) FROM "{schema}"."{table}" WHERE "{column}" ILIKE '
                f'\'%SECRET%\' OR "{column}" LIKE \'%sk-live%\'').fetchall()
            assert hits == [(0,)], f"{schema}.{table}.{column}"
    finally:
        con.close()


def test_second_run_changes_no_number(refreshed, refresh):
    tables = ["marts.usage_cost_daily", "marts.deprecated_model_usage",
              "marts.migration_status_weekly", "marts.unpriced_usage", "staging.usage",
              "staging.rejected_rows"]
    before = {t: sorted(map(repr, refreshed.query(f"SELECT * FROM {t}"))) for t in tables}
    files_before = refreshed.query("SELECT count(*) FROM staging.ingested_files")
    refresh()
    after = {t: sorted(map(repr, refreshed.query(f"SELECT * FROM {t}"))) for t in tables}
    assert after == before
    assert refreshed.query("SELECT count(*) FROM staging.ingested_files") == files_before


def test_newest_file_wins_for_a_changed_bucket(refreshed, refresh):
    import json

    from tests.exports import RESULT_A, bucket, page
    corrected = dict(RESULT_A, num_model_requests=120)
    path = refreshed.landing / "api" / "z_redownload.json"
    path.write_text(json.dumps(page([bucket("2026-11-20", [corrected])])))
    refresh()
    assert refreshed.query(
        "SELECT requests FROM marts.usage_cost_daily WHERE team = 'alpha' "
        "AND usage_date = DATE '2026-11-20'") == [(120,)]
    assert refreshed.query(
        "SELECT rows_loaded FROM staging.ingested_files WHERE path LIKE '%z_redownload.json'"
    ) == [(1,)]


def test_same_bucket_in_dashboard_export_and_api_page_counts_once(refreshed, refresh):
    import csv

    from tests.exports import DASHBOARD_HEADER, epoch
    s, e = epoch("2026-11-20"), epoch("2026-11-21")
    path = refreshed.landing / "dashboard" / "later_export.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(DASHBOARD_HEADER)
        # bucket A of the API page, as the dashboard writes it
        w.writerow(["gpt-4o-2024-08-06", "2026-11-20T00:00:00+00:00", "2026-11-21T00:00:00+00:00",
                    s, e, "proj_a", "100.0", "", "key_a", "FALSE", "default", "1000000.0",
                    "100000.0", "200000.0"])
    refresh()
    assert refreshed.query(
        "SELECT rows_read, rows_loaded, rows_duplicate FROM staging.ingested_files "
        "WHERE path LIKE '%later_export.csv'") == [(1, 0, 1)]
    assert refreshed.query(
        "SELECT sum(requests) FROM marts.usage_cost_daily WHERE team = 'alpha' "
        "AND usage_date = DATE '2026-11-20'") == [(100,)]


def test_replacement_chains_follow_the_as_of_date(refreshed, refresh, monkeypatch):
    # as of 2026-11-25 gpt-5.1-chat-latest is shut down too: follow it to gpt-5.6-sol
    assert refreshed.query(
        "SELECT lifecycle_status, provider_replacement_model, replacement_model, "
        "replacement_chain_length FROM intermediate.lifecycle_as_of "
        "WHERE model = 'chatgpt-4o-latest'") == [
        ("shutdown", "gpt-5.1-chat-latest", "gpt-5.6-sol", 2)]
    # as of 2026-03-01 it was still active: it is the replacement
    monkeypatch.setenv("RADAR_AS_OF", "2026-03-01")
    refresh()
    assert refreshed.query(
        "SELECT lifecycle_status, replacement_model FROM intermediate.lifecycle_as_of "
        "WHERE model = 'chatgpt-4o-latest'") == [("shutdown", "gpt-5.1-chat-latest")]
    assert refreshed.query(
        "SELECT lifecycle_status FROM intermediate.lifecycle_as_of "
        "WHERE model = 'gpt-5.1-chat-latest'") == [("active",)]


def test_unpriced_usage_counts_up_to_the_as_of_date(refreshed, refresh, monkeypatch):
    """Like the other as-of marts, marts.unpriced_usage counts no usage after as-of: a
    report for an earlier day (RADAR_AS_OF in the past) does not list what came later,
    while usage_cost_daily keeps every day, unpriced."""
    assert [m for (m,) in refreshed.query("SELECT model FROM marts.unpriced_usage")] \
        == ["mystery-model-9"]  # first and last seen 2026-11-23
    monkeypatch.setenv("RADAR_AS_OF", "2026-11-22")
    refresh()
    assert refreshed.query("SELECT count(*) FROM marts.unpriced_usage") == [(0,)]
    assert refreshed.query(
        "SELECT sum(requests), bool_or(priced) FROM marts.usage_cost_daily "
        "WHERE model = 'mystery-model-9'") == [(1, False)]


def test_overrides_and_a_price_change_inside_the_window(fixture_exports, refresh, monkeypatch):
    import json

    from tests.exports import RESULT_A, bucket, page
    # alpha's gpt-4o-2024-08-06 usage on two days; a negotiated price for that exact model
    # from 2026-11-21 on
    (fixture_exports.landing / "api" / "next_day.json").write_text(json.dumps(page([
        bucket("2026-11-21", [dict(RESULT_A), dict(RESULT_A, batch=True)]),
        bucket("2026-11-21", [dict(RESULT_A, model="gpt-4o-2024-05-13", api_key_id="key_old",
                                   input_cached_tokens=0)])])))
    overrides = fixture_exports.root / "overrides.csv"
    overrides.write_text("model,valid_from,valid_to,input_usd_per_1m,cached_input_usd_per_1m,"
                         "output_usd_per_1m\ngpt-4o-2024-08-06,2026-11-21,,2.00,,8.00\n")
    monkeypatch.setenv("RADAR_CATALOG_OVERRIDES", str(overrides))
    refresh()
    costs = unique_dict(fixture_exports.query(
        "SELECT usage_date || ' ' || model || if(is_batch, ' batch', ''), cost_usd "
        "FROM marts.usage_cost_daily WHERE team = 'alpha' AND endpoint = 'completions'"))
    # before: the catalog's 2.50 / 1.25 / 10: 3.25 USD
    assert costs["2026-11-20 gpt-4o-2024-08-06"] == D("3.25")
    # from 2026-11-21 the override (2.00, no cached price so cached = input, 8.00):
    # (800,000 x 2 + 200,000 x 2 + 100,000 x 8) / 1e6 = 2.80 USD
    assert costs["2026-11-21 gpt-4o-2024-08-06"] == D("2.8")
    # ... and the batch row of the same day gets the replaced catalog row's batch discount
    # (50%) off it
    assert costs["2026-11-21 gpt-4o-2024-08-06 batch"] == D("1.4")
    # a dated snapshot with its own entry keeps its own price ($5 / $15), not gpt-4o's
    assert costs["2026-11-21 gpt-4o-2024-05-13"] == D("6.5")
    sources = fixture_exports.query(
        "SELECT source FROM catalog.model_prices WHERE model = 'gpt-4o-2024-08-06' "
        "AND service_tier IS NULL ORDER BY valid_from")
    assert sources[0][0].startswith("litellm") and sources[1][0].startswith("override")
    # the list price the override replaces is kept for its dates, and FOCUS shows the three
    # costs apart: list (the catalog's 3.25), contracted (the negotiated 2.80) and billed
    # (the contracted less the batch discount of the catalog row the override replaces)
    assert fixture_exports.query(
        "SELECT model, valid_from, valid_to, input_usd_per_1m, cached_input_usd_per_1m, "
        "output_usd_per_1m FROM catalog.replaced_model_prices") == [
        ("gpt-4o-2024-08-06", dt.date(2026, 11, 21), None, D("2.5"), D("1.25"), D("10"))]
    rows = fixture_exports.query(
        'SELECT "ChargePeriodStart", x_model, x_team, x_is_batch, "ListCost", '
        '"ContractedCost", "BilledCost", "EffectiveCost" FROM marts.focus_costs '
        "WHERE x_model LIKE 'gpt-4o-20%'")
    focus = {f"{day:%m-%d} {model} {'batch' if batch else team}": costs
             for day, model, team, batch, *costs in rows}
    assert len(focus) == len(rows)
    assert focus == {
        "11-20 gpt-4o-2024-08-06 alpha": [D("3.25")] * 4,
        "11-20 gpt-4o-2024-08-06 batch": [D("5"), D("5"), D("2.5"), D("2.5")],
        "11-21 gpt-4o-2024-08-06 alpha": [D("3.25"), D("2.8"), D("2.8"), D("2.8")],
        "11-21 gpt-4o-2024-08-06 batch": [D("3.25"), D("2.8"), D("1.4"), D("1.4")],
        "11-21 gpt-4o-2024-05-13 alpha": [D("6.5")] * 4}
    assert fixture_exports.query(
        "SELECT sum(list_cost_usd), sum(contracted_cost_usd), sum(cost_usd) "
        "FROM marts.usage_cost_daily WHERE model LIKE 'gpt-4o-20%'") == [
        (D("21.25"), D("20.35"), D("16.45"))]
    # without the file, list and contracted are one price again
    monkeypatch.delenv("RADAR_CATALOG_OVERRIDES")
    refresh()
    assert fixture_exports.query("SELECT count(*) FROM catalog.replaced_model_prices") == [(0,)]
    assert fixture_exports.query(
        'SELECT count(*), count(*) FILTER ("ListCost" = "ContractedCost") '
        "FROM marts.focus_costs") == [(fixture_exports.query(
            "SELECT count(*) FROM marts.usage_cost_daily WHERE priced")[0][0],) * 2]


def test_lifecycle_overrides_retire_and_withdraw(refreshed, refresh, monkeypatch):
    """A retirement announced after the shipped catalog was built, and one withdrawn, through
    `RADAR_LIFECYCLE_OVERRIDES`; without the file the next run is back to the catalog."""
    overrides = refreshed.root / "lifecycle.csv"
    overrides.write_text("model,announced_date,shutdown_date,replacement_model\n"
                         "gpt-5.6-sol,2026-11-24,2026-12-15,gpt-6-luna\n"
                         "gpt-4o-2024-08-06,,,\n")
    monkeypatch.setenv("RADAR_LIFECYCLE_OVERRIDES", str(overrides))
    result = refresh()
    meta = result.asset_materializations_for_node("catalog__model_lifecycle")[0].metadata
    assert meta["override_rows"].value == 2
    assert "| gpt-4o-2024-08-06 | ? -> 2027-01-14, gpt-6-luna | not retiring |" in (
        meta["overrides"].value)
    deprecated = "SELECT team, model, lifecycle_status, days_to_shutdown, replacement_model, " \
                 "requests_28d, cost_usd_28d, replacement_cost_usd_28d " \
                 "FROM marts.deprecated_model_usage ORDER BY team, model"
    # unassigned's one request on gpt-5.6-sol (1,000 in, 1,000 out) now shows, 20 days left;
    # on gpt-6-luna (0.10 / 0.50): 0.0001 + 0.0005 = 0.0006 USD. gpt-4o-2024-08-06 is gone
    # (alpha and batch-team), gpt-4o-mini keeps the catalog's row.
    assert refreshed.query(deprecated) == [
        ("alpha", "gpt-4o-mini-2024-07-18", "deprecated", 50, "gpt-6-luna", 40, D("0.0195"),
         D("0.0132")),
        ("growth", "gpt-4.1-nano-2025-04-14", "shutdown", -33, "gpt-5.6-luna", 2, D("0"),
         D("0")),
        ("unassigned", "gpt-5.6-sol", "deprecated", 20, "gpt-6-luna", 1, D("0.024"),
         D("0.0006")),
    ]
    assert refreshed.query(
        "SELECT DISTINCT lifecycle_status FROM marts.usage_cost_daily "
        "WHERE model = 'gpt-4o-2024-08-06'") == [("active",)]
    assert refreshed.query(
        "SELECT source FROM catalog.model_lifecycle WHERE model = 'gpt-5.6-sol'") == [
        ("override lifecycle.csv line 2",)]
    monkeypatch.delenv("RADAR_LIFECYCLE_OVERRIDES")
    refresh()
    assert [(r[0], r[1]) for r in refreshed.query(deprecated)] == [
        ("alpha", "gpt-4o-2024-08-06"), ("alpha", "gpt-4o-mini-2024-07-18"),
        ("batch-team", "gpt-4o-2024-08-06"), ("growth", "gpt-4.1-nano-2025-04-14")]


def test_the_request_ledger_keeps_its_last_days(fixture_exports, refresh, monkeypatch):
    """RADAR_REQUEST_LEDGER_DAYS through a real run: older keys go, the numbers stay, and a
    later export re-sending an older request has it quarantined instead of counted again."""
    import csv

    import dagster as dg

    from tests.exports import LITELLM_HEADER, litellm_row

    env = fixture_exports

    def gateway_file(name: str, rows: list[tuple[str, str]]) -> None:
        with (env.landing / "gateway" / name).open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(LITELLM_HEADER)
            w.writerows(litellm_row(rid, "gpt-4.1-nano-2025-04-14", 0, 0, "team-x",
                                    "growth-alias", "failure", day=day) for rid, day in rows)

    def usage_metadata(result: dg.ExecuteInProcessResult) -> dict:
        (mat,) = [e.materialization
                  for e in result.get_asset_materialization_events()
                  if e.materialization.asset_key.path == ["staging",
                                                                              "usage"]]
        return {k: v.value for k, v in mat.metadata.items() if k.startswith("request_ledger")}

    def gateway_requests() -> int:
        return env.query("SELECT sum(requests) FROM marts.usage_cost_daily "
                         "WHERE source = 'litellm'")[0][0]

    # as of 2026-11-25 with 28 days, the ledger keeps 2026-10-29 on
    gateway_file("october.csv", [("o1", "2026-10-27"), ("o2", "2026-10-28"),
                                 ("o3", "2026-10-29")])
    refresh()
    assert gateway_requests() == 6  # and the fixture's three
    monkeypatch.setenv("RADAR_REQUEST_LEDGER_DAYS", "28")
    assert usage_metadata(refresh()) == {"request_ledger_keys": 4,
                                         "request_ledger_kept_from": "2026-10-29",
                                         "request_ledger_keys_removed_this_run": 2}
    assert gateway_requests() == 6
    # o1 is before the horizon (quarantined), o3 a repeat, o4 new
    gateway_file("resent.csv", [("o1", "2026-10-27"), ("o3", "2026-10-29"),
                                ("o4", "2026-10-29")])
    assert usage_metadata(refresh()) == {"request_ledger_keys": 5,
                                         "request_ledger_kept_from": "2026-10-29",
                                         "request_ledger_keys_removed_this_run": 0}
    assert gateway_requests() == 7
    assert env.query(
        "SELECT status, rows_read, rows_loaded, rows_rejected, rows_duplicate "
        "FROM staging.ingested_files WHERE path LIKE '%resent.csv'") == [
        ("loaded", 3, 1, 1, 1)]
    (reason,) = env.query("SELECT reason FROM staging.rejected_rows "
                          "WHERE source_file LIKE '%resent.csv'")
    assert reason[0].startswith("request of 2026-10-27, before 2026-10-29: ")
    # the working file rebuilt from the landing folder: every file is loaded with the full
    # ledger first (nothing was counted before), then the ledger is trimmed
    for path in env.warehouse.parent.glob(env.warehouse.name + "*"):
        path.unlink()
    assert usage_metadata(refresh()) == {"request_ledger_keys": 5,
                                         "request_ledger_kept_from": "2026-10-29",
                                         "request_ledger_keys_removed_this_run": 2}
    assert gateway_requests() == 7
    assert env.query("SELECT rows_loaded, rows_rejected, rows_duplicate FROM "
                     "staging.ingested_files WHERE path LIKE '%resent.csv'") == [(1, 0, 2)]


def test_a_broken_team_line_and_a_stale_override_are_said_in_the_run_log(
        fixture_exports, refresh, monkeypatch, capsys):
    """Configuration the run can go on without: a team directory line that cannot be used is
    skipped with its line named (its callers count as unassigned, never dropped), and a
    lifecycle override the shipped catalog has caught up with is pointed out."""
    with fixture_exports.teams.open("a") as fh:
        fh.write("project_id,,nobody\n")
    lines = len(fixture_exports.teams.read_text().splitlines())
    overrides = fixture_exports.root / "lifecycle.csv"
    overrides.write_text("model,announced_date,shutdown_date,replacement_model\n"
                         "gpt-4o-mini-2024-07-18,,2027-01-14,gpt-6-luna\n")
    monkeypatch.setenv("RADAR_LIFECYCLE_OVERRIDES", str(overrides))
    assert refresh().success
    said = capsys.readouterr().err  # the run's log, as Dagster's console logger writes it
    assert (f"team directory: {fixture_exports.teams.name} line {lines}: key_value and team "
            "are required") in said
    assert ("RADAR_LIFECYCLE_OVERRIDES: the row for gpt-4o-mini-2024-07-18 says what the "
            "shipped catalog says; it can be deleted") in said
    assert fixture_exports.query(
        "SELECT count(*) FROM catalog.team_directory WHERE team = 'nobody'") == [(0,)]


def test_other_providers_models_through_the_gateway_are_priced_and_retire(
        fixture_exports, refresh, monkeypatch):
    """A gateway routes to other providers too: their models are priced and retire by the
    shipped catalog's rows for them (LiteLLM's), by the name the gateway logs."""
    import csv
    import json

    from tests.exports import LITELLM_HEADER, litellm_row
    with (fixture_exports.landing / "gateway" / "providers.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(LITELLM_HEADER)
        # Anthropic's claude-sonnet-4-5-20250929 (3 / 0.30 / 15, shut down 2026-11-30, successor
        # claude-sonnet-5-5 at 2 / 0.10 / 10): one call before, two failing after. LiteLLM
        # priced the first at its undated alias: the logged name resolves first
        row = litellm_row("c1", "claude-sonnet-4-5-20250929", 1_000_000, 100_000, "",
                          "assist", "success", day="2026-11-28")
        row[12] = json.dumps({**json.loads(row[12]), "model_map_information": {
            "model_map_key": "claude-sonnet-4-5", "model_map_value": {}}})
        w.writerow(row)
        # an Azure deployment logged by its own name, which LiteLLM priced by its base model
        # (Azure's gpt-4o-2024-08-06: 2.50 / 1.25 / 10, retiring 2027-04-14):
        # (1,000 x 2.50 + 100 x 10) / 1e6 = 0.0035 USD
        row = litellm_row("z1", "azure/my-prod-gpt4o", 1_000, 100, "", "assist", "success",
                          day="2026-11-29")
        row[12] = json.dumps({**json.loads(row[12]), "model_map_information": {
            "model_map_key": "azure/gpt-4o-2024-08-06", "model_map_value": {}}})
        w.writerow(row)
        for rid in ("c2", "c3"):
            w.writerow(litellm_row(rid, "claude-sonnet-4-5-20250929", 0, 0, "", "assist",
                                   "failure", day="2026-12-01"))
        # the same model as newer LiteLLM logs a deployment's: with its provider prefix
        # (1,000 in x 3 + 100 out x 15) / 1e6 = 0.0045 USD; on the replacement 0.003
        w.writerow(litellm_row("c4", "anthropic/claude-sonnet-4-5-20250929", 1_000, 100, "",
                               "assist", "success", day="2026-11-29"))
        # OpenAI's legacy completion model, which LiteLLM files under text-completion-openai
        # (0.40 / 0.40): 1,000,000 in and 500,000 out = 0.60 USD
        row = litellm_row("b1", "babbage-002", 1_000_000, 500_000, "", "legacy", "success",
                          day="2026-09-20")
        row[1] = "atext_completion"
        w.writerow(row)
        # a model LiteLLM prices 0 / 0 (a placeholder, not a price): unpriced, never zero
        w.writerow(litellm_row("g1", "gemini/gemini-exp-1114", 10, 10, "", "lab", "success",
                               day="2026-11-28"))
        # the same placeholder beside the same provider's priced bare entry (0.30 / 2.50):
        # the prefix comes off, (10 x 0.3 + 10 x 2.5) / 1e6 = 0.000028 USD
        w.writerow(litellm_row("g2", "gemini/gemini-exp-1206", 10, 10, "", "lab", "success",
                               day="2026-11-28"))
        # Azure's gpt-6-luna retires on 2028-03-11 by LiteLLM, with no announcement date:
        # more than a year out, it is not deprecated yet
        w.writerow(litellm_row("a1", "azure/gpt-6-luna", 10, 10, "", "lab", "success",
                               day="2026-11-28"))
        # the same placeholder on a model whose retirement the catalog knows (2026-09-30)
        w.writerow(litellm_row("m1", "mistral/labs-leanstral-1-5", 10, 10, "", "lab",
                               "success", day="2026-11-28"))
    monkeypatch.setenv("RADAR_AS_OF", "2026-12-03")
    result = refresh()
    # the catalog step says which providers it prices, and how many models each
    from pipelines.lib.catalog import read_prices
    from pipelines.settings import CATALOG_DATA_DIR
    shipped = {(p.model, p.provider) for p in read_prices(CATALOG_DATA_DIR / "model_prices.csv")}
    meta = result.asset_materializations_for_node("catalog__model_prices")[0].metadata
    assert meta["providers"].value == len({provider for _, provider in shipped}) > 50
    anthropic = sum(provider == "anthropic" for _, provider in shipped)
    assert f"| anthropic | {anthropic} |" in meta["models_by_provider"].value
    assert fixture_exports.query(
        "SELECT model, lifecycle_status, shutdown_date, days_to_shutdown, replacement_model, "
        "requests_28d, failed_requests_28d, cost_usd_28d, replacement_cost_usd_28d "
        "FROM marts.deprecated_model_usage WHERE team = 'assist' ORDER BY model") == [
        ("anthropic/claude-sonnet-4-5-20250929", "shutdown", dt.date(2026, 11, 30), -3,
         "claude-sonnet-5-5", 1, 0, D("0.0045"), D("0.003")),
        ("azure/my-prod-gpt4o", "deprecated", dt.date(2027, 4, 14), 132, "azure/gpt-5.6",
         1, 0, D("0.0035"), D("0.006")),
        ("claude-sonnet-4-5-20250929", "shutdown", dt.date(2026, 11, 30), -3,
         "claude-sonnet-5-5", 3, 2, D("4.5"), D("3"))]
    assert fixture_exports.query(
        "SELECT model, price_model, lifecycle_model FROM intermediate.model_resolution "
        "WHERE model IN ('claude-sonnet-4-5-20250929', 'azure/my-prod-gpt4o') "
        "ORDER BY model") == [
        ("azure/my-prod-gpt4o", "azure/gpt-4o-2024-08-06", "azure/gpt-4o-2024-08-06"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929",
         "claude-sonnet-4-5-20250929")]
    assert fixture_exports.query(
        "SELECT model, cost_usd, priced, lifecycle_status FROM marts.usage_cost_daily "
        "WHERE team IN ('legacy', 'lab') ORDER BY model") == [
        ("azure/gpt-6-luna", D("0.000006"), True, "active"),
        ("babbage-002", D("0.6"), True, "shutdown"),
        ("gemini/gemini-exp-1114", None, False, "unknown"),
        ("gemini/gemini-exp-1206", D("0.000028"), True, "active"),
        ("mistral/labs-leanstral-1-5", None, False, "shutdown")]
    # who serves each priced row, and the FinOps FOCUS names for it
    assert fixture_exports.query(
        'SELECT DISTINCT x_model, x_provider, "ProviderName", "ServiceName" '
        "FROM marts.focus_costs WHERE x_team IN ('assist', 'legacy', 'lab') "
        "ORDER BY x_model") == [
        ("anthropic/claude-sonnet-4-5-20250929", "anthropic", "Anthropic", "Anthropic API"),
        ("azure/gpt-6-luna", "azure", "Microsoft", "Azure OpenAI"),
        ("azure/my-prod-gpt4o", "azure", "Microsoft", "Azure OpenAI"),
        ("babbage-002", "text-completion-openai", "OpenAI", "OpenAI API"),
        ("claude-sonnet-4-5-20250929", "anthropic", "Anthropic", "Anthropic API"),
        ("gemini/gemini-exp-1206", "gemini", "Google", "Gemini API")]
    assert fixture_exports.query(
        "SELECT model, reason FROM marts.unpriced_usage WHERE model NOT LIKE 'mystery%' "
        "ORDER BY model") == [
        ("gemini/gemini-exp-1114", "model not in catalog"),
        ("mistral/labs-leanstral-1-5", "model has no price in catalog")]
