"""Image tokens are priced at their own rates, and image models are in the catalog.

Since 2026-07-15 the Usage API and the dashboard export split a completions bucket's tokens
into text, audio and image (`input_image_tokens`, `input_cached_image_tokens`,
`output_image_tokens`: parts of the totals, beside the audio parts). Image models charge more
for image tokens than for text (gpt-image-1.5: $8 per 1M image input tokens against $5, $32
per 1M image output against $10), and gpt-image-1 was shut down on 2026-10-23, gpt-image-1.5,
gpt-image-1-mini and chatgpt-image-latest on 2026-12-01. LiteLLM gives gpt-image-1's output
price as an image price alone, so the catalog used to leave it out (its usage unpriced), and
with it the recommended replacement, gpt-image-2.5-sunburst.
"""

from __future__ import annotations

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
from tests.exports import bucket, completion, epoch, page

# 50 requests: 100,000 input tokens, of which 20,000 cached (10,000 of them image) and
# 60,000 uncached image; 400,000 output tokens, all image (an image model writes no text).
TOKENS = {"input_tokens": 100_000, "input_cached_tokens": 20_000,
          "input_image_tokens": 60_000, "input_cached_image_tokens": 10_000,
          "output_tokens": 400_000, "output_image_tokens": 400_000}
GPT_IMAGE_1 = completion(**TOKENS, num_model_requests=50, project_id="proj_a",
                         api_key_id="key_a", model="gpt-image-1", batch=False)
GPT_IMAGE_15 = dict(GPT_IMAGE_1, model="gpt-image-1.5")
# gpt-image-1 (text 5 / cached 1.25; image 10 / cached 2.5 / output 40):
# 20,000 x 5 + 10,000 x 1.25 + 60,000 x 10 + 10,000 x 2.5 + 400,000 x 40
# = 0.1 + 0.0125 + 0.6 + 0.025 + 16 = 16.7375 USD
GPT_IMAGE_1_COST = D("16.7375")
# gpt-image-1.5 (text 5 / 1.25 / 10; image 8 / 2 / 32): 0.1 + 0.0125 + 0.48 + 0.02 + 12.8
# = 13.4125 USD; all as text, as before: 80,000 x 5 + 20,000 x 1.25 + 400,000 x 10 = 4.425
GPT_IMAGE_15_COST = D("13.4125")
# both on gpt-image-2.5-sunburst (text 5 / 1.25; image 8 / 2 / 30): 0.1 + 0.0125 + 0.48
# + 0.02 + 12 = 12.6125 USD
SUNBURST_COST = D("12.6125")
# a vision model: its image input is billed as text input; image output it has no price for
VISION = completion(input_tokens=10_000, input_image_tokens=4_000, output_tokens=100,
                    num_model_requests=3, project_id="proj_a", api_key_id="key_b",
                    model="gpt-4o-2024-08-06", batch=False)
IMAGE_OUT_ON_TEXT_MODEL = dict(VISION, api_key_id="key_c", output_image_tokens=50)


def _image_prices(model: str) -> dict:
    prices = {p.model: p for p in cat.read_prices(CATALOG_DATA_DIR / "model_prices.csv")
              if p.service_tier is None}
    p = prices[model]
    return {"input_price": p.input_usd_per_1m, "cached_price": p.cached_input_usd_per_1m,
            "output_price": p.output_usd_per_1m, "input_image_price": p.input_image_usd_per_1m,
            "cached_image_price": p.cached_input_image_usd_per_1m,
            "output_image_price": p.output_image_usd_per_1m}


def _cost(**prices) -> D:
    return row_cost(100_000, 20_000, 400_000, is_batch=False, input_image_tokens=60_000,
                    cached_input_image_tokens=10_000, output_image_tokens=400_000, **prices)


def test_row_cost_prices_each_image_part_at_its_own_rate():
    assert _cost(**_image_prices("gpt-image-1")) == GPT_IMAGE_1_COST
    assert _cost(**_image_prices("gpt-image-1.5")) == GPT_IMAGE_15_COST
    assert _cost(**_image_prices("gpt-image-2.5-sunburst")) == SUNBURST_COST
    assert row_cost(100_000, 20_000, 400_000, D("5"), D("1.25"), D("10")) == D("4.425")


def test_image_input_without_an_image_price_is_text_and_image_output_is_not_priceable():
    # a vision model: 4,000 of 10,000 input tokens are image, all at the text rate
    assert row_cost(10_000, 0, 100, D("2.5"), D("1.25"), D("10"),
                    input_image_tokens=4_000) == row_cost(10_000, 0, 100, D("2.5"), D("1.25"),
                                                          D("10")) == D("0.026")
    # cached image without its own price: the cached price
    assert row_cost(10_000, 8_000, 0, D("2"), D("1"), D("8"), cached_input_image_tokens=8_000,
                    input_image_price=D("4")) == D("0.012")
    with pytest.raises(ValueError, match="no output image price"):
        row_cost(10_000, 0, 100, D("2.5"), None, D("10"), output_image_tokens=50)
    # the audio and image parts of a total together cannot exceed it
    with pytest.raises(ValueError, match="input_audio_tokens \\+ input_image_tokens"):
        row_cost(1_000, 0, 0, D("1"), None, D("1"), input_audio_tokens=600,
                 input_image_tokens=401, input_audio_price=D("1"))


def test_api_pages_and_dashboard_sheets_read_the_image_parts():
    too_much = dict(GPT_IMAGE_1, api_key_id="key_b", input_audio_tokens=30_001)
    parsed = openai_pages.parse_pages(json.dumps(page([bucket("2026-11-20", [
        GPT_IMAGE_1, too_much])])))
    good = parsed.usage.filter(parsed.usage["reason"].is_null())
    assert good.select("input_image_tokens", "cached_input_image_tokens",
                       "output_image_tokens").rows() == [(60_000, 10_000, 400_000)]
    assert parsed.usage["reason"].drop_nulls().to_list() == [
        "input_audio_tokens + input_image_tokens (90001) exceeds the uncached input tokens "
        "(80000)"]


def test_dashboard_export_reads_the_image_columns(tmp_path):
    s, e = epoch("2026-11-20"), epoch("2026-11-21")
    header = ("start_time,end_time,project_id,num_model_requests,model,batch,input_tokens,"
              "output_tokens,input_cached_tokens,input_audio_tokens,input_image_tokens,"
              "input_cached_image_tokens,output_image_tokens")
    path = tmp_path / "activity.csv"
    path.write_text(f"{header}\n"
                    f"{s},{e},proj_a,50.0,gpt-image-1,FALSE,100000.0,400000.0,20000.0,0.0,"
                    "60000.0,10000.0,400000.0\n"
                    f"{s},{e},proj_b,1.0,gpt-image-1,FALSE,100.0,10.0,0.0,0.0,0.0,0.0,11.0\n"
                    f"{s},{e},proj_c,1.0,gpt-image-1,FALSE,100.0,10.0,0.0,60.0,41.0,0.0,0.0\n")
    sheet = dashboard_csv.parse_dashboard_csv(path)
    good = sheet.rows.filter(sheet.rows["reason"].is_null())
    assert good.select("input_image_tokens", "cached_input_image_tokens",
                       "output_image_tokens").rows() == [(60_000, 10_000, 400_000)]
    assert sheet.rows["reason"].drop_nulls().to_list() == [
        "output_image_tokens exceeds output_tokens",
        "input_audio_tokens + input_image_tokens exceeds the uncached input tokens"]


def test_catalog_build_takes_image_models_and_their_image_prices():
    """An image model's LiteLLM entry gives its output price as an image price alone: that is
    its output price. A chat entry without an output price is still left out."""
    image = {"litellm_provider": "openai", "mode": "image_generation",
             "input_cost_per_token": 5e-06, "cache_read_input_token_cost": 1.25e-06,
             "input_cost_per_image_token": 1e-05, "cache_read_input_image_token_cost": 2.5e-06,
             "output_cost_per_image_token": 4e-05, "input_cost_per_token_batches": 2.5e-06}
    chat = {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06,
            "output_cost_per_image_token": 4e-05}
    rows = prices_from_litellm({"gpt-image-x": image, "gpt-chat-x": chat}, "test")
    assert list(rows) == [("gpt-image-x", None)]
    row = rows[("gpt-image-x", None)]
    assert (row.input_usd_per_1m, row.cached_input_usd_per_1m, row.output_usd_per_1m,
            row.input_image_usd_per_1m, row.cached_input_image_usd_per_1m,
            row.output_image_usd_per_1m, row.batch_discount) == (
        D("5"), D("1.25"), D("40"), D("10"), D("2.5"), D("40"), D("0.5"))


def test_shipped_catalog_prices_the_retired_image_models_and_their_replacement():
    prices = {(p.model, p.service_tier): p
              for p in cat.read_prices(CATALOG_DATA_DIR / "model_prices.csv")}
    lifecycle = {lc.model: lc for lc in cat.read_lifecycle(
        CATALOG_DATA_DIR / "model_lifecycle.csv")}
    for model in ("gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "chatgpt-image-latest"):
        assert prices[(model, None)].output_image_usd_per_1m is not None, model
        assert lifecycle[model].replacement_model == "gpt-image-2.5-sunburst", model
    sunburst = prices[("gpt-image-2.5-sunburst", None)]
    assert (sunburst.input_image_usd_per_1m, sunburst.output_usd_per_1m,
            sunburst.output_image_usd_per_1m) == (D("8"), D("30"), D("30"))
    assert prices[("gpt-realtime", None)].input_image_usd_per_1m == D("5")
    assert prices[("gpt-4o-2024-08-06", None)].input_image_usd_per_1m is None


def test_an_override_keeps_the_image_prices_unless_it_gives_its_own(tmp_path):
    builtin = cat.read_prices(CATALOG_DATA_DIR / "model_prices.csv")
    path = tmp_path / "overrides.csv"
    path.write_text("model,valid_from,valid_to,input_usd_per_1m,cached_input_usd_per_1m,"
                    "output_usd_per_1m,output_image_usd_per_1m,output_audio_usd_per_1m\n"
                    "gpt-image-1.5,2026-11-01,,4,,8,,\n"
                    "gpt-image-2,2026-11-01,,4,,24,24,\n"
                    "gpt-realtime,2026-11-01,,3,,12,,50\n")
    merged = {p.model: p for p in cat.apply_overrides(builtin, cat.read_overrides(path))
              if p.valid_from == dt.date(2026, 11, 1)}
    assert (merged["gpt-image-1.5"].input_usd_per_1m,
            merged["gpt-image-1.5"].output_image_usd_per_1m) == (D("4"), D("32"))
    assert (merged["gpt-image-2"].output_image_usd_per_1m,
            merged["gpt-image-2"].input_image_usd_per_1m) == (D("24"), None)
    # audio given, image not: the image prices stay the catalog's
    assert (merged["gpt-realtime"].output_audio_usd_per_1m,
            merged["gpt-realtime"].input_audio_usd_per_1m,
            merged["gpt-realtime"].input_image_usd_per_1m) == (D("50"), None, D("5"))


def _write_page(radar, name: str, results: list[dict], day: str = "2026-11-20") -> None:
    (radar.landing / "api").mkdir(exist_ok=True)
    (radar.landing / "api" / name).write_text(json.dumps(page([bucket(day, results)])))


def test_refresh_prices_image_tokens_and_the_replacement(radar, refresh):
    _write_page(radar, "usage.json", [GPT_IMAGE_1, GPT_IMAGE_15, VISION,
                                      IMAGE_OUT_ON_TEXT_MODEL])
    result = refresh()
    meta = result.asset_materializations_for_node("intermediate__usage_priced")[0].metadata
    assert (meta["rows_with_image"].value, meta["image_tokens"].value,
            meta["image_rows_without_an_image_price"].value) == (4, 2 * 470_000 + 4_000 + 4_050,
                                                                 1)
    rows = unique_dict(((model, key), rest) for model, key, *rest in radar.query(
        "SELECT model, api_key_id, cost_usd, replacement_model, replacement_cost_usd, priced, "
        "unpriced_reason, lifecycle_status FROM marts.usage_cost_daily"))
    assert rows[("gpt-image-1", "key_a")] == [GPT_IMAGE_1_COST, "gpt-image-2.5-sunburst",
                                              SUNBURST_COST, True, None, "shutdown"]
    assert rows[("gpt-image-1.5", "key_a")] == [GPT_IMAGE_15_COST, "gpt-image-2.5-sunburst",
                                                SUNBURST_COST, True, None, "deprecated"]
    assert rows[("gpt-4o-2024-08-06", "key_b")][0] == D("0.026")
    assert rows[("gpt-4o-2024-08-06", "key_c")][:1] + rows[("gpt-4o-2024-08-06", "key_c")][3:5] \
        == [None, False, "image output tokens, and the catalog has no image output price for "
                         "the model"]
    assert radar.query("SELECT model, reason FROM marts.unpriced_usage") == [
        ("gpt-4o-2024-08-06",
         "image output tokens, and the catalog has no image output price for the model")]
    # a deprecated model with one row priced and one not: no cost for the pair, nor for the
    # unpriced caller (the blocking checks that compare the marts used to fail on this, since
    # the audio split of 2026-12-05, and stop the run)
    assert radar.query("SELECT requests_28d, cost_usd_28d FROM marts.deprecated_model_usage "
                       "WHERE model = 'gpt-4o-2024-08-06'") == [(6, None)]
    assert radar.query("SELECT api_key_id, cost_usd_28d FROM marts.deprecated_model_callers "
                       "WHERE model = 'gpt-4o-2024-08-06' ORDER BY 1") == [
        ("key_b", D("0.026")), ("key_c", None)]
    # the migration mart: the shut-down and the retiring image model, each with its cost now
    # and on the replacement
    assert radar.query("SELECT model, lifecycle_status, cost_usd_28d, replacement_cost_usd_28d "
                       "FROM marts.deprecated_model_usage WHERE model LIKE 'gpt-image%' "
                       "ORDER BY model") == [
        ("gpt-image-1", "shutdown", GPT_IMAGE_1_COST, SUNBURST_COST),
        ("gpt-image-1.5", "deprecated", GPT_IMAGE_15_COST, SUNBURST_COST)]


def test_a_warehouse_from_before_the_image_columns_takes_them_on(radar, refresh):
    """A warehouse whose tables have no image or cache-write columns (every version before
    this one) gets them on its next run: the rows it holds count as text, and new files'
    images are priced."""
    _write_page(radar, "old.json", [dict(GPT_IMAGE_15, input_image_tokens=0,
                                         input_cached_image_tokens=0, output_image_tokens=0)])
    refresh()
    con = duckdb.connect(str(radar.warehouse))
    for table in ("staging.usage", "intermediate.usage_daily", "intermediate.usage_set_aside"):
        for column in ("input_image_tokens", "cached_input_image_tokens",
                       "output_image_tokens", "cache_write_input_tokens",
                       "cache_write_1h_input_tokens"):
            con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    con.close()
    _write_page(radar, "new.json", [GPT_IMAGE_15], day="2026-11-21")
    refresh()
    assert radar.query("SELECT usage_date, cost_usd FROM marts.usage_cost_daily "
                       "ORDER BY usage_date") == [
        (dt.date(2026, 11, 20), D("4.425")), (dt.date(2026, 11, 21), GPT_IMAGE_15_COST)]
