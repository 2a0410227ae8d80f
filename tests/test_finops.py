"""Reconciliation with the bill, the FOCUS export, fine-tuned model pricing."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import duckdb

from tests.conftest import unique_dict
from tests.exports import bucket, completion, epoch, page

D = Decimal


def _cost(day: str, value: float, line_item: str | None = None, **quantity) -> dict:
    return bucket(day, [{"object": "organization.costs.result",
                         "amount": {"value": value, "currency": "usd"},
                         "line_item": line_item, "project_id": "proj_x", **quantity}])


def test_reconciliation_classifies_matched_offset_unexplained(radar, refresh,
                                                                monkeypatch):
    # proj_x uses exactly $1.00 a day: 400,000 input tokens of gpt-4o at $2.50 / 1M
    usage = [bucket(f"2026-11-{d}", [completion(
        input_tokens=400_000, num_model_requests=4, project_id="proj_x", api_key_id="k",
        model="gpt-4o", batch=False)]) for d in (10, 11, 12, 13)]
    costs = [_cost("2026-11-10", 1.00), _cost("2026-11-10", 7.00, "fine-tuning training"),
             # storage by its unit, whatever its name says
             _cost("2026-11-10", 2.00, "Data retention", quantity=48,
                   quantity_unit="gibibyte_hours"),
             _cost("2026-11-11", 1.50), _cost("2026-11-12", 0.50),  # billed a day early
             _cost("2026-11-13", 3.00)]  # money nobody can explain
    merged = [costs[0]]
    merged[0]["results"] += costs[1]["results"] + costs[2]["results"]
    (radar.landing / "usage.json").write_text(json.dumps(page(usage)))
    (radar.landing / "costs.json").write_text(json.dumps(page(merged + costs[3:])))
    refresh()
    rows = radar.query(
        "SELECT usage_date, billed_usd, computed_usd, difference_usd, within_tolerance, "
        "billed_other_usd, classification, within_tolerance_7d "
        "FROM marts.cost_reconciliation ORDER BY usage_date")
    d = dt.date
    assert rows == [
        (d(2026, 11, 10), D("1"), D("1"), D("0"), True, D("9"), "matched", True),
        (d(2026, 11, 11), D("1.5"), D("1"), D("0.5"), False, D("0"), "offset", False),
        (d(2026, 11, 12), D("0.5"), D("1"), D("-0.5"), False, D("0"), "offset", True),
        (d(2026, 11, 13), D("3"), D("1"), D("2"), False, D("0"), "unexplained", False),
    ]
    # the tolerance is configurable: half of the bill lets 11-11 through (0.50 off a 1.50
    # bill), not 11-12 (0.50 off 0.50) nor 11-13 (2.00 off 3.00)
    monkeypatch.setenv("RADAR_RECONCILIATION_TOLERANCE_SHARE", "0.5")
    refresh()
    assert radar.query("SELECT within_tolerance FROM marts.cost_reconciliation "
                       "ORDER BY usage_date") == [(True,), (True,), (False,), (False,)]
    # $2 whatever the bill: every day
    monkeypatch.setenv("RADAR_RECONCILIATION_TOLERANCE_USD", "2")
    monkeypatch.setenv("RADAR_RECONCILIATION_TOLERANCE_SHARE", "0")
    refresh()
    assert radar.query("SELECT within_tolerance FROM marts.cost_reconciliation "
                       "ORDER BY usage_date") == [(True,)] * 4


def test_focus_export(fixture_refresh):
    fixture_exports, _ = fixture_refresh
    cols = [r[0] for r in fixture_exports.query(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts' "
        "AND table_name = 'focus_costs'")]
    for c in ("ChargePeriodStart", "ChargePeriodEnd", "BilledCost", "EffectiveCost",
              "ListCost", "ContractedCost", "ChargeClass", "ChargeFrequency",
              "ConsumedQuantity", "ConsumedUnit", "SkuId", "ServiceName", "ServiceCategory",
              "Tags", "BillingAccountId", "BillingAccountName", "SubAccountId",
              "SubAccountName", "ResourceId", "ResourceName"):
        assert c in cols
    # usage, none of it a correction; without overrides the contracted cost is the list cost
    assert fixture_exports.query(
        'SELECT DISTINCT "ChargeFrequency", "ChargeClass", "ContractedCost" = "ListCost" '
        "FROM marts.focus_costs") == [("Usage-Based", None, True)]
    assert all(c[0].isupper() or c.startswith("x_") for c in cols)
    totals = fixture_exports.query(
        'SELECT sum("BilledCost"), count(DISTINCT "ServiceCategory"), '
        'any_value("ServiceCategory") FROM marts.focus_costs')
    daily = fixture_exports.query(
        "SELECT sum(cost_usd) FROM marts.usage_cost_daily WHERE priced")
    assert totals[0][0] == daily[0][0] == D("5.7935")
    assert totals[0][1:] == (1, "AI and Machine Learning")
    # OpenAI's usage, and OpenAI models through the gateway: OpenAI's API
    assert fixture_exports.query(
        'SELECT DISTINCT "ProviderName", "PublisherName", "InvoiceIssuerName", "ServiceName", '
        "x_provider FROM marts.focus_costs") == [
        ("OpenAI", "OpenAI", "OpenAI", "OpenAI API", "openai")]
    # batch usage: list cost is the undiscounted price (2 x 2.50 USD), billed the discounted
    assert fixture_exports.query(
        'SELECT "BilledCost", "ListCost", json_extract_string("Tags", \'$.team\') '
        'FROM marts.focus_costs WHERE x_is_batch') == [(D("2.5"), D("5"), "batch-team")]
    parquet = fixture_exports.publish / "parquet" / "focus_costs.parquet"
    # the Tags are text in the Parquet file, for every reader (a JSON-annotated column reads
    # as bytes in polars)
    import polars as pl
    import pyarrow.parquet as pq

    tags = pl.read_parquet(parquet, columns=["Tags", "x_is_batch"])
    assert tags.schema["Tags"] == pl.String
    assert pq.read_schema(parquet).field("Tags").type == "string"
    batch = tags.filter(pl.col("x_is_batch"))["Tags"].to_list()
    assert [json.loads(t)["team"] for t in batch] == ["batch-team"]
    # the charge period is a UTC day, marked as such in the Parquet file, and the BI copy's
    # view gives the same instants to a session in another time zone (midnight in Paris is
    # not the day's start; a DST change there does not make a 23-hour day)
    period = pq.read_schema(parquet).field("ChargePeriodStart").type
    assert (period.unit, str(period.tz)) == ("us", "UTC")
    with duckdb.connect(str(fixture_exports.publish / "radar.duckdb"), read_only=True) as bi:
        bi.execute("SET TimeZone = 'Europe/Paris'")
        days = bi.execute(
            'SELECT DISTINCT epoch("ChargePeriodStart"), '
            'epoch("ChargePeriodEnd") - epoch("ChargePeriodStart"), '
            '"BillingPeriodStart" = "ChargePeriodStart" FROM marts.focus_costs').fetchall()
        usage_days = bi.execute("SELECT DISTINCT usage_date FROM marts.usage_cost_daily "
                                "WHERE priced").fetchall()
    assert sorted(dt.datetime.fromtimestamp(start, dt.UTC) for start, _, _ in days) == [
        dt.datetime.combine(d, dt.time(), dt.UTC) for (d,) in sorted(usage_days)]
    assert {(length, same) for _, length, same in days} == {(86400, True)}


def test_fine_tuned_models_price_at_their_fine_tuned_rate(radar, refresh):
    ft = "ft:gpt-4o-mini-2024-07-18:acme:support:abc123"
    unknown_ft = "ft:gpt-9-imaginary:acme:x:1"
    usage = [bucket("2026-11-20", [
        completion(input_tokens=1_000_000, output_tokens=1_000_000, num_model_requests=1,
                   project_id="p", api_key_id="k", model=m, batch=False)
        for m in (ft, unknown_ft)])]
    (radar.landing / "ft.json").write_text(json.dumps(page(usage)))
    refresh()
    rows = unique_dict(radar.query("SELECT model, cost_usd FROM marts.usage_cost_daily"))
    # ft:gpt-4o-mini-2024-07-18 costs 0.30 in / 1.20 out per 1M, not the base's 0.15 / 0.60
    assert rows[ft] == D("1.5")
    assert rows[unknown_ft] is None
    assert radar.query("SELECT model FROM marts.unpriced_usage") == [(unknown_ft,)]


def test_service_tiers_price_at_the_tier_rates(radar, refresh):
    # gpt-5.6-sol: default 4 / 0.4 / 20, flex 2 / 0.2 / 10, priority 8 / 0.8 / 40 per 1M;
    # gpt-4o-mini has no flex price in the catalog: flex usage falls back to the default
    usage = [bucket("2026-11-20", [
        completion(input_tokens=1_000_000, output_tokens=100_000, num_model_requests=1,
                   project_id="p", api_key_id=f"k_{tier}_{model}", model=model, batch=False,
                   service_tier=tier)
        for tier in ("default", "flex", "priority") for model in ("gpt-5.6-sol", "gpt-4o-mini")])]
    (radar.landing / "tiers.json").write_text(json.dumps(page(usage)))
    refresh()
    costs = unique_dict(radar.query(
        "SELECT service_tier || ' ' || model, cost_usd FROM marts.usage_cost_daily"))
    assert costs["default gpt-5.6-sol"] == D("6")    # 4 + 2
    assert costs["flex gpt-5.6-sol"] == D("3")       # 2 + 1
    assert costs["priority gpt-5.6-sol"] == D("12")  # 8 + 4
    assert costs["default gpt-4o-mini"] == costs["flex gpt-4o-mini"] == D("0.21")
    tiers = unique_dict(radar.query("SELECT service_tier || ' ' || model, price_tier "
                                    "FROM intermediate.usage_priced"))
    assert tiers["flex gpt-5.6-sol"] == "flex" and tiers["flex gpt-4o-mini"] is None


def test_reconciliation_by_api_key_where_the_bill_is_split_by_key(radar, refresh):
    usage = [bucket("2026-11-10", [completion(
        input_tokens=400_000, num_model_requests=4, project_id="proj_x", api_key_id=k,
        model="gpt-4o", batch=False) for k in ("key_1", "key_2")])]
    costs = [bucket("2026-11-10", [
        {"object": "organization.costs.result", "amount": {"value": v, "currency": "usd"},
         "line_item": line, "project_id": "proj_x", "api_key_id": k, "quantity": q,
         "quantity_unit": unit}
        for k, v, line, q, unit in (("key_1", 1.00, None, 400_000, "tokens"),
                                    ("key_2", 1.25, None, None, None),
                                    # storage (by its unit) is kept apart, per key too
                                    ("key_1", 5.00, "Data retention", 24, "gibibyte_hours"))])]
    (radar.landing / "usage.json").write_text(json.dumps(page(usage)))
    (radar.landing / "costs.json").write_text(json.dumps(page(costs)))
    refresh()
    assert radar.query(
        "SELECT api_key_id, billed_usd, computed_usd, within_tolerance "
        "FROM marts.cost_reconciliation_by_key ORDER BY api_key_id") == [
        ("key_1", D("1"), D("1"), True), ("key_2", D("1.25"), D("1"), False)]
    # the day x project grain of the contract table is unchanged
    assert radar.query("SELECT billed_usd, computed_usd FROM marts.cost_reconciliation") == [
        (D("2.25"), D("2"))]
    # the bill counted once, each row with its quantity, is in the BI copy
    with duckdb.connect(str(radar.publish / "radar.duckdb"), read_only=True) as bi:
        assert bi.execute("SELECT api_key_id, amount_usd, quantity, quantity_unit FROM "
                          "intermediate.billed_costs ORDER BY ALL").fetchall() == [
            ("key_1", D("1"), D("400000"), "tokens"), ("key_1", D("5"), D("24"), "gibibyte_hours"),
            ("key_2", D("1.25"), None, None)]


def _focus_of_every_catalog_entry() -> dict[tuple[str, str], tuple[str, str]]:
    """marts.focus_costs over one priced row per entry of the shipped catalog: (provider id,
    entry) -> (ProviderName, PublisherName)."""
    from pipelines.lib.duck import prepare, sql_text
    from pipelines.settings import CATALOG_DATA_DIR

    con = prepare(duckdb.connect())
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.usage_cost_daily AS SELECT DISTINCT DATE '2026-11-20' AS usage_date, "
        "'litellm' AS source, 'team' AS team, NULL::VARCHAR AS project_id, "
        "NULL::VARCHAR AS api_key_id, 'completions' AS endpoint, NULL::VARCHAR AS route, "
        "model, model AS price_model, provider, NULL::VARCHAR AS service_tier, false AS is_batch, "
        "1::BIGINT AS requests, 1::BIGINT AS input_tokens, 0::BIGINT AS cached_input_tokens, "
        "1::BIGINT AS output_tokens, NULL::BIGINT AS units, NULL::VARCHAR AS unit, "
        "1.0::DECIMAL(38, 10) AS cost_usd, 1.0::DECIMAL(38, 10) AS contracted_cost_usd, "
        "1.0::DECIMAL(38, 10) AS list_cost_usd, true AS priced, 'active' AS lifecycle_status, "
        "NULL::VARCHAR AS replacement_model, NULL::DECIMAL(38, 10) AS replacement_cost_usd "
        f"FROM read_csv('{CATALOG_DATA_DIR / 'model_prices.csv'}', all_varchar = true)")
    # no account named: the names are NULL
    con.execute("CREATE TABLE marts.accounts (account_type VARCHAR, account_id VARCHAR, "
                "account_name VARCHAR, key_owner VARCHAR, named_in VARCHAR)")
    con.execute("CREATE SCHEMA catalog")
    con.execute("CREATE TABLE catalog.billing_accounts (provider VARCHAR, "
                "billing_account_id VARCHAR, billing_account_name VARCHAR, source VARCHAR)")
    rows = con.execute(f"SELECT x_provider, x_model, \"ProviderName\", \"PublisherName\" "
                       f"FROM ({sql_text('marts/focus_costs')})").fetchall()
    return {(provider, model): (name, publisher) for provider, model, name, publisher in rows}


def test_the_publisher_is_who_made_the_model_where_another_sells_it():
    focus = _focus_of_every_catalog_entry()
    assert len(focus) > 4000
    # resold: the provider sells, the model's maker publishes
    assert focus[("bedrock_converse", "anthropic.claude-sonnet-4-5-20250929-v1:0")] == (
        "AWS", "Anthropic")
    assert focus[("azure", "azure/gpt-4o")] == ("Microsoft", "OpenAI")
    assert focus[("azure_ai", "azure_ai/grok-4")] == ("Microsoft", "xAI")
    assert {publisher for (provider, model), (_, publisher) in focus.items()
            if provider == "vertex_ai-anthropic_models"} == {"Anthropic"}
    # a family named after another's path: Z.ai's GLM served by Mistral is Z.ai's
    assert {publisher for (provider, model), (_, publisher) in focus.items()
            if provider == "mistral" and "glm" in model} == {"Z.ai"}
    # every first party's own models are its own, hundreds of names: no family rule claims
    # one for another maker
    first_party = {"openai": "OpenAI", "text-completion-openai": "OpenAI",
                   "anthropic": "Anthropic", "xai": "xAI", "gemini": "Google",
                   "deepseek": "DeepSeek", "zai": "Z.ai", "moonshot": "Moonshot AI",
                   "cohere_chat": "Cohere", "ai21": "AI21 Labs", "amazon_nova": "Amazon"}
    for provider, maker in first_party.items():
        publishers = {publisher for (p, _), (_, publisher) in focus.items() if p == provider}
        assert publishers == {maker}, (provider, publishers)
    # a family no rule names is published by its provider, as before
    assert focus[("databricks", next(m for p, m in focus if p == "databricks"))][1] == \
        "databricks"


def test_focus_names_the_accounts_the_exports_name(radar, refresh):
    """FOCUS asks for the billing account (BillingAccountId, -Name) and the names of the sub
    account and resource. The dashboard's cost export names the OpenAI organisation, the
    saved project and key lists name projects and keys, the spend log a gateway key's alias:
    marts.accounts holds them, and marts.focus_costs (in the BI copy and its Parquet file
    too) names each row by them. The organisation is OpenAI's usage's billing account only
    where exactly one is named; a gateway row names no provider account."""
    import csv
    import io

    import pyarrow.parquet as pq

    from tests.exports import LITELLM_HEADER, RESULT_A, litellm_row
    from tests.fake_openai import project_key

    (radar.landing / "usage.json").write_text(json.dumps(page([bucket("2026-11-24", [
        RESULT_A, dict(RESULT_A, project_id="proj_x", api_key_id="key_x")])])))
    row = litellm_row("r1", "gpt-4o", 1_000, 100, "", "growth", "success", day="2026-11-24")
    row[LITELLM_HEADER.index("metadata")] = json.dumps(
        {"user_api_key_team_alias": "growth", "user_api_key_alias": "growth-service"})
    log = io.StringIO()
    csv.writer(log).writerows([LITELLM_HEADER, row])
    (radar.landing / "spend.csv").write_text(log.getvalue())
    refresh()
    # no list names a project yet: a BI tool's own totals over the view (its DuckDB's
    # defaults, none of our settings) still add up to the daily table's
    totals = ('SELECT x_team, sum(x_input_tokens), sum("BilledCost") FROM marts.focus_costs '
              'GROUP BY ALL ORDER BY ALL')
    with duckdb.connect(str(radar.publish / "radar.duckdb"), read_only=True) as bi:
        assert bi.execute(totals).fetchall() == radar.query(
            "SELECT team, sum(input_tokens), sum(cost_usd) FROM marts.usage_cost_daily "
            "WHERE priced GROUP BY ALL ORDER BY ALL") == [
            ("alpha", 1_000_000, D("3.25")), ("growth", 1_000, D("0.0035")),
            ("unassigned", 1_000_000, D("3.25"))]

    (radar.landing / "projects.json").write_text(json.dumps({"object": "list", "data": [
        {"object": "organization.project", "id": "proj_a", "name": "Checkout",
         "created_at": 1_711_471_533, "archived_at": None, "status": "active"}],
        "first_id": "proj_a", "last_id": "proj_a", "has_more": False}))
    (radar.landing / "keys.json").write_text(json.dumps({"object": "list", "data": [
        project_key("key_a", "checkout-prod", service_account={"name": "svc"})],
        "first_id": "key_a", "last_id": "key_a", "has_more": False}))
    header = ("start_time,end_time,start_time_iso,end_time_iso,amount_value,amount_currency,"
              "line_item,project_id,organization_id,organization_name")
    day = f"{epoch('2026-11-24')},{epoch('2026-11-25')},,"

    def bill(name: str, *rows: str) -> None:
        (radar.landing / name).write_text("\n".join([header, *rows]) + "\n")

    # the name is on the second row only: the organisation still goes by it
    bill("acme.csv", f"{day},1.00,usd,,proj_a,org-acme,", f"{day},2.25,usd,,proj_x,org-acme,Acme")
    refresh()
    assert radar.query("SELECT account_type, account_id, account_name, key_owner, named_in "
                       "FROM marts.accounts") == [
        ("api_key", "hashed0123", "growth-service", None, "litellm"),
        ("api_key", "key_a", "checkout-prod", "svc", "openai_api_keys_json"),
        ("organization", "org-acme", "Acme", None, "openai_dashboard"),
        ("project", "proj_a", "Checkout", None, "openai_projects_json")]
    focus = ('SELECT x_source, "BillingAccountId", "BillingAccountName", "SubAccountId", '
             '"SubAccountName", "ResourceId", "ResourceName", "BilledCost" '
             'FROM marts.focus_costs ORDER BY x_source, "SubAccountId"')
    want = [("litellm", None, None, None, None, "hashed0123", "growth-service", D("0.0035")),
            ("openai_usage_api", "org-acme", "Acme", "proj_a", "Checkout", "key_a",
             "checkout-prod", D("3.25")),
            ("openai_usage_api", "org-acme", "Acme", "proj_x", None, "key_x", None, D("3.25"))]
    assert radar.query(focus) == want
    with duckdb.connect(str(radar.publish / "radar.duckdb"), read_only=True) as bi:
        assert bi.execute(focus).fetchall() == want
    names = pq.read_schema(radar.publish / "parquet" / "focus_costs.parquet").names
    assert {"BillingAccountId", "BillingAccountName", "SubAccountName", "ResourceName"} <= set(
        names)
    assert (radar.publish / "parquet" / "accounts.parquet").exists()

    # a second organisation's export in the same folder: whose usage is whose is not known
    bill("beta.csv", f"{epoch('2026-11-23')},{epoch('2026-11-24')},,,4.00,usd,,,org-beta,Beta")
    refresh()
    assert radar.query("SELECT account_id FROM marts.accounts "
                       "WHERE account_type = 'organization'") == [("org-acme",), ("org-beta",)]
    assert radar.query('SELECT DISTINCT "BillingAccountId" FROM marts.focus_costs') == [(None,)]


def test_the_billing_accounts_setting_names_what_the_exports_do_not(radar, refresh,
                                                                   monkeypatch):
    """FOCUS wants every row's billing account; a spend log names no provider account, nor
    do OpenAI's API pages. RADAR_BILLING_ACCOUNTS names the account each provider bills
    (provider as FOCUS's ProviderName, in any case): those rows take it, and the
    organisation a cost export names still wins for OpenAI's own usage."""
    import csv
    import io

    from tests.exports import LITELLM_HEADER, RESULT_A, litellm_row

    (radar.landing / "usage.json").write_text(json.dumps(page([bucket("2026-11-24",
                                                                      [RESULT_A])])))
    log = io.StringIO()
    csv.writer(log).writerows([
        LITELLM_HEADER,
        litellm_row("r1", "gpt-4o", 1_000, 100, "", "growth", "success", day="2026-11-24"),
        litellm_row("r2", "claude-sonnet-4-5-20250929", 2_000, 100, "", "growth", "success",
                    day="2026-11-24"),
        litellm_row("r3", "mistral/mistral-large-latest", 1_000, 10, "", "growth", "success",
                    day="2026-11-24")])
    (radar.landing / "spend.csv").write_text(log.getvalue())
    accounts = radar.root / "billing_accounts.csv"
    accounts.write_text("provider,billing_account_id,billing_account_name\n"
                        "openai,org-main,Main org\n"
                        " Anthropic ,anthropic-ws-1,\n"
                        "Open AI,org-typo,\n")
    monkeypatch.setenv("RADAR_BILLING_ACCOUNTS", str(accounts))
    result = refresh()
    # the view's materialization says which rows still lack an account, and which of the
    # file's providers matched no row (a misspelt name)
    (view,) = result.asset_materializations_for_node("marts__focus_costs")
    assert view.metadata["rows_without_billing_account"].value == 1
    assert "| litellm | mistral | 1 |" in view.metadata["without_billing_account"].value
    assert view.metadata["billing_accounts_matching_no_row"].value == "Open AI"
    focus = ('SELECT x_source, x_model, "ProviderName", "BillingAccountId", '
             '"BillingAccountName" FROM marts.focus_costs ORDER BY ALL')
    want = [
        ("litellm", "claude-sonnet-4-5-20250929", "Anthropic", "anthropic-ws-1", None),
        ("litellm", "gpt-4o", "OpenAI", "org-main", "Main org"),
        # a provider the file does not name: no account
        ("litellm", "mistral/mistral-large-latest", "mistral", None, None),
        ("openai_usage_api", "gpt-4o-2024-08-06", "OpenAI", "org-main", "Main org")]
    assert radar.query(focus) == want
    # and so in the BI copy, which holds the setting's rows too
    with duckdb.connect(str(radar.publish / "radar.duckdb"), read_only=True) as bi:
        assert bi.execute(focus).fetchall() == want
        assert bi.execute("SELECT provider, billing_account_id, billing_account_name, source "
                          "FROM catalog.billing_accounts").fetchall() == [
            ("Anthropic", "anthropic-ws-1", None, "billing_accounts.csv line 3"),
            ("Open AI", "org-typo", None, "billing_accounts.csv line 4"),
            ("openai", "org-main", "Main org", "billing_accounts.csv line 2")]

    # a cost export names the organisation: OpenAI's own usage is billed to it, whatever
    # the setting says; the gateway's calls to OpenAI keep the setting's account
    (radar.landing / "bill.csv").write_text(
        "start_time,end_time,start_time_iso,end_time_iso,amount_value,amount_currency,"
        "line_item,project_id,organization_id,organization_name\n"
        f"{epoch('2026-11-24')},{epoch('2026-11-25')},,,3.25,usd,,,org-acme,Acme\n")
    refresh()
    assert radar.query(focus) == [*want[:3], ("openai_usage_api", "gpt-4o-2024-08-06",
                                              "OpenAI", "org-acme", "Acme")]
