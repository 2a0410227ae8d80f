"""Seconds of audio transcribed and characters of speech are priced where the model is billed in
them, never at zero and never as tokens.

whisper-1 (shut down 2027-02-26, replacement gpt-live-transcribe) is billed by the second,
$0.006 a minute; tts-1 (2027-01-06) by the character, $15 per 1M. The Usage API reports their
usage in those units (`seconds`, `characters`) and no tokens. Before, every such row was
unpriced: the teams still on them showed requests but no money, and no replacement cost.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.lib import catalog as cat
from pipelines.lib.catalog_build import unit_prices_from_litellm
from pipelines.lib.duck import prepare
from pipelines.lib.incremental import roll_up_usage_daily
from pipelines.lib.ingest import ingest_landing
from pipelines.lib.money import per_unit_to_per_million, unit_cost
from pipelines.settings import CATALOG_DATA_DIR
from tests.conftest import run_job
from tests.exports import bucket, page
from tests.test_quality import check_evaluations

DAY = "2026-11-20"


def transcription(seconds: int, requests: int, model: str | None = "whisper-1",
                  project: str | None = "proj_a", **kw) -> dict:
    return {"object": "organization.usage.audio_transcriptions.result", "seconds": seconds,
            "num_model_requests": requests, "project_id": project, "user_id": None,
            "api_key_id": "key_a" if project else None, "model": model, **kw}


def speech(characters: int, requests: int, model: str = "tts-1") -> dict:
    return {"object": "organization.usage.audio_speeches.result", "characters": characters,
            "num_model_requests": requests, "project_id": "proj_a", "user_id": None,
            "api_key_id": "key_a", "model": model}


IMAGES = {"object": "organization.usage.images.result", "images": 12,
          "source": "image.generation", "size": "1024x1024", "num_model_requests": 12,
          "project_id": "proj_a", "user_id": None, "api_key_id": "key_a", "model": "dall-e-3"}


def write_page(landing: Path, name: str, results: list[dict], day: str = DAY,
               order: int = 0) -> None:
    path = landing / "api" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(page([bucket(day, results)])))
    if order:
        os.utime(path, ns=(10**18 + order, 10**18 + order))  # processing order


def test_unit_cost_is_exact_and_rounded_once_half_away_from_zero():
    # an hour of whisper-1 at $100 per 1M seconds ($0.006 a minute)
    assert unit_cost(3600, D("100")) == D("0.36")
    # a second of gpt-live-transcribe at LiteLLM's 0.000283333333333 USD: exact, then 1e-10
    assert unit_cost(1, D("283.333333333")) == D("0.0002833333")
    assert unit_cost(7, D("283.333333333")) == D("0.0019833333")  # 0.001983333333331
    assert unit_cost(3600, D("283.333333333")) == D("1.02")  # 1.0199999999988
    # 50,000 units at 1e-15 USD each are 5e-11 USD: half a unit of the last place rounds up
    assert unit_cost(50_000, D("0.000000001")) == D("1E-10")
    assert unit_cost(49_999, D("0.000000001")) == 0
    bads: tuple[Any, ...] = (-1, 1.5, True)  # not counts, whatever the annotation says
    for bad in bads:
        with pytest.raises(ValueError, match="units must be a non-negative integer"):
            unit_cost(bad, D("1"))


def test_a_per_unit_price_converts_exactly_or_not_at_all():
    assert per_unit_to_per_million(0.0001) == D("100")
    assert per_unit_to_per_million(1.5e-05) == D("15")
    assert per_unit_to_per_million("0.000283333333333") == D("283.333333333")
    with pytest.raises(ValueError, match="more precision than 1e-15"):
        per_unit_to_per_million("2.8333333333333e-4")
    with pytest.raises(ValueError, match="negative"):
        per_unit_to_per_million(-0.0001)


def test_the_catalog_build_takes_unit_prices_only_of_models_billed_by_them():
    litellm = {
        "whisper-1": {"litellm_provider": "openai", "mode": "audio_transcription",
                      "input_cost_per_second": 0.0001, "output_cost_per_second": 0.0001},
        "tts-1": {"litellm_provider": "openai", "mode": "audio_speech",
                  "input_cost_per_character": 1.5e-05},
        # billed by the token: LiteLLM's per-second figure is an estimate
        "gpt-4o-transcribe": {"litellm_provider": "openai", "mode": "audio_transcription",
                              "input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05,
                              "input_cost_per_second": 0.0001},
        # another provider's speech model (no gateway log reports its units)
        "azure/tts-1": {"litellm_provider": "azure", "mode": "audio_speech",
                        "input_cost_per_character": 1.5e-05},
        # a per-second price finer than the scale: left out, never rounded
        "gpt-odd-transcribe": {"litellm_provider": "openai", "mode": "audio_transcription",
                               "input_cost_per_second": 1.23456789e-10},
    }
    left_out: list[str] = []
    rows = unit_prices_from_litellm(litellm, "litellm x", left_out)
    assert {k: r.usd_per_1m_units for k, r in rows.items()} == {
        ("whisper-1", "seconds"): D("100"), ("tts-1", "characters"): D("15")}
    assert [line.split(" (")[0] for line in left_out] == ["gpt-odd-transcribe"]


def test_the_shipped_unit_prices_read_and_bad_rows_name_their_line(tmp_path):
    shipped = {(u.model, u.unit): u for u in
               cat.read_unit_prices(CATALOG_DATA_DIR / "model_unit_prices.csv")}
    assert shipped[("whisper-1", "seconds")].usd_per_1m_units == D("100")
    assert shipped[("gpt-live-transcribe", "seconds")].usd_per_1m_units == D("283.333333333")
    assert shipped[("tts-1", "characters")].usd_per_1m_units == D("15")
    assert ("gpt-4o-transcribe", "seconds") not in shipped
    path = tmp_path / "model_unit_prices.csv"
    header = ",".join(cat.UNIT_PRICE_COLUMNS)
    for body, message in [
        ("whisper-1,minutes,2020-01-01,,100,x", "line 2: unit 'minutes' is not one of"),
        ("whisper-1,seconds,2020-01-01,,-1,x", "line 2 usd_per_1m_units: '-1' must be a non"),
        ("whisper-1,seconds,2020-01-01,,100,x\nwhisper-1,seconds,2020-01-01,,90,y",
         "line 3: the same model, unit and start as line 2"),
    ]:
        path.write_text(f"{header}\n{body}\n")
        with pytest.raises(cat.CatalogError, match=message):
            cat.read_unit_prices(path)


def test_transcription_and_speech_are_priced_in_their_units(radar, refresh):
    write_page(radar.landing, "usage.json", [
        transcription(3600, 40), speech(5000, 7), IMAGES,
        transcription(1200, 9, model="gpt-4o-transcribe")])
    result = refresh()
    checks = check_evaluations(result)
    # the Dagster UI shows how much usage is in other units, and how much of it is priced
    meta = result.asset_materializations_for_node("intermediate__usage_priced")[0].metadata
    assert meta["usage_in_other_units"].value.splitlines()[2:] == [
        "| characters | 1 | 5,000 | 1 | 0.08 |", "| images | 1 | 12 | 0 | 0.00 |",
        "| seconds | 2 | 4,800 | 1 | 0.36 |"]
    assert checks["catalog_unit_prices_are_valid"] == (True, "ERROR")
    # whisper-1's replacement is priced (by the second): no warning
    assert checks["replacements_are_priced"] == (True, "WARN")
    assert checks["costs_reconcile_across_layers"][0]
    assert checks["deprecated_totals_match_daily"][0]
    assert checks["callers_add_up_to_deprecated_usage"][0]
    assert radar.query(
        "SELECT model, units, unit, priced, cost_usd, replacement_model, replacement_cost_usd "
        "FROM marts.usage_cost_daily ORDER BY model") == [
        ("dall-e-3", 12, "images", False, None, "gpt-image-2", None),
        # billed by the token: its seconds have no price (the replacement's are known)
        ("gpt-4o-transcribe", 1200, "seconds", False, None, "gpt-live-transcribe",
         unit_cost(1200, D("283.333333333"))),
        # tts-1's replacement, gpt-realtime-2.1-mini, is billed by the token
        ("tts-1", 5000, "characters", True, unit_cost(5000, D("15")),
         "gpt-realtime-2.1-mini", None),
        ("whisper-1", 3600, "seconds", True, D("0.36"), "gpt-live-transcribe", D("1.02")),
    ]
    # the table the platform team works from: what it costs now and on the replacement
    assert radar.query(
        "SELECT model, requests_28d, units_28d, unit, cost_usd_28d, replacement_cost_usd_28d, "
        "migration_cost_delta_usd_28d FROM marts.deprecated_model_usage "
        "WHERE model = 'whisper-1'") == [
        ("whisper-1", 40, 3600, "seconds", D("0.36"), D("1.02"), D("0.66"))]
    assert radar.query("SELECT units_28d, unit, cost_usd_28d FROM "
                       "marts.deprecated_model_callers WHERE model = 'tts-1'") == [
        (5000, "characters", D("0.075"))]
    assert radar.query("SELECT model, units, unit, reason FROM marts.unpriced_usage "
                       "ORDER BY model") == [
        ("dall-e-3", 12, "images",
         "metered in images, and the catalog has no price in images for the model"),
        ("gpt-4o-transcribe", 1200, "seconds",
         "metered in seconds, and the catalog has no price in seconds for the model on the "
         "usage date")]
    # FinOps tools see the quantity in the unit it is priced in
    assert radar.query('SELECT "ConsumedQuantity", "ConsumedUnit", "BilledCost" FROM '
                       'marts.focus_costs ORDER BY 2') == [
        (5000, "Characters", D("0.075")), (3600, "Seconds", D("0.36"))]


def test_the_sql_agrees_with_the_python_rule_to_the_last_digit(radar, refresh):
    """Seconds whose cost has more than 10 decimal places at gpt-transcribe's 75 and
    gpt-live-transcribe's 283.333333333 per 1M: each row rounded once."""
    seconds = [1, 7, 13, 333, 86_399, 123_457]
    write_page(radar.landing, "usage.json", [
        transcription(s, 1, model=model, project=f"proj_{i}")
        for i, s in enumerate(seconds)
        for model in ("gpt-transcribe", "gpt-live-transcribe")])
    refresh()
    got = radar.query("SELECT project_id, model, cost_usd FROM marts.usage_cost_daily")
    prices = {"gpt-transcribe": D("75"), "gpt-live-transcribe": D("283.333333333")}
    assert sorted(got) == sorted(
        (f"proj_{i}", model, unit_cost(s, prices[model]))
        for i, s in enumerate(seconds) for model in prices)
    assert any(c != c.quantize(D("1e-9")) for _, _, c in got)  # the 10th place is used


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return prepare(duckdb.connect(":memory:"))


def test_seconds_saved_at_two_groupings_count_once(tmp_path, con):
    """An ungrouped save of the day's transcriptions beside the sync's pages grouped by project
    and model: the seconds the finer rows report are taken out of the coarser row, as its
    requests are, so an hour transcribed is not priced twice."""
    landing = tmp_path / "landing"
    write_page(landing, "notebook.json", [transcription(5000, 50, model=None, project=None)],
               order=1)
    write_page(landing, "sync.json", [transcription(3600, 40, batch=False),
                                      transcription(600, 4, model="gpt-transcribe",
                                                    batch=False)], order=2)
    ingest_landing(con, landing)
    built = roll_up_usage_daily(con)
    assert built.set_aside_rows == 1
    assert con.execute("SELECT model, requests, units, unit FROM intermediate.usage_daily "
                       "ORDER BY model NULLS FIRST").fetchall() == [
        (None, 6, 800, "seconds"), ("gpt-transcribe", 4, 600, "seconds"),
        ("whisper-1", 40, 3600, "seconds")]
    assert con.execute("SELECT sum(units) FROM intermediate.usage_daily").fetchone() == (5000,)


def test_a_warehouse_rolled_up_before_the_units_is_rolled_up_again(tmp_path, con):
    """usage_daily built before it kept the units: the next roll-up is a full one, so the
    seconds of files loaded before are priced too (a file is never read again)."""
    landing = tmp_path / "landing"
    write_page(landing, "day1.json", [transcription(3600, 40)])
    ingest_landing(con, landing)
    roll_up_usage_daily(con)
    con.execute("ALTER TABLE intermediate.usage_daily DROP COLUMN units")
    write_page(landing, "day2.json", [transcription(60, 1)], day="2026-11-21")
    ingest_landing(con, landing)
    assert roll_up_usage_daily(con).mode == "full"
    assert con.execute("SELECT usage_date, units FROM intermediate.usage_daily ORDER BY 1"
                       ).fetchall() == [(dt.date(2026, 11, 20), 3600),
                                        (dt.date(2026, 11, 21), 60)]


OVERRIDE_HEADER = ",".join([*cat.OVERRIDE_HEADER, *cat.UNIT_OVERRIDE_COLUMNS])


def test_an_override_row_gives_a_price_per_second_or_character(tmp_path):
    """A negotiated price per second of whisper-1, an estimate per second for gpt-4o-transcribe
    (billed by the token, its seconds otherwise unpriced), a new transcription model: each is
    an override row with a price per 1M seconds (or characters) and no token price. A row
    giving both prices gives both; the shipped whisper-1 price stays in force before the
    negotiated one starts."""
    assert cat.UNIT_OVERRIDE_COLUMNS == {"seconds_usd_per_1m": "seconds",
                                         "characters_usd_per_1m": "characters"}
    path = tmp_path / "overrides.csv"
    path.write_text(f"{OVERRIDE_HEADER}\n"
                    "whisper-1,2026-11-01,,,,,80,\n"
                    "gpt-4o-transcribe,2026-01-01,2027-01-01,2.5,1.25,10,100,\n"
                    "house-tts,2026-01-01,,,,,,12.5\n"
                    "gpt-4o,2026-03-01,,2,1,8,,\n")
    tokens = cat.read_overrides(path)
    assert [(p.model, p.input_usd_per_1m, p.source) for p in tokens] == [
        ("gpt-4o-transcribe", D("2.5"), "override overrides.csv line 3"),
        ("gpt-4o", D("2"), "override overrides.csv line 5")]
    units = cat.read_unit_overrides(path)
    assert units == [
        cat.UnitPrice("whisper-1", "seconds", dt.date(2026, 11, 1), None, D("80"),
                      "override overrides.csv line 2"),
        cat.UnitPrice("gpt-4o-transcribe", "seconds", dt.date(2026, 1, 1),
                      dt.date(2027, 1, 1), D("100"), "override overrides.csv line 3"),
        cat.UnitPrice("house-tts", "characters", dt.date(2026, 1, 1), None, D("12.5"),
                      "override overrides.csv line 4")]
    merged = cat.apply_unit_overrides(
        cat.read_unit_prices(CATALOG_DATA_DIR / "model_unit_prices.csv"), units)
    assert [(u.valid_from, u.valid_to, u.usd_per_1m_units, u.source[:8])
            for u in merged if u.model == "whisper-1"] == [
        (dt.date(2020, 1, 1), dt.date(2026, 11, 1), D("100"), "litellm "),
        (dt.date(2026, 11, 1), None, D("80"), "override")]
    assert {(u.model, u.unit) for u in merged} >= {("gpt-4o-transcribe", "seconds"),
                                                    ("house-tts", "characters"),
                                                    ("tts-1", "characters")}
    # a file without the unit columns reads as before: no unit prices
    path.write_text(",".join(cat.OVERRIDE_HEADER) + "\ngpt-4o,2026-03-01,,2,1,8\n")
    assert cat.read_unit_overrides(path) == [] and len(cat.read_overrides(path)) == 1


@pytest.mark.parametrize(("row", "message"), [
    ("whisper-1,2026-11-01,,,,,,",
     "line 2: no price: give input_usd_per_1m and output_usd_per_1m, or a price per 1M "
     "units (seconds_usd_per_1m, characters_usd_per_1m)"),
    ("whisper-1,2026-11-01,,,0.5,,80,",
     "line 2: cached_input_usd_per_1m is a token price: give input_usd_per_1m and "
     "output_usd_per_1m with it"),
    ("gpt-4o,2026-11-01,,2,,,,", "line 2 output_usd_per_1m is required"),
    ("whisper-1,2026-11-01,,,,,-80,", "line 2 seconds_usd_per_1m: '-80' must be a non"),
    ("whisper-1,2026-11-01,,,,,0.0000000001,",
     "line 2 seconds_usd_per_1m: '0.0000000001' has more decimal places than the 9"),
])
def test_a_unit_override_mistake_is_named_with_its_line(tmp_path, row, message):
    path = tmp_path / "o.csv"
    path.write_text(f"{OVERRIDE_HEADER}\n{row}\n")
    with pytest.raises(cat.CatalogError, match=re.escape(message)):
        cat.read_overrides(path)
    with pytest.raises(cat.CatalogError, match=re.escape(message)):
        cat.read_unit_overrides(path)


def test_unit_overrides_of_one_model_and_unit_that_overlap_stop_the_build(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text(f"{OVERRIDE_HEADER}\nwhisper-1,2026-11-01,,,,,80,\n"
                    "whisper-1,2026-12-01,,,,,70,\ntts-1,2026-12-01,,,,,,10\n")
    with pytest.raises(cat.CatalogError, match=re.escape(
            "overrides for whisper-1 seconds overlap: override o.csv line 2 and override "
            "o.csv line 3")):
        cat.apply_unit_overrides([], cat.read_unit_overrides(path))


def test_a_negotiated_price_per_second_prices_the_refresh(radar, refresh, monkeypatch):
    """Through a real refresh: whisper-1 at a negotiated 80 per 1M seconds from the usage day,
    gpt-4o-transcribe's seconds at an estimate (before: unpriced), and a speech model the
    catalog does not know at all, priced by the override alone. Changing the file re-prices
    the days already built."""
    overrides = radar.root / "overrides.csv"
    overrides.write_text(f"{OVERRIDE_HEADER}\nwhisper-1,{DAY},,,,,80,\n"
                         "gpt-4o-transcribe,2026-01-01,,,,,100,\n"
                         "house-tts,2026-01-01,,,,,,12.5\n")
    monkeypatch.setenv("RADAR_CATALOG_OVERRIDES", str(overrides))
    write_page(radar.landing, "usage.json", [
        transcription(3600, 40), transcription(1200, 9, model="gpt-4o-transcribe"),
        speech(5000, 7), speech(1000, 2, model="house-tts")])
    result = refresh()
    assert check_evaluations(result)["catalog_unit_prices_are_valid"] == (True, "ERROR")
    meta = result.asset_materializations_for_node("catalog__model_prices")
    unit_meta = next(m.metadata for m in meta if m.asset_key.path[-1] == "model_unit_prices")
    assert unit_meta["override_rows"].value == 3
    assert radar.query("SELECT model, valid_from, usd_per_1m_units, source FROM "
                       "catalog.model_unit_prices WHERE source LIKE 'override%' "
                       "ORDER BY model") == [
        ("gpt-4o-transcribe", dt.date(2026, 1, 1), D("100"), "override overrides.csv line 3"),
        ("house-tts", dt.date(2026, 1, 1), D("12.5"), "override overrides.csv line 4"),
        ("whisper-1", dt.date(2026, 11, 20), D("80"), "override overrides.csv line 2")]
    cost = "SELECT model, cost_usd FROM marts.usage_cost_daily ORDER BY model"
    assert radar.query(cost) == [("gpt-4o-transcribe", D("0.12")), ("house-tts", D("0.0125")),
                                 ("tts-1", D("0.075")), ("whisper-1", D("0.288"))]
    assert radar.query("SELECT lifecycle_status FROM marts.usage_cost_daily "
                       "WHERE model = 'house-tts'") == [("active",)]
    # FOCUS: whisper-1's list price (100 per 1M seconds) is kept beside the negotiated one;
    # the models the catalog has no price in seconds for are at the override's price in both
    assert radar.query("SELECT model, unit, valid_from, usd_per_1m_units "
                       "FROM catalog.replaced_model_unit_prices") == [
        ("whisper-1", "seconds", dt.date(2026, 11, 20), D("100"))]
    assert radar.query('SELECT x_model, "ListCost", "ContractedCost", "BilledCost" '
                       "FROM marts.focus_costs ORDER BY x_model") == [
        ("gpt-4o-transcribe", D("0.12"), D("0.12"), D("0.12")),
        ("house-tts", D("0.0125"), D("0.0125"), D("0.0125")),
        ("tts-1", D("0.075"), D("0.075"), D("0.075")),
        ("whisper-1", D("0.36"), D("0.288"), D("0.288"))]
    assert radar.query("SELECT count(*) FROM marts.unpriced_usage") == [(0,)]
    # the replacement's cost is at its own (list) price, not at the negotiated one
    assert radar.query("SELECT replacement_cost_usd FROM marts.usage_cost_daily "
                       "WHERE model = 'whisper-1'") == [(D("1.02"),)]
    # the weekly report says which costs are the override file's, not list prices
    assert run_job("weekly_migration_report").success
    (report,) = radar.reports.glob("*.md")
    assert ("- Prices from RADAR_CATALOG_OVERRIDES (negotiated or added, not the catalog's "
            "list prices) for 3 models in the window: gpt-4o-transcribe, house-tts, "
            "whisper-1. Before batch discounts their usage there costs $0.42 at these prices, "
            "$0.49 at the catalog's list prices") in report.read_text()
    overrides.write_text(f"{OVERRIDE_HEADER}\nwhisper-1,{DAY},,,,,60,\n")
    refresh()
    assert radar.query(cost) == [("gpt-4o-transcribe", None), ("house-tts", None),
                                 ("tts-1", D("0.075")), ("whisper-1", D("0.216"))]
    assert run_job("weekly_migration_report").success
    (report,) = radar.reports.glob("*.md")
    assert ("for 1 model in the window: whisper-1. Before batch discounts their usage there "
            "costs $0.22 at these prices, $0.36 at the catalog's list prices") in (
        report.read_text())
    # a warehouse priced before the contracted cost was kept apart (list_cost_usd was the
    # override's price then): the report still names the model, and compares nothing
    with duckdb.connect(str(radar.warehouse)) as con:
        con.execute("ALTER TABLE intermediate.usage_priced DROP COLUMN contracted_cost_usd")
        con.execute("UPDATE intermediate.usage_priced SET list_cost_usd = cost_usd")
    assert run_job("weekly_migration_report").success
    (report,) = radar.reports.glob("*.md")
    assert "for 1 model in the window: whisper-1. catalog.model_prices" in report.read_text()
    # a model no catalog knows any more is unpriced for that reason, never at zero
    assert radar.query("SELECT model, reason FROM marts.unpriced_usage ORDER BY model") == [
        ("gpt-4o-transcribe", "metered in seconds, and the catalog has no price in seconds "
         "for the model on the usage date"), ("house-tts", "model not in catalog")]
