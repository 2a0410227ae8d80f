"""Input written into the prompt cache is priced at the model's cache write price.

Since 2026-07-15 the Usage API reports `input_cache_write_tokens`: a part of `input_tokens`
beside the cached reads and the uncached input. OpenAI's newer models charge 1.25x input for
it (gpt-5.6-terra: $2.50 per 1M against $2), and so does Anthropic; LiteLLM's
`cache_creation_input_token_cost` gives the price. Priced as input, it read low.

Through the gateway, LiteLLM logs Anthropic's `cache_creation_input_tokens` in the request's
usage object (and counts them in `prompt_tokens`, as it does the cached reads), and splits out
those written to live an hour, which Anthropic bills at 2x input (claude-sonnet-4-5: $6 per
1M, against $3.75 for the default five minutes).
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal as D
from typing import Any

import pytest

from pipelines.lib import catalog as cat
from pipelines.lib import openai_pages
from pipelines.lib.catalog_build import prices_from_litellm
from pipelines.lib.money import row_cost
from pipelines.settings import CATALOG_DATA_DIR
from tests.exports import LITELLM_HEADER, bucket, completion, litellm_row, page

# gpt-5-mini-2025-08-07 (deprecated on the fixture's as-of; replacement gpt-5.6-terra): 1M
# input tokens, of which 200,000 cached reads and 300,000 written to the cache; 10,000 output
WRITES = completion(input_tokens=1_000_000, input_cached_tokens=200_000,
                    input_cache_write_tokens=300_000, output_tokens=10_000,
                    num_model_requests=40, project_id="proj_a", api_key_id="key_a",
                    model="gpt-5-mini-2025-08-07", batch=False)
# gpt-5-mini has no cache write price: 800,000 x 0.25 + 200,000 x 0.025 + 10,000 x 2
MODEL_COST = D("0.225")
# gpt-5.6-terra (2 / cached 0.2 / write 2.5 / output 12): 500,000 x 2 + 200,000 x 0.2
# + 300,000 x 2.5 + 10,000 x 12 = 1 + 0.04 + 0.75 + 0.12 = 1.91 (as input: 1.76)
REPLACEMENT_COST = D("1.91")


def test_row_cost_prices_cache_writes_at_their_own_rate_else_as_input():
    assert row_cost(1_000_000, 200_000, 10_000, D("2"), D("0.2"), D("12"),
                    cache_write_input_tokens=300_000, cache_write_price=D("2.5")) \
        == REPLACEMENT_COST
    assert row_cost(1_000_000, 200_000, 10_000, D("2"), D("0.2"), D("12")) == D("1.76")
    assert row_cost(1_000_000, 200_000, 10_000, D("0.25"), D("0.025"), D("2"),
                    cache_write_input_tokens=300_000) == MODEL_COST
    # cache writes, uncached audio and image share the input that is not cached reads
    with pytest.raises(ValueError, match="cannot exceed the uncached input tokens"):
        row_cost(1_000, 100, 0, D("1"), None, D("1"), cache_write_input_tokens=800,
                 input_audio_tokens=101, input_audio_price=D("1"))


def test_api_pages_read_cache_writes_and_quarantine_ones_that_do_not_fit():
    too_much = dict(WRITES, api_key_id="key_b", input_image_tokens=500_001)
    parsed = openai_pages.parse_pages(json.dumps(page([bucket("2026-11-20", [
        WRITES, too_much])])))
    good = parsed.usage.filter(parsed.usage["reason"].is_null())
    assert good["cache_write_input_tokens"].to_list() == [300_000]
    assert parsed.usage["reason"].drop_nulls().to_list() == [
        "input_image_tokens + input_cache_write_tokens (800001) exceeds the uncached input "
        "tokens (800000)"]


def test_catalog_takes_litellm_cache_write_prices_tier_by_tier():
    entry = {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 2e-06,
             "output_cost_per_token": 1.2e-05, "cache_creation_input_token_cost": 2.5e-06,
             "input_cost_per_token_priority": 4e-06, "output_cost_per_token_priority": 2.4e-05}
    rows = prices_from_litellm({"gpt-x": entry}, "test")
    assert rows[("gpt-x", None)].cache_write_input_usd_per_1m == D("2.5")
    assert rows[("gpt-x", "priority")].cache_write_input_usd_per_1m is None
    shipped = {(p.model, p.service_tier): p
               for p in cat.read_prices(CATALOG_DATA_DIR / "model_prices.csv")}
    assert shipped[("gpt-5.6-terra", None)].cache_write_input_usd_per_1m == D("2.5")
    assert shipped[("claude-sonnet-4-5", None)].cache_write_input_usd_per_1m == D("3.75")
    assert shipped[("gpt-5-mini-2025-08-07", None)].cache_write_input_usd_per_1m is None


def test_refresh_prices_cache_writes_on_the_model_and_the_replacement(radar, refresh):
    (radar.landing / "api").mkdir(exist_ok=True)
    (radar.landing / "api" / "usage.json").write_text(
        json.dumps(page([bucket("2026-11-20", [WRITES])])))
    refresh()
    assert radar.query("SELECT model, cost_usd, replacement_model, replacement_cost_usd "
                       "FROM marts.usage_cost_daily") == [
        ("gpt-5-mini-2025-08-07", MODEL_COST, "gpt-5.6-terra", REPLACEMENT_COST)]
    assert radar.query("SELECT cost_usd_28d, replacement_cost_usd_28d "
                       "FROM marts.deprecated_model_usage") == [(MODEL_COST, REPLACEMENT_COST)]


def test_an_override_s_cache_writes_follow_its_own_input_price(tmp_path):
    """A negotiated input price without a cache write price: cache writes at that input
    price, not at the list's cache write price (which is 1.25x the list input)."""
    path = tmp_path / "overrides.csv"
    path.write_text("model,valid_from,valid_to,input_usd_per_1m,cached_input_usd_per_1m,"
                    "output_usd_per_1m,cache_write_input_usd_per_1m,"
                    "cache_write_1h_input_usd_per_1m\n"
                    "gpt-5.6-terra,2026-11-01,,1.6,,10,,\n"
                    "gpt-5.6-sol,2026-11-01,,3,,16,3.5,\n"
                    "claude-sonnet-4-5,2026-11-01,,2.4,0.24,12,3,4.8\n"
                    "claude-sonnet-5-5,2026-11-01,,1.6,0.08,8,,\n")
    merged = {p.model: p for p in cat.apply_overrides(
        cat.read_prices(CATALOG_DATA_DIR / "model_prices.csv"), cat.read_overrides(path))
        if p.valid_from.isoformat() == "2026-11-01"}
    assert merged["gpt-5.6-terra"].cache_write_input_usd_per_1m is None
    assert merged["gpt-5.6-sol"].cache_write_input_usd_per_1m == D("3.5")
    assert (merged["claude-sonnet-4-5"].cache_write_input_usd_per_1m,
            merged["claude-sonnet-4-5"].cache_write_1h_input_usd_per_1m) == (D("3"), D("4.8"))
    # the list's 1-hour price (4) is not kept beside a negotiated input price either
    assert (merged["claude-sonnet-5-5"].cache_write_input_usd_per_1m,
            merged["claude-sonnet-5-5"].cache_write_1h_input_usd_per_1m) == (None, None)


def _gateway(radar, usage_objects: list[dict]) -> None:
    """One claude-sonnet-4-5 request a usage object, each 10,000 prompt tokens and 500
    completion tokens, on 2026-11-20 (before its shutdown on 2026-11-30)."""
    rows = []
    for n, usage in enumerate(usage_objects):
        row = litellm_row(f"r{n}", "claude-sonnet-4-5", 10_000, 500, "", "growth", "success",
                          day="2026-11-20")
        row[LITELLM_HEADER.index("metadata")] = json.dumps({"usage_object": usage})
        rows.append(row)
    with (radar.landing / "spend.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([LITELLM_HEADER, *rows])


# LiteLLM's usage object of an Anthropic call: 6,000 cached reads, 3,000 cache writes, 1,000
# other prompt tokens, all counted in prompt_tokens. Newer versions copy the writes into
# prompt_tokens_details too.
ANTHROPIC_USAGE = {"prompt_tokens": 10_000, "completion_tokens": 500,
                   "cache_creation_input_tokens": 3_000, "cache_read_input_tokens": 6_000,
                   "prompt_tokens_details": {"cached_tokens": 6_000}}
NEWER_USAGE = {**ANTHROPIC_USAGE, "prompt_tokens_details": {
    "cached_tokens": 6_000, "cache_creation_tokens": 3_000}}
# claude-sonnet-4-5 (3 / cached 0.3 / write 3.75 / output 15): 1,000 x 3 + 6,000 x 0.3
# + 3,000 x 3.75 + 500 x 15 = 23,550 per 1M (as input: 21,300)
GATEWAY_COST = D("0.02355")
# claude-sonnet-5-5 (2 / 0.1 / 2.5 / 10): 2,000 + 600 + 7,500 + 5,000 = 15,100 (as input:
# 13,600)
GATEWAY_REPLACEMENT_COST = D("0.0151")


def test_a_gateway_request_s_cache_writes_are_read_from_its_usage_object(radar, refresh):
    _gateway(radar, [ANTHROPIC_USAGE, NEWER_USAGE])
    result = refresh()
    meta = result.asset_materializations_for_node("intermediate__usage_priced")[0].metadata
    assert (meta["rows_with_cache_writes"].value, meta["cache_write_tokens"].value) == (1, 6_000)
    assert radar.query(
        "SELECT sum(input_tokens), sum(cached_input_tokens), sum(cache_write_input_tokens) "
        "FROM staging.usage") == [(20_000, 12_000, 6_000)]
    assert radar.query("SELECT model, cost_usd, replacement_model, replacement_cost_usd "
                       "FROM marts.usage_cost_daily") == [
        ("claude-sonnet-4-5", 2 * GATEWAY_COST, "claude-sonnet-5-5",
         2 * GATEWAY_REPLACEMENT_COST)]


def test_a_gateway_request_s_cache_writes_stay_within_its_prompt(radar, refresh):
    """Cache writes past what the cached reads leave of the prompt are capped there; a
    negative or non-numeric count is none."""
    _gateway(radar, [
        {"cache_creation_input_tokens": 9_000, "prompt_tokens_details": {"cached_tokens": 6_000}},
        {"cache_creation_input_tokens": -3, "prompt_tokens_details": {"cached_tokens": 6_000}},
        {"cache_creation_input_tokens": "x", "prompt_tokens_details": {"cached_tokens": 6_000}},
    ])
    result = refresh()
    assert radar.query("SELECT sum(cache_write_input_tokens) FROM staging.usage") == [
        (4_000 + 0 + 0,)]
    assert [e.asset_check_evaluation_data.passed for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
            and e.asset_check_evaluation_data.check_name == "staging_usage_is_valid"] == [True]


# the Anthropic call above with 2,000 of its 3,000 cache writes written to live an hour, as
# LiteLLM splits them out: claude-sonnet-4-5 (1-hour writes at 6): 1,000 x 3 + 6,000 x 0.3
# + 1,000 x 3.75 + 2,000 x 6 + 500 x 15 = 28,050 per 1M; claude-sonnet-5-5 (2 / 0.1 / 2.5 /
# 1-hour 4 / 10): 2,000 + 600 + 2,500 + 8,000 + 5,000 = 18,100
ONE_HOUR_USAGE = {**ANTHROPIC_USAGE, "prompt_tokens_details": {
    "cached_tokens": 6_000, "cache_creation_tokens": 3_000,
    "cache_creation_token_details": {"ephemeral_5m_input_tokens": 1_000,
                                     "ephemeral_1h_input_tokens": 2_000}}}
ONE_HOUR_COST = D("0.02805")
ONE_HOUR_REPLACEMENT_COST = D("0.0181")


def test_row_cost_prices_one_hour_cache_writes_at_their_own_rate():
    kw: dict[str, Any] = {"cache_write_input_tokens": 3_000, "cache_write_price": D("3.75")}
    assert row_cost(10_000, 6_000, 500, D("3"), D("0.3"), D("15"), **kw,
                    cache_write_1h_input_tokens=2_000, cache_write_1h_price=D("6")) \
        == ONE_HOUR_COST
    # without a 1-hour price, as the other cache writes
    assert row_cost(10_000, 6_000, 500, D("3"), D("0.3"), D("15"), **kw,
                    cache_write_1h_input_tokens=2_000) == GATEWAY_COST
    with pytest.raises(ValueError, match="cannot exceed cache_write_input_tokens"):
        row_cost(10_000, 6_000, 500, D("3"), D("0.3"), D("15"), **kw,
                 cache_write_1h_input_tokens=3_001)


def test_catalog_takes_litellm_one_hour_cache_write_prices():
    entry = {"litellm_provider": "anthropic", "mode": "chat", "input_cost_per_token": 3e-06,
             "output_cost_per_token": 1.5e-05, "cache_creation_input_token_cost": 3.75e-06,
             "cache_creation_input_token_cost_above_1hr": 6e-06}
    row = prices_from_litellm({"claude-x": entry}, "test")[("claude-x", None)]
    assert (row.cache_write_input_usd_per_1m, row.cache_write_1h_input_usd_per_1m) == (
        D("3.75"), D("6"))
    shipped = {(p.model, p.service_tier): p
               for p in cat.read_prices(CATALOG_DATA_DIR / "model_prices.csv")}
    assert shipped[("claude-sonnet-4-5", None)].cache_write_1h_input_usd_per_1m == D("6")
    assert shipped[("claude-sonnet-5-5", None)].cache_write_1h_input_usd_per_1m == D("4")
    assert shipped[("gpt-5.6-terra", None)].cache_write_1h_input_usd_per_1m is None


def test_a_gateway_request_s_one_hour_cache_writes_are_priced_at_the_one_hour_rate(
        radar, refresh):
    _gateway(radar, [ONE_HOUR_USAGE, {**ONE_HOUR_USAGE, "prompt_tokens_details": {
        # more 1-hour writes than writes: capped at the writes
        "cached_tokens": 6_000, "cache_creation_token_details": {
            "ephemeral_1h_input_tokens": 5_000}}}])
    result = refresh()
    assert radar.query("SELECT sum(cache_write_input_tokens), sum(cache_write_1h_input_tokens) "
                       "FROM staging.usage") == [(6_000, 2_000 + 3_000)]
    meta = result.asset_materializations_for_node("intermediate__usage_priced")[0].metadata
    assert (meta["cache_write_tokens"].value, meta["cache_write_1h_tokens"].value) == (
        6_000, 5_000)
    # the second request's 3,000 writes all at the 1-hour rate: 2,250 + 3,000 x (6 - 3.75)
    # = 6,750 more than as five-minute writes; on claude-sonnet-5-5 3,000 x 1.5 = 4,500
    assert radar.query("SELECT cost_usd, replacement_cost_usd FROM marts.usage_cost_daily") == [
        (ONE_HOUR_COST + GATEWAY_COST + D("0.00675"),
         ONE_HOUR_REPLACEMENT_COST + GATEWAY_REPLACEMENT_COST + D("0.0045"))]
    assert [e.asset_check_evaluation_data.passed for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
            and e.asset_check_evaluation_data.check_name == "staging_usage_is_valid"] == [True]
