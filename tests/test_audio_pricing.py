"""Audio tokens are priced at their own rates, never as text.

The Usage API and the dashboard export split a completions bucket's tokens into text and
audio (`input_audio_tokens`, `input_cached_audio_tokens`, `output_audio_tokens`: parts of the
totals). Audio and realtime models charge 8-40x the text rate for audio (gpt-realtime: $32 per
1M audio input tokens against $4 for text), and several retire on 2027-01-20.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal as D

import duckdb
import pytest

from pipelines.lib import catalog as cat
from pipelines.lib import dashboard_csv, openai_pages
from pipelines.lib.catalog_build import prices_from_litellm
from pipelines.lib.money import row_cost
from pipelines.settings import CATALOG_DATA_DIR
from tests.conftest import unique_dict
from tests.exports import LITELLM_HEADER, bucket, completion, epoch, litellm_row, page

# gpt-realtime, 100 requests: 1,000,000 input tokens, of which 200,000 cached (100,000 of them
# audio) and 500,000 uncached audio; 100,000 output tokens, 80,000 of them audio.
REALTIME = completion(
    input_tokens=1_000_000, input_cached_tokens=200_000, input_audio_tokens=500_000,
    input_cached_audio_tokens=100_000, output_tokens=100_000, output_audio_tokens=80_000,
    num_model_requests=100, project_id="proj_a", api_key_id="key_a", model="gpt-realtime",
    batch=False)
# at gpt-realtime's prices (text 4 / cached 0.4 / output 16; audio 32 / cached 0.4 / 64):
# 300,000 x 4 + 100,000 x 0.4 + 100,000 x 0.4 + 500,000 x 32 + 20,000 x 16 + 80,000 x 64
# = 1.2 + 0.04 + 0.04 + 16 + 0.32 + 5.12 = 22.72 USD (all at text prices: 4.88 USD)
REALTIME_COST = D("22.72")
# on its replacement gpt-realtime-2.1 (the same, but text output 24): 0.48 for the text output
REALTIME_REPLACEMENT_COST = D("22.88")
# a text model's bucket that reports audio input: the catalog has no audio price for gpt-4o
AUDIO_ON_TEXT_MODEL = completion(
    input_tokens=10_000, input_audio_tokens=2_000, output_tokens=100, num_model_requests=3,
    project_id="proj_a", api_key_id="key_a", model="gpt-4o-2024-08-06", batch=False)


def test_row_cost_prices_each_audio_part_at_its_own_rate():
    cost = row_cost(1_000_000, 200_000, 100_000, D("4"), D("0.4"), D("16"),
                    input_audio_tokens=500_000, cached_input_audio_tokens=100_000,
                    output_audio_tokens=80_000, input_audio_price=D("32"),
                    cached_audio_price=D("0.4"), output_audio_price=D("64"))
    assert cost == REALTIME_COST
    text_only = row_cost(1_000_000, 200_000, 100_000, D("4"), D("0.4"), D("16"))
    assert text_only == D("4.88")
    # cached audio without its own price: the cached price; batch halves the whole row
    assert row_cost(1_000_000, 1_000_000, 0, D("4"), D("0.5"), D("16"),
                    cached_input_audio_tokens=400_000, input_audio_price=D("32"),
                    output_audio_price=D("64"), is_batch=True) == D("0.25")


@pytest.mark.parametrize("kw, message", [
    ({"input_audio_tokens": 10}, "no input audio price"),
    ({"output_audio_tokens": 10}, "no output audio price"),
    ({"input_audio_tokens": 901, "input_audio_price": D("1")}, "uncached input"),
    ({"cached_input_audio_tokens": 101}, "cannot exceed cached_input_tokens"),
    ({"output_audio_tokens": 11, "output_audio_price": D("1")}, "cannot exceed output"),
])
def test_row_cost_refuses_audio_it_cannot_price_or_that_does_not_fit(kw, message):
    with pytest.raises(ValueError, match=message):
        row_cost(1_000, 100, 10, D("1"), None, D("1"), **kw)


def test_api_pages_read_the_audio_parts_and_quarantine_ones_that_do_not_fit():
    too_much = dict(REALTIME, input_audio_tokens=800_001, api_key_id="key_b")
    parsed = openai_pages.parse_pages(json.dumps(page([bucket("2026-11-20", [
        REALTIME, too_much])])))
    good = parsed.usage.filter(parsed.usage["reason"].is_null())
    assert good.select("input_audio_tokens", "cached_input_audio_tokens",
                       "output_audio_tokens").rows() == [(500_000, 100_000, 80_000)]
    assert parsed.usage["reason"].drop_nulls().to_list() == [
        "input_audio_tokens (800001) exceeds the uncached input tokens (800000)"]


def test_dashboard_export_reads_the_audio_columns(tmp_path):
    """The activity export's column set (formats.md, S6): audio columns beside the totals."""
    s, e = epoch("2026-11-20"), epoch("2026-11-21")
    header = ("start_time,end_time,project_id,num_model_requests,model,batch,input_tokens,"
              "output_tokens,input_cached_tokens,input_audio_tokens,input_cached_audio_tokens,"
              "output_audio_tokens")
    path = tmp_path / "activity.csv"
    path.write_text(f"{header}\n"
                    f"{s},{e},proj_a,100.0,gpt-realtime,FALSE,1000000.0,100000.0,200000.0,"
                    "500000.0,100000.0,80000.0\n"
                    f"{s},{e},proj_b,1.0,gpt-realtime,FALSE,10.0,10.0,0.0,0.0,0.0,11.0\n")
    kind, df, read, *_ = dashboard_csv.parse_dashboard_csv(path)
    assert (kind, read) == ("usage", 2)
    good = df.filter(df["reason"].is_null())
    assert good.select("input_audio_tokens", "cached_input_audio_tokens",
                       "output_audio_tokens").rows() == [(500_000, 100_000, 80_000)]
    assert df["reason"].drop_nulls().to_list() == ["output_audio_tokens exceeds output_tokens"]


def test_catalog_build_takes_litellm_audio_prices_tier_by_tier():
    entry = {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 4e-06,
             "cache_read_input_token_cost": 4e-07, "output_cost_per_token": 1.6e-05,
             "input_cost_per_audio_token": 3.2e-05, "cache_read_input_audio_token_cost": 4e-07,
             "output_cost_per_audio_token": 6.4e-05,
             "input_cost_per_token_priority": 8e-06, "output_cost_per_token_priority": 3.2e-05}
    rows = prices_from_litellm({"gpt-x-realtime": entry, "gpt-x": {
        "litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06,
        "output_cost_per_token": 2e-06}}, "test")
    default = rows[("gpt-x-realtime", None)]
    assert (default.input_audio_usd_per_1m, default.cached_input_audio_usd_per_1m,
            default.output_audio_usd_per_1m) == (D("32"), D("0.4"), D("64"))
    # a tier without its own audio prices has none: its audio is not priced at another tier's
    assert rows[("gpt-x-realtime", "priority")].input_audio_usd_per_1m is None
    assert rows[("gpt-x", None)].input_audio_usd_per_1m is None


def test_shipped_catalog_has_the_audio_prices_of_the_retiring_audio_models():
    prices = {(p.model, p.service_tier): p
              for p in cat.read_prices(CATALOG_DATA_DIR / "model_prices.csv")}
    realtime = prices[("gpt-realtime", None)]
    assert (realtime.input_audio_usd_per_1m, realtime.output_audio_usd_per_1m) == (
        D("32"), D("64"))
    assert prices[("gpt-4o-2024-08-06", None)].input_audio_usd_per_1m is None


def test_an_override_keeps_the_audio_prices_unless_it_gives_its_own(tmp_path):
    builtin = cat.read_prices(CATALOG_DATA_DIR / "model_prices.csv")
    path = tmp_path / "overrides.csv"
    path.write_text("model,valid_from,valid_to,input_usd_per_1m,cached_input_usd_per_1m,"
                    "output_usd_per_1m,output_audio_usd_per_1m\n"
                    "gpt-realtime,2026-11-01,,3,,12,\n"
                    "gpt-audio-1.5,2026-11-01,,2,,8,50\n")
    merged = [p for p in cat.apply_overrides(builtin, cat.read_overrides(path))
              if p.valid_from == dt.date(2026, 11, 1)]
    by_model = {p.model: p for p in merged}
    assert (by_model["gpt-realtime"].input_usd_per_1m,
            by_model["gpt-realtime"].input_audio_usd_per_1m,
            by_model["gpt-realtime"].output_audio_usd_per_1m) == (D("3"), D("32"), D("64"))
    # an override with audio prices of its own: those, and none it leaves empty
    assert (by_model["gpt-audio-1.5"].output_audio_usd_per_1m,
            by_model["gpt-audio-1.5"].input_audio_usd_per_1m) == (D("50"), None)


def _write_page(radar, name: str, results: list[dict], day: str = "2026-11-20") -> None:
    (radar.landing / "api").mkdir(exist_ok=True)
    (radar.landing / "api" / name).write_text(json.dumps(page([bucket(day, results)])))


def test_refresh_prices_audio_and_leaves_audio_without_a_price_unpriced(radar, refresh):
    _write_page(radar, "usage.json", [REALTIME, AUDIO_ON_TEXT_MODEL])
    result = refresh()
    meta = result.asset_materializations_for_node("intermediate__usage_priced")[0].metadata
    # the Dagster UI shows how much audio there is, and how much of it has no price
    assert (meta["rows_with_audio"].value, meta["audio_tokens"].value,
            meta["audio_rows_without_an_audio_price"].value) == (2, 682_000, 1)
    rows = unique_dict((model, rest) for model, *rest in radar.query(
        "SELECT model, cost_usd, list_cost_usd, replacement_model, replacement_cost_usd, "
        "priced, unpriced_reason FROM marts.usage_cost_daily"))
    assert rows["gpt-realtime"] == [REALTIME_COST, REALTIME_COST, "gpt-realtime-2.1",
                                    REALTIME_REPLACEMENT_COST, True, None]
    assert rows["gpt-4o-2024-08-06"][0] is None and rows["gpt-4o-2024-08-06"][4] is False
    assert radar.query("SELECT model, reason FROM marts.unpriced_usage") == [
        ("gpt-4o-2024-08-06",
         "audio tokens, and the catalog has no audio price for the model")]
    # the warehouse's SQL and money.row_cost agree, from the prices the warehouse holds
    (audio_in, cached_audio, audio_out, text_in, cached, out) = radar.query(
        "SELECT input_audio_usd_per_1m, cached_input_audio_usd_per_1m, "
        "output_audio_usd_per_1m, input_usd_per_1m, cached_input_usd_per_1m, "
        "output_usd_per_1m FROM catalog.model_prices "
        "WHERE model = 'gpt-realtime' AND service_tier IS NULL")[0]
    assert row_cost(1_000_000, 200_000, 100_000, text_in, cached, out,
                    input_audio_tokens=500_000, cached_input_audio_tokens=100_000,
                    output_audio_tokens=80_000, input_audio_price=audio_in,
                    cached_audio_price=cached_audio, output_audio_price=audio_out
                    ) == REALTIME_COST
    # gpt-realtime retires on 2027-01-20: its row in the migration mart carries the audio
    assert radar.query("SELECT cost_usd_28d, replacement_cost_usd_28d "
                       "FROM marts.deprecated_model_usage WHERE model = 'gpt-realtime'") == [
        (REALTIME_COST, REALTIME_REPLACEMENT_COST)]


def test_a_warehouse_from_before_the_audio_columns_takes_them_on(radar, refresh):
    """A warehouse whose tables have no audio columns (every version before this one) gets
    them on its next run: the rows it holds count as text (they were read without a split),
    and new files' audio is priced."""
    _write_page(radar, "old.json", [dict(REALTIME, input_audio_tokens=0,
                                         input_cached_audio_tokens=0, output_audio_tokens=0)])
    refresh()
    con = duckdb.connect(str(radar.warehouse))
    for table in ("staging.usage", "intermediate.usage_daily", "intermediate.usage_set_aside"):
        for column in ("input_audio_tokens", "cached_input_audio_tokens",
                       "output_audio_tokens"):
            con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    con.close()
    _write_page(radar, "new.json", [REALTIME], day="2026-11-21")
    refresh()
    assert radar.query("SELECT usage_date, cost_usd FROM marts.usage_cost_daily "
                       "ORDER BY usage_date") == [
        (dt.date(2026, 11, 20), D("4.88")), (dt.date(2026, 11, 21), REALTIME_COST)]


def test_a_day_no_price_window_covers_says_so(radar, refresh, monkeypatch):
    """A model priced only by an override whose window leaves a day out: that day's usage is
    unpriced with that reason (before, it read 'endpoint metered in non-token units')."""
    overrides = radar.root / "overrides.csv"
    overrides.write_text("model,valid_from,valid_to,input_usd_per_1m,cached_input_usd_per_1m,"
                         "output_usd_per_1m\nhouse-model,2026-11-21,,1,,2\n")
    monkeypatch.setenv("RADAR_CATALOG_OVERRIDES", str(overrides))
    house = completion(input_tokens=1_000_000, output_tokens=0, num_model_requests=1,
                       project_id="proj_a", model="house-model", batch=False)
    _write_page(radar, "day1.json", [house])
    _write_page(radar, "day2.json", [house], day="2026-11-21")
    refresh()
    assert radar.query("SELECT usage_date, cost_usd, unpriced_reason FROM "
                       "marts.usage_cost_daily ORDER BY usage_date") == [
        (dt.date(2026, 11, 20), None, "no catalog price in effect on the usage date"),
        (dt.date(2026, 11, 21), D("1"), None)]
    assert radar.query("SELECT reason FROM marts.unpriced_usage") == [
        ("no catalog price in effect on the usage date",)]


def test_a_gateway_request_s_audio_is_priced_at_the_audio_rates(radar, refresh):
    """One gpt-realtime call through LiteLLM: 1,000 prompt tokens (200 cached reads, 600
    audio), 100 completion tokens (80 audio): 200 x 4 + 200 x 0.4 + 600 x 32 + 20 x 16
    + 80 x 64 = 25,520 per 1M = 0.02552 USD (as text alone: 0.00248)."""
    row = litellm_row("r1", "gpt-realtime", 1_000, 100, "", "growth", "success")
    row[LITELLM_HEADER.index("metadata")] = json.dumps({"usage_object": {
        "prompt_tokens_details": {"cached_tokens": 200, "audio_tokens": 600},
        "completion_tokens_details": {"audio_tokens": 80}}})
    with (radar.landing / "spend.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([LITELLM_HEADER, row])
    refresh()
    assert radar.query("SELECT source, model, cost_usd FROM marts.usage_cost_daily") == [
        ("litellm", "gpt-realtime", D("0.02552"))]


def test_a_deprecated_model_priced_on_one_key_and_not_on_another_does_not_stop_the_run(
        radar, refresh):
    """gpt-4o's text on one key, its audio (no audio price) on another: the pair's cost in
    deprecated_model_usage is NULL (a partial sum would read as the whole), the priced
    caller keeps its cost. The two blocking checks that compare the marts summed the priced
    rows alone, failed, and stopped the run before the report and the BI copy."""
    text = dict(AUDIO_ON_TEXT_MODEL, input_audio_tokens=0, api_key_id="key_text")
    _write_page(radar, "usage.json", [text, AUDIO_ON_TEXT_MODEL])
    refresh()  # asserts the run succeeded
    assert radar.query("SELECT requests_28d, cost_usd_28d FROM marts.deprecated_model_usage "
                       "WHERE model = 'gpt-4o-2024-08-06'") == [(6, None)]
    assert radar.query("SELECT api_key_id, cost_usd_28d FROM marts.deprecated_model_callers "
                       "ORDER BY 1") == [("key_a", None), ("key_text", D("0.026"))]


def test_a_daily_row_summing_a_priced_and_an_unpriced_gateway_group_does_not_stop_the_run(
        radar, refresh):
    """One key in two LiteLLM teams on one day, neither mapped nor named: both are team
    unassigned, so usage_cost_daily sums their rows into one. One request carries audio
    that gpt-4o has no price for: the daily row has no cost. costs_reconcile_across_layers
    compared it with the priced intermediate rows alone, failed, and stopped the run."""
    plain = litellm_row("r1", "gpt-4o-2024-08-06", 1_000, 100, "t-1", "", "success")
    audio = litellm_row("r2", "gpt-4o-2024-08-06", 1_000, 100, "t-2", "", "success")
    audio[LITELLM_HEADER.index("metadata")] = json.dumps({
        "user_api_key_team_id": "t-2",
        "usage_object": {"prompt_tokens_details": {"audio_tokens": 600}}})
    with (radar.landing / "spend.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([LITELLM_HEADER, plain, audio])
    refresh()  # asserts the run succeeded
    assert radar.query("SELECT team, requests, cost_usd, priced FROM marts.usage_cost_daily"
                       ) == [("unassigned", 2, None, False)]
