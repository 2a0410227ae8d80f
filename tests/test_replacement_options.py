"""Every replacement the provider names is priced, so a team can weigh them.

OpenAI names two replacements for whisper-1, "gpt-live-transcribe or gpt-transcribe": the
first at $0.017 a minute, the second at $0.0045. Until now only the first was priced, so the
report said moving off whisper-1 costs more, where the other replacement costs less than
whisper-1 itself. `marts.replacement_options` prices the window's usage on each option at its
price on as-of, the recommended one first (its cost is deprecated_model_usage's replacement
cost, checked on every run), and the weekly report lists them and says what the cheapest of
each would cost.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal as D
from typing import Any

import dagster as dg
import duckdb

from pipelines.lib.catalog import Lifecycle, ReplacementOption, replacement_options
from tests.conftest import REPO, run_job
from tests.exports import bucket, completion, page
from tests.test_quality import check_evaluations, observed_of
from tests.test_unit_pricing import transcription, write_page

CHECK = "replacement_options_start_with_the_recommended_one"


def _row(model: str, replacement: str | None, note: str | None) -> Lifecycle:
    return Lifecycle(model, dt.date(2026, 8, 26), dt.date(2027, 2, 26), replacement, note, "s")


def test_every_replacement_the_provider_names_is_an_option_in_its_order():
    rows = [
        _row("whisper-1", "gpt-live-transcribe", "gpt-live-transcribe or gpt-transcribe"),
        _row("dall-e-3", "gpt-image-2", "gpt-image-2, gpt-image-1, or gpt-image-1-mini"),
        # a parameter in parentheses is not part of the name; a name said twice is one option
        _row("o1-pro", "gpt-5.6-sol", "gpt-5.6-sol (reasoning.mode: pro) or gpt-5.6-sol"),
        # a replacement a lifecycle override set, with no words beside it
        _row("gpt-4o", "gpt-6-luna", None),
        # no replacement named: no options, whatever the words say
        _row("babbage", None, "see the migration guide"),
        # a model is never its own replacement
        _row("gpt-x", "gpt-y", "gpt-y or gpt-x"),
    ]
    assert replacement_options(rows) == [
        ReplacementOption("whisper-1", 1, "gpt-live-transcribe", "s"),
        ReplacementOption("whisper-1", 2, "gpt-transcribe", "s"),
        ReplacementOption("dall-e-3", 1, "gpt-image-2", "s"),
        ReplacementOption("dall-e-3", 2, "gpt-image-1", "s"),
        ReplacementOption("dall-e-3", 3, "gpt-image-1-mini", "s"),
        ReplacementOption("o1-pro", 1, "gpt-5.6-sol", "s"),
        ReplacementOption("gpt-4o", 1, "gpt-6-luna", "s"),
        ReplacementOption("gpt-x", 1, "gpt-y", "s"),
    ]


LIFECYCLE_HEADER = "model,announced_date,shutdown_date,replacement_model,replacement_note"
DAY = "2026-11-20"


def test_each_named_replacement_is_priced_and_the_report_weighs_them(radar, refresh,
                                                                    monkeypatch):
    # gpt-4o-2024-08-06 (deprecated as of 2026-11-25), with four replacements named: the
    # recommended gpt-6-luna; gpt-4.1-nano-2025-04-14, shut down on 2026-10-23, whose own
    # replacement is gpt-5.6-luna; gpt-5.6-luna itself (the same model: one option); and
    # gpt-5.6-sol
    overrides = radar.root / "lifecycle.csv"
    overrides.write_text(
        f"{LIFECYCLE_HEADER}\ngpt-4o-2024-08-06,2026-06-01,2027-01-14,gpt-6-luna,"
        '"gpt-6-luna, gpt-4.1-nano-2025-04-14, gpt-5.6-luna or gpt-5.6-sol"\n')
    monkeypatch.setenv("RADAR_LIFECYCLE_OVERRIDES", str(overrides))
    # alpha (proj_a): 1,000,000 input tokens of which 200,000 cached and 100,000 output, and
    # a batch of 2,000,000 input tokens. Now (2.50 / 1.25 / 10): 2.00 + 0.25 + 1.00 = 3.25,
    # and 5.00 x 0.5 = 2.50: 5.75 USD. On gpt-6-luna (0.10 / 0.01 / 0.50): 0.08 + 0.002 +
    # 0.05 = 0.132 and 0.20 x 0.5 = 0.10: 0.232. On gpt-5.6-luna (0.20 / 0.02 / 1.20): 0.16 +
    # 0.004 + 0.12 = 0.284 and 0.40 x 0.5 = 0.20: 0.484. On gpt-5.6-sol (4 / 0.4 / 20):
    # 3.20 + 0.08 + 2.00 = 5.28 and 8.00 x 0.5 = 4.00: 9.28.
    keys = {"project_id": "proj_a", "api_key_id": "key_a", "model": "gpt-4o-2024-08-06"}
    (radar.landing / "completions.json").write_text(json.dumps(page([bucket(DAY, [
        completion(input_tokens=1_000_000, input_cached_tokens=200_000, output_tokens=100_000,
                   num_model_requests=100, batch=False, **keys),
        completion(input_tokens=2_000_000, output_tokens=0, num_model_requests=10, batch=True,
                   **keys)])])))
    # whisper-1, an hour of audio: 0.36 USD now ($100 per 1M seconds); 1.02 on
    # gpt-live-transcribe (283.333333333), 0.27 on gpt-transcribe (75)
    write_page(radar.landing, "transcriptions.json", [transcription(3600, 40)])
    result = refresh()
    assert check_evaluations(result)[CHECK] == (True, "ERROR")
    assert radar.query(
        "SELECT model, option_rank, replacement_model, named_replacement, replacement_status, "
        "requests_28d, cost_usd_28d, replacement_cost_usd_28d, migration_cost_delta_usd_28d, "
        "cheapest FROM marts.replacement_options ORDER BY model, option_rank") == [
        ("gpt-4o-2024-08-06", 1, "gpt-6-luna", "gpt-6-luna", "active", 110, D("5.75"),
         D("0.232"), D("-5.518"), True),
        ("gpt-4o-2024-08-06", 2, "gpt-5.6-luna", "gpt-4.1-nano-2025-04-14", "active", 110,
         D("5.75"), D("0.484"), D("-5.266"), False),
        ("gpt-4o-2024-08-06", 3, "gpt-5.6-sol", "gpt-5.6-sol", "active", 110, D("5.75"),
         D("9.28"), D("3.53"), False),
        ("whisper-1", 1, "gpt-live-transcribe", "gpt-live-transcribe", "active", 40, D("0.36"),
         D("1.02"), D("0.66"), False),
        ("whisper-1", 2, "gpt-transcribe", "gpt-transcribe", "active", 40, D("0.36"),
         D("0.27"), D("-0.09"), True),
    ]
    # option 1 is the recommended replacement, at its cost
    assert radar.query("SELECT model, replacement_model, replacement_cost_usd_28d FROM "
                       "marts.deprecated_model_usage ORDER BY model") == [
        ("gpt-4o-2024-08-06", "gpt-6-luna", D("0.232")),
        ("whisper-1", "gpt-live-transcribe", D("1.02"))]
    meta = result.asset_materializations_for_node("marts__replacement_options")[0].metadata
    assert meta["rows_with_more_than_one_replacement"].value == 2
    assert meta["on_the_recommended_replacement_usd_28d"].value == 1.252
    assert meta["on_the_cheapest_replacement_usd_28d"].value == 0.502
    # BI sees it, in the published copy and as Parquet
    published = duckdb.connect(str(radar.publish / "radar.duckdb"), read_only=True)
    assert published.execute("SELECT count(*) FROM marts.replacement_options").fetchall() == [
        (5,)]
    published.close()
    assert (radar.publish / "parquet" / "replacement_options.parquet").exists()

    # the weekly report: now 6.11 USD; 1.252 on the recommended replacements, 0.502 on the
    # cheapest of each (gpt-6-luna, gpt-transcribe)
    assert run_job("weekly_migration_report").success
    (report,) = radar.reports.glob("*.md")
    text = report.read_text()
    assert ("The same traffic on the recommended replacements would cost $1.25: $4.86 less "
            "than now. On the cheapest replacement the provider names for each (see "
            "\"Replacement options\") it would cost $0.50: $5.61 less than now.") in text
    assert "the cost on the replacement is the first one's; each one's is under " in text
    section = text.split("**Replacement options**")[1].split("**Who sends the calls**")[0]
    assert [line for line in section.splitlines() if line.startswith("| alpha")
            or line.startswith("| unassigned")] == [
        "| alpha | completions | gpt-4o-2024-08-06 | gpt-6-luna (recommended, cheapest) | "
        "active | $5.75 | $0.23 | -$5.52 |",
        "| alpha | completions | gpt-4o-2024-08-06 | gpt-5.6-luna (for "
        "gpt-4.1-nano-2025-04-14, itself retiring) | active | $5.75 | $0.48 | -$5.27 |",
        "| alpha | completions | gpt-4o-2024-08-06 | gpt-5.6-sol | active | $5.75 | $9.28 | "
        "+$3.53 (costs more) |",
        "| alpha | audio_transcriptions | whisper-1 | gpt-live-transcribe (recommended) | "
        "active | $0.36 | $1.02 | +$0.66 (costs more) |",
        "| alpha | audio_transcriptions | whisper-1 | gpt-transcribe (cheapest) | active | "
        "$0.36 | $0.27 | -$0.09 |"]
    html = next(radar.reports.glob("*.html")).read_text()
    assert '<h3>Replacement options</h3>' in html and 'id="options"' in html
    # its cost chart has a third bar per model: on the cheapest replacement named
    from pipelines.reports.report import collect, cost_chart_series

    with duckdb.connect(str(radar.warehouse), read_only=True) as con:
        data = collect(con, dt.date(2026, 11, 25))
    assert [r["model"] for r in data.cost_by_model] == ["gpt-4o-2024-08-06", "whisper-1"]
    assert cost_chart_series(data.cost_by_model) == [
        ("cost now (28 days)", [5.75, 0.36]),
        ("on the recommended replacement", [0.232, 1.02]),
        ("on the cheapest replacement named", [0.232, 0.27])]
    # the end of `make demo` names the cheaper one (gpt-6-luna, the cheapest of
    # gpt-4o-2024-08-06's, is the recommended one: not named)
    summary = subprocess.run([sys.executable, "-m", "pipelines.demo.summary"], cwd=REPO,
                             env={**os.environ, **radar.env()}, capture_output=True, text=True,
                             check=True).stdout
    assert ("\nCheaper replacements named beside the recommended one: whisper-1 (alpha): "
            "gpt-transcribe, $0.27 against $1.02 on gpt-live-transcribe (see "
            "marts.replacement_options)\n") in summary

    # the check fails, naming the row, where option 1 says another cost than the row
    from pipelines.definitions import build_defs
    from pipelines.quality.checks import OPTIONS

    key = dg.AssetCheckKey(OPTIONS, CHECK)
    only_check = dg.Definitions.merge(build_defs(), dg.Definitions(jobs=[dg.define_asset_job(
        "only_check", selection=dg.AssetSelection.checks(key))])).resolve_job_def("only_check")
    with duckdb.connect(str(radar.warehouse)) as con:
        con.execute("UPDATE marts.replacement_options SET replacement_cost_usd_28d = "
                    "replacement_cost_usd_28d + 0.0000000001 WHERE model = 'whisper-1' "
                    "AND option_rank = 1")
    result = only_check.execute_in_process(instance=dg.DagsterInstance.ephemeral(),
                                           raise_on_error=False)
    assert check_evaluations(result)[CHECK] == (False, "ERROR")
    (evaluation,) = [e.asset_check_evaluation_data for e in result.all_events
                     if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert observed_of(evaluation)["rows_that_differ"] == [["alpha", "whisper-1"]]

    # a warehouse from before the options: the report is written, with the first one's cost
    # (the report's own step, on that file: the job would rebuild the marts first)
    from pipelines.reports.report import write_report

    with duckdb.connect(str(radar.warehouse)) as con:
        con.execute("DROP TABLE marts.replacement_options")
        markdown, _, _ = write_report(con, dt.date(2026, 11, 25), radar.root / "old")
    text = markdown.read_text()
    assert "Replacement options" not in text and "On the cheapest" not in text
    assert "(or gpt-transcribe)" in text


def test_the_cost_chart_has_no_cheapest_bar_where_the_recommended_one_is_cheapest():
    from pipelines.reports.report import cost_chart_series

    rows: list[dict[str, Any]] = [
        {"cost": D("3"), "replacement_cost": D("1"), "cheapest_cost": D("1")},
        # no priced replacement: no bar, and nothing cheaper
        {"cost": D("2"), "replacement_cost": None, "cheapest_cost": None}]
    assert cost_chart_series(rows) == [("cost now (28 days)", [3.0, 2.0]),
                                       ("on the recommended replacement", [1.0, 0.0])]
    # a warehouse from before the options
    assert len(cost_chart_series([{"cost": D("3"), "replacement_cost": D("1"),
                                   "cheapest_cost": None}])) == 2
