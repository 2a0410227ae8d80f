"""A request whose prompt passes a long-context threshold is priced at the long-context rates.

Providers charge every token of such a request more: OpenAI's gpt-5.6 and gpt-6 models above
272,000 prompt tokens (gpt-5.6-terra: $4 per 1M input and $18 output, against $2 and $12),
Anthropic's 1M-context models above 200,000, Google's above 128,000. LiteLLM gives those
prices as ``input_cost_per_token_above_272k_tokens`` and its siblings; the threshold is
compared with the request's whole prompt (cached reads and cache writes included). Only a
gateway log sees single requests, so only its usage can be told apart: the ingest stages each
group of requests with its prompt band (``schema.PROMPT_BANDS``), and the catalog's
``model_price_bands`` says what each band pays.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import json
from decimal import Decimal as D

import duckdb
import pytest

from pipelines.lib import catalog as cat
from pipelines.lib.catalog_build import build_bands, prices_from_litellm
from pipelines.lib.money import row_cost
from pipelines.lib.schema import PROMPT_BANDS, prompt_band, prompt_band_sql
from pipelines.settings import CATALOG_DATA_DIR
from tests.exports import LITELLM_HEADER, litellm_row

SHIPPED_PRICES = cat.read_prices(CATALOG_DATA_DIR / "model_prices.csv")


def _shipped_bands() -> list[cat.PriceBand]:
    return cat.read_bands(CATALOG_DATA_DIR / "model_price_bands.csv", SHIPPED_PRICES)


def test_the_staged_band_is_the_largest_threshold_the_prompt_exceeds_in_python_and_sql():
    values = [0, 1, *(t + d for t in PROMPT_BANDS for d in (-1, 0, 1)), 10**15]
    con = duckdb.connect()
    in_sql = dict(con.execute(
        f"SELECT t, {prompt_band_sql('t')} FROM unnest($v::BIGINT[]) AS v(t)",
        {"v": values}).fetchall())
    assert in_sql == {v: prompt_band(v) for v in values}
    assert (prompt_band(272_000), prompt_band(272_001), prompt_band(200_001)) == (
        256_000, 272_000, 200_000)
    assert con.execute(f"SELECT {prompt_band_sql('NULL::BIGINT')}").fetchall() == [(0,)]


# an OpenAI entry as LiteLLM writes it: a 272k band for the default and flex tiers, one
# for the batch API (not a tier of ours), none for priority
ENTRY = {"litellm_provider": "openai", "mode": "chat",
         "input_cost_per_token": 2e-06, "output_cost_per_token": 1.2e-05,
         "cache_read_input_token_cost": 2e-07,
         "input_cost_per_token_flex": 1e-06, "output_cost_per_token_flex": 6e-06,
         "input_cost_per_token_priority": 4e-06, "output_cost_per_token_priority": 2.4e-05,
         "input_cost_per_token_above_272k_tokens": 4e-06,
         "output_cost_per_token_above_272k_tokens": 1.8e-05,
         "cache_read_input_token_cost_above_272k_tokens": 4e-07,
         "cache_creation_input_token_cost_above_272k_tokens": 5e-06,
         "input_cost_per_token_above_272k_tokens_flex": 2e-06,
         "input_cost_per_token_above_272k_tokens_batches": 2e-06,
         "input_cost_per_token_above_150k_tokens": 3e-06}


def test_catalog_takes_litellm_long_context_prices_tier_by_tier():
    prices = list(prices_from_litellm({"gpt-x": ENTRY}, "test").values())
    left_out: list[str] = []
    bands = build_bands({"gpt-x": ENTRY}, {}, "test", "old", prices, left_out)
    assert [(b.service_tier, b.min_prompt_tokens, b.input_usd_per_1m, b.cached_input_usd_per_1m,
             b.output_usd_per_1m, b.cache_write_input_usd_per_1m) for b in bands] == [
        (None, 272_000, D("4"), D("0.4"), D("18"), D("5")),
        # the flex tier's own: only its input price (the others are its price row's)
        ("flex", 272_000, D("2"), None, None, None)]
    # a threshold the ingest does not stage is said, never guessed at
    assert left_out == ["gpt-x (test): above 150000 tokens, not one of schema.PROMPT_BANDS"]
    shipped = {(b.model, b.service_tier): b
               for b in _shipped_bands()}
    terra = shipped[("gpt-5.6-terra", None)]
    assert (terra.min_prompt_tokens, terra.input_usd_per_1m, terra.output_usd_per_1m) == (
        272_000, D("4"), D("18"))
    assert shipped[("anthropic.claude-sonnet-4-5-20250929-v1:0", None)].min_prompt_tokens \
        == 200_000
    assert ("gpt-5-mini-2025-08-07", None) not in shipped


def _band(model: str, threshold: int, price: str, tier: str | None = None) -> cat.PriceBand:
    return cat.PriceBand(model=model, service_tier=tier, valid_from=dt.date(2020, 1, 1),
                         valid_to=None, min_prompt_tokens=threshold, input_usd_per_1m=D(price),
                         cached_input_usd_per_1m=None, output_usd_per_1m=None,
                         cache_write_input_usd_per_1m=None,
                         cache_write_1h_input_usd_per_1m=None, source="test")


def test_each_staged_band_takes_the_largest_threshold_at_or_below_it():
    rows = cat.bands_by_prompt_band([_band("m", 128_000, "2"), _band("m", 256_000, "3"),
                                     _band("n", 272_000, "9")])
    assert [(b.model, b.prompt_band, b.min_prompt_tokens) for b in rows] == [
        ("m", 128_000, 128_000), ("m", 200_000, 128_000), ("m", 256_000, 256_000),
        ("m", 272_000, 256_000), ("m", 512_000, 256_000),
        ("n", 272_000, 272_000), ("n", 512_000, 272_000)]


@pytest.mark.parametrize(("second_row", "message"), [
    # a threshold the ingest does not stage: its requests could never be told apart
    ("gpt-x,,2020-01-01,,150000,3,,,,,test",
     r"bands.csv line 3: min_prompt_tokens '150000' is not one of \[32000, 100000"),
    ("gpt-x,,2020-01-01,,272000,5,,,,,test", "line 3: the same band as line 2"),
    ("gpt-x,,2020-01-01,,200000,-1,,,,,test", "line 3 input_usd_per_1m: '-1' must be a "
                                               "non-negative number"),
    # a band replaces a price row's prices: without one it would price nothing
    ("gpt-x,priority,2020-01-01,,272000,8,,,,,test",
     "line 3: gpt-x has no price row for the priority tier"),
    ("gpt-nowhere,,2020-01-01,,272000,8,,,,,test", "line 3: gpt-nowhere has no price row"),
])
def test_a_band_the_warehouse_could_not_use_is_an_error_naming_its_line(
        tmp_path, second_row, message):
    path = tmp_path / "bands.csv"
    path.write_text(",".join(cat.BAND_COLUMNS) + "\n"
                    "gpt-x,,2020-01-01,,272000,4,,,,,test\n" + second_row + "\n")
    prices = [p for p in prices_from_litellm({"gpt-x": ENTRY}, "test").values()
              if p.service_tier != "priority"]
    with pytest.raises(cat.CatalogError, match=message):
        cat.read_bands(path, prices)


def test_a_price_override_replaces_the_list_s_long_context_prices_on_its_dates(tmp_path):
    path = tmp_path / "overrides.csv"
    path.write_text(",".join(cat.OVERRIDE_HEADER) + "\ngpt-5.6-terra,2026-11-01,,1.6,,10\n")
    bands = [b for b in _shipped_bands() if b.model == "gpt-5.6-terra"]
    cut = cat.apply_band_overrides(bands, cat.read_overrides(path))
    assert sorted((b.service_tier or "", b.valid_from, b.valid_to) for b in cut) == [
        ("", dt.date(2020, 1, 1), dt.date(2026, 11, 1)),
        # the flex and priority tiers' are left as they are, as their price rows are
        ("flex", dt.date(2020, 1, 1), None), ("priority", dt.date(2020, 1, 1), None)]


# Three gateway requests on 2026-11-20, before gpt-5-mini-2025-08-07's shutdown (deprecated on
# the fixture's as-of; replacement gpt-5.6-terra, which has a 272k band):
#   long:    gpt-5-mini, 300,000 prompt tokens (100,000 cached reads), 2,000 completion
#   over:    gpt-5.6-sol, 272,001 prompt tokens, 1,000 completion: past its 272k threshold
#   at:      gpt-5.6-sol, 272,000 prompt tokens, 1,000 completion: not past it
# gpt-5-mini has no band: 200,000 x 0.25 + 100,000 x 0.025 + 2,000 x 2 = 56,500 per 1M. On
# gpt-5.6-terra's band (4 / cached 0.4 / 18): 800,000 + 40,000 + 36,000 = 876,000 (at its
# base rates 2 / 0.2 / 12 it would be 444,000).
LONG_COST, LONG_REPLACEMENT_COST = D("0.0565"), D("0.876")
# gpt-5.6-sol's band (8 / 30): 272,001 x 8 + 1,000 x 30 = 2,206,008; at its base rates
# (4 / 20): 272,000 x 4 + 1,000 x 20 = 1,108,000
OVER_COST, AT_COST = D("2.206008"), D("1.108")


def _gateway(radar) -> None:
    rows = []
    for rid, model, prompt, completion, cached in (
            ("long", "gpt-5-mini-2025-08-07", 300_000, 2_000, 100_000),
            ("over", "gpt-5.6-sol", 272_001, 1_000, 0),
            ("at", "gpt-5.6-sol", 272_000, 1_000, 0)):
        row = litellm_row(rid, model, prompt, completion, "", "research", "success",
                          day="2026-11-20")
        row[LITELLM_HEADER.index("metadata")] = json.dumps(
            {"usage_object": {"prompt_tokens_details": {"cached_tokens": cached}}})
        rows.append(row)
    with (radar.landing / "spend.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([LITELLM_HEADER, *rows])


def test_refresh_prices_long_prompts_at_long_context_rates(radar, refresh):
    _gateway(radar)
    result = refresh()
    meta = result.asset_materializations_for_node("intermediate__usage_priced")[0].metadata
    # gpt-5-mini bills long prompts alike, and gpt-5.6-sol's 272,000 is not past its threshold
    assert (meta["rows_at_long_context_rates"].value,
            meta["requests_at_long_context_rates"].value,
            meta["long_prompt_requests_at_base_rates"].value) == (1, 1, 2)
    assert radar.query(
        "SELECT model, prompt_band, long_context_threshold, cost_usd, replacement_cost_usd "
        "FROM intermediate.usage_priced ORDER BY model, prompt_band") == [
        ("gpt-5-mini-2025-08-07", 272_000, None, LONG_COST, LONG_REPLACEMENT_COST),
        ("gpt-5.6-sol", 256_000, None, AT_COST, None),
        ("gpt-5.6-sol", 272_000, 272_000, OVER_COST, None)]
    # the marts keep the contract's grain: the two gpt-5.6-sol bands are one daily row
    assert radar.query("SELECT model, requests, cost_usd FROM marts.usage_cost_daily "
                       "ORDER BY model") == [
        ("gpt-5-mini-2025-08-07", 1, LONG_COST), ("gpt-5.6-sol", 2, OVER_COST + AT_COST)]
    assert radar.query("SELECT cost_usd_28d, replacement_cost_usd_28d "
                       "FROM marts.deprecated_model_usage") == [
        (LONG_COST, LONG_REPLACEMENT_COST)]
    # the reference rule in Python gives the warehouse's figures from its own catalog rows
    prices = {p.model: p for p in SHIPPED_PRICES if p.service_tier is None}
    bands = {b.model: b for b in _shipped_bands() if b.service_tier is None}
    for model, (prompt, cached, completion), expected in (
            ("gpt-5.6-terra", (300_000, 100_000, 2_000), LONG_REPLACEMENT_COST),
            ("gpt-5.6-sol", (272_001, 0, 1_000), OVER_COST)):
        p = cat.with_band(prices[model], bands[model])
        assert row_cost(prompt, cached, completion, p.input_usd_per_1m,
                        p.cached_input_usd_per_1m, p.output_usd_per_1m) == expected


def test_a_negotiated_flat_price_keeps_the_list_s_long_context_rates_as_the_list_cost(
        radar, refresh, monkeypatch):
    """A negotiated gpt-5.6-sol price (3 / 15, no long-context rates) costs both of its
    requests flat; their list cost stays the catalog's, the 272k band's for the one past it
    (FOCUS ListCost against ContractedCost)."""
    overrides = radar.root / "overrides.csv"
    overrides.write_text(",".join(cat.OVERRIDE_HEADER) + "\ngpt-5.6-sol,2026-11-01,,3,,15\n")
    monkeypatch.setenv("RADAR_CATALOG_OVERRIDES", str(overrides))
    _gateway(radar)
    refresh()
    # 272,001 x 3 + 1,000 x 15 and 272,000 x 3 + 1,000 x 15 per 1M
    over_negotiated, at_negotiated = D("0.831003"), D("0.831")
    assert radar.query(
        "SELECT prompt_band, long_context_threshold, cost_usd, contracted_cost_usd, "
        "list_cost_usd FROM intermediate.usage_priced WHERE model = 'gpt-5.6-sol' "
        "ORDER BY prompt_band") == [
        (256_000, None, at_negotiated, at_negotiated, AT_COST),
        (272_000, None, over_negotiated, over_negotiated, OVER_COST)]
    assert radar.query('SELECT "ListCost", "ContractedCost", "BilledCost" FROM '
                       "marts.focus_costs WHERE x_model = 'gpt-5.6-sol'") == [
        (AT_COST + OVER_COST, at_negotiated + over_negotiated, at_negotiated + over_negotiated)]
    # the list's default-tier bands, from the override's start: kept beside it, not applied
    assert radar.query(
        "SELECT DISTINCT model, service_tier, valid_from, valid_to, min_prompt_tokens "
        "FROM catalog.replaced_model_price_bands") == [
        ("gpt-5.6-sol", None, dt.date(2026, 11, 1), None, 272_000)]
    # gpt-5-mini has no override: its list, contracted and billed costs are one
    assert radar.query('SELECT "ListCost", "ContractedCost", "BilledCost" FROM '
                       "marts.focus_costs WHERE x_model = 'gpt-5-mini-2025-08-07'") == [
        (LONG_COST,) * 3]


def test_a_hand_edited_band_without_a_price_row_stops_the_refresh_before_any_pricing(
        radar, monkeypatch, tmp_path):
    """The catalog step fails with the file and line, as for a bad price row: nothing is
    priced with a catalog the warehouse could not use."""
    import shutil

    from pipelines.catalog import assets as catalog_assets
    from tests.conftest import run_job

    data = tmp_path / "catalog_data"
    shutil.copytree(CATALOG_DATA_DIR, data)
    lines = sum(1 for _ in (data / "model_price_bands.csv").open())
    with (data / "model_price_bands.csv").open("a") as fh:
        fh.write("gpt-nowhere,,2020-01-01,,272000,4,,,,,hand edit\n")
    monkeypatch.setattr(catalog_assets, "CATALOG_DATA_DIR", data)
    _gateway(radar)
    result = run_job("radar_refresh")
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_key == "catalog__model_prices"
    error = failure.step_failure_data.error
    assert error is not None and error.cause is not None
    assert (f"model_price_bands.csv line {lines + 1}: gpt-nowhere has no price row"
            in error.cause.message)
    assert not result.asset_materializations_for_node("intermediate__usage_priced")


def test_the_weekly_report_says_how_many_long_prompts_cost_long_context_rates(radar):
    from tests.conftest import run_job

    _gateway(radar)
    assert run_job("weekly_migration_report").success
    assert radar.query(
        "SELECT model, replacement_model, replacement_long_context_threshold "
        "FROM intermediate.usage_priced WHERE model LIKE 'gpt-5-mini%'") == [
        ("gpt-5-mini-2025-08-07", "gpt-5.6-terra", 272_000)]
    line = ("Long prompts: 3 gateway requests in the window passed a long-context threshold "
            "(32k to 512k prompt tokens); 1 of them cost their model's long-context rates "
            "(the rest are on models that bill every prompt alike), and the replacement cost "
            "of 1 on "
            "deprecated models is at the replacement's long-context rates.")
    assert line in (radar.reports / "migration-status-2026-W48.md").read_text()
    assert html.escape(line) in (radar.reports / "migration-status-2026-W48.html").read_text()
