"""The weekly report as people read it: files, sections, escaping, and a real browser."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from pipelines.reports.report import iso_week_label
from tests.browser import chromium_path
from tests.conftest import AS_OF, radar_environment, run_job
from tests.exports import write_fixture_exports

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One weekly report job on the fixture exports, shared by the tests that read it."""
    with radar_environment(tmp_path_factory.mktemp("report")) as env:
        write_fixture_exports(env.landing)
        # team names come from the data: one of them tries to inject a script
        env.teams.write_text(env.teams.read_text() + f'project_id,proj_b,"{EVIL}"\n')
        result = run_job("weekly_migration_report")
    assert result.success
    return env, result


def catalog_known_through() -> dt.date:
    """The newest day the shipped catalog speaks for, read from its files: its lifecycle
    sources' dates and its newest announcement."""
    import csv

    from pipelines.settings import CATALOG_DATA_DIR

    with (CATALOG_DATA_DIR / "catalog_sources.csv").open() as fh:
        dates = [r["as_of"] for r in csv.DictReader(fh) if "lifecycle" in r["kind"]]
    with (CATALOG_DATA_DIR / "model_lifecycle.csv").open() as fh:
        dates += [r["announced_date"] for r in csv.DictReader(fh)]
    return max(dt.date.fromisoformat(d) for d in dates if d)


def test_iso_week_label_follows_iso_years():
    assert iso_week_label(dt.date(2026, 11, 25)) == "2026-W48"
    assert iso_week_label(dt.date(2027, 1, 1)) == "2026-W53"
    assert iso_week_label(dt.date(2024, 12, 30)) == "2025-W01"


def test_report_files_and_sections(report):
    env, result = report
    md = env.reports / "migration-status-2026-W48.md"
    html = env.reports / "migration-status-2026-W48.html"
    assert md.exists() and html.exists()
    text = md.read_text()
    for section in ("## 1. Headline", "## 2. Action list", "## 3. Progress", "## 4. Charts",
                    "## 5. Data health"):
        assert section in text
    # headline: 3 teams (growth, alpha, batch-team), 152 requests on deprecated models
    assert "**3 teams**" in text and "**152 requests**" in text
    assert "**2 calls failed**" in text
    assert "Nearest shutdown: **gpt-4o-2024-08-06** on 2027-01-14 (**50 days left**)" in text
    # 3.25 + 0.0195 + 2.5 = 5.7695 USD now; 0.132 + 0.0132 + 0.1 = 0.2452 on the replacements
    assert ("costing **$5.77**" in text and "replacements would cost $0.25: $5.52 less than now."
            in text)
    # the fixture's OpenAI exports stop before its gateway logs: said first, per source
    assert ("- **Stale data**: usage stops for openai_dashboard on 2026-11-22 (3 days before "
            "as-of); openai_usage_api on 2026-11-21 (4 days before as-of).") in text
    # the shipped catalog's newest knowledge of retirements, and how old it is at as-of
    known = catalog_known_through()
    assert (f"- Catalog: knows of retirements announced up to {known} "
            f"({(dt.date(2026, 11, 25) - known).days} days before as-of") in text
    assert ("- Newest usage day per source: litellm 2026-11-24, openai_dashboard 2026-11-22, "
            "openai_usage_api 2026-11-21.") in text
    # failing calls first, then by days left and traffic
    actions = text.split("## 2. Action list")[1].split("**Who sends the calls**")[0]
    order = [line.split("|")[1].strip() for line in actions.splitlines()
             if line.startswith("| ") and not line.startswith("| team")]
    assert order == ["growth", "alpha", "alpha", "batch-team"]
    assert "FAILING: shutdown" in actions
    # the materialization carries the markdown for the Dagster UI
    mats = result.asset_materializations_for_node("reports__migration_status_report")
    assert mats[0].metadata["report"].value == text


def test_data_is_escaped_in_html(report):
    env, _ = report
    page = (env.reports / "migration-status-2026-W48.html").read_text()
    assert EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()


@pytest.mark.skipif(chromium_path() is None and not os.environ.get("CI"),
                    reason="chromium not installed (make test installs it as root)")
def test_report_in_a_real_browser(report, tmp_path):
    from tests.browser import browser_page

    env, _ = report
    errors: list[str] = []
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:  # an alert() or confirm(): noted and dismissed
        dialogs.append(dialog.message)
        dialog.dismiss()

    with browser_page() as page:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", on_dialog)
        page.goto((env.reports / "migration-status-2026-W48.html").as_uri())
        page.wait_for_load_state("load")
        assert page.title() == "Migration status 2026-W48"
        rows = page.locator("#actions tbody tr")
        assert rows.count() == 4
        assert rows.nth(0).locator("td").nth(0).inner_text() == "growth"
        assert "failing" in (rows.nth(0).get_attribute("class") or "")
        images = page.locator("img.chart")
        assert images.count() == 2
        widths = page.eval_on_selector_all("img.chart", "els => els.map(e => e.naturalWidth)")
        assert all(w > 100 for w in widths)
        # the injected team name is shown as text, not run
        assert page.get_by_text(EVIL).count() >= 1
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert errors == []
    assert dialogs == []
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_unassigned_deprecated_callers_are_listed_to_be_mapped(radar):
    """The action list's blind spot: deprecated traffic no team claims, by key and project,
    so someone can add it to the team directory. Mapped, active and out-of-window usage are
    not listed."""
    import json

    from tests.exports import bucket, completion, page

    def usage(project, key, model, requests):
        return completion(input_tokens=1_000, output_tokens=10, num_model_requests=requests,
                          project_id=project, api_key_id=key, model=model, batch=False)

    (radar.landing / "usage.json").write_text(json.dumps(page([
        bucket("2026-10-01", [usage("proj_z", "key_z", "gpt-4o-2024-08-06", 7)]),  # too old
        bucket("2026-11-23", [usage("proj_z", "key_z", "gpt-4o-2024-08-06", 2)]),
        bucket("2026-11-24", [usage("proj_z", "key_z", "gpt-4o-2024-08-06", 3),
                              usage("proj_a", "key_a", "gpt-4o-2024-08-06", 4),  # alpha's
                              usage("proj_y", "key_y", "gpt-5.6-sol", 9)]),  # active model
    ])))
    assert run_job("weekly_migration_report").success
    text = (radar.reports / "migration-status-2026-W48.md").read_text()
    # unassigned is not counted as a team: alpha is the one team, the rest is said apart
    assert "- **1 team** and unassigned callers on **1 endpoint** still call" in text
    section = text.split("**Unassigned callers**")[1].split("## 3.")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]
    assert rows == [
        "| openai_usage_api | proj_z | key_z |  |  | gpt-4o-2024-08-06 | 5 | 2026-11-24 |"]
    page_html = (radar.reports / "migration-status-2026-W48.html").read_text()
    unassigned = page_html.split('id="unassigned"')[1].split("</table>")[0]
    assert "proj_z" in unassigned and "proj_a" not in unassigned and "proj_y" not in unassigned


def test_team_directory_lines_that_map_nothing_are_said_under_the_unassigned(radar):
    """A typo in the team directory leaves its key unmapped, and its traffic turns up among
    the unassigned callers, where the person who would fix it reads: the report says which
    lines map no key (the latest team_directory_reads_cleanly check's), and stops saying it
    once the line is mended."""
    import json

    from tests.exports import TEAMS, bucket, completion, page

    (radar.landing / "usage.json").write_text(json.dumps(page([bucket("2026-11-24", [
        completion(input_tokens=1_000, output_tokens=10, num_model_requests=3,
                   project_id="proj_z", api_key_id="key_z", model="gpt-4o-2024-08-06",
                   batch=False)])])))
    radar.teams.write_text(TEAMS + 'project_id,proj_z,"zeta <b>\n')
    assert run_job("weekly_migration_report").success
    text = (radar.reports / "migration-status-2026-W48.md").read_text()
    intro = "**Unassigned callers** (deprecated-model traffic"
    section = text.split(intro)[1].split("## 3.")[0]
    assert ("The team directory has 1 line mapping no key, so the usage they would claim may "
            "be among these: teams.csv line 5 has a quoted value that does not close on it"
            in section)
    assert "| proj_z | key_z |" in section
    page_html = (radar.reports / "migration-status-2026-W48.html").read_text()
    note = page_html.split("<h3>Unassigned callers</h3>")[1].split("</table>")[0]
    assert "teams.csv line 5 has a quoted value" in note and "zeta &lt;b&gt;" not in note
    assert "<b>" not in note

    radar.teams.write_text(TEAMS + "project_id,proj_z,zeta\n")
    assert run_job("weekly_migration_report").success
    text = (radar.reports / "migration-status-2026-W48.md").read_text()
    assert "mapping no key" not in text
    assert "| proj_z | key_z |" not in text.split(intro)[1]


def test_freshness_warns_of_missing_data_not_of_a_late_day():
    """No usage in the window, or a source that stopped inside it, is said before any figure
    (zeros would read as a finished migration); one day late is a normal export lag."""
    from pipelines.reports.report import ReportData, freshness_lines

    def data(**last_days):
        return ReportData(dt.date(2026, 11, 25), dt.date(2026, 11, 23), dt.date(2026, 10, 29),
                          {}, [], [], [], [], [], [], [],
                          {"catalog_known_through": dt.date(2026, 11, 1)},
                          freshness=[{"source": k, "last_day": v} for k, v in last_days.items()])

    assert freshness_lines(data(litellm=dt.date(2026, 11, 24),
                                openai_usage_api=dt.date(2026, 11, 23))) == []
    (line,) = freshness_lines(data(litellm=dt.date(2026, 11, 24),
                                   openai_usage_api=dt.date(2026, 11, 22)))
    assert line.startswith("**Stale data**: usage stops for openai_usage_api on 2026-11-22 "
                           "(3 days before as-of).")
    (line,) = freshness_lines(data())
    assert line.startswith("**No usage in the window** (2026-10-29 to 2026-11-25)")


def test_a_catalog_too_old_to_know_the_latest_retirements_is_said_first():
    """RADAR_CATALOG_MAX_AGE_DAYS: a catalog whose newest knowledge of retirements is older
    than that before as-of may miss one (its model would read as active): warned before any
    figure. Data health always says how old it is."""
    from pipelines.reports.report import ReportData, catalog_line, freshness_lines

    def data(known, max_age=60, freshness=True):
        return ReportData(dt.date(2026, 11, 25), dt.date(2026, 11, 23), dt.date(2026, 10, 29),
                          {}, [], [], [], [], [], [], [], {"catalog_known_through": known},
                          freshness=[{"source": "litellm", "last_day": dt.date(2026, 11, 24)}]
                          if freshness else [], catalog_max_age_days=max_age)

    assert freshness_lines(data(dt.date(2026, 9, 26))) == []  # 60 days: not yet
    (line,) = freshness_lines(data(dt.date(2026, 9, 25)))
    assert line.startswith("**Catalog out of date**: the catalog knows of retirements "
                           "announced up to 2026-09-25, 61 days before as-of (more than 60).")
    assert freshness_lines(data(dt.date(2026, 9, 25), max_age=90)) == []
    (line,) = freshness_lines(data(None))
    assert line.startswith("**Catalog out of date**: the catalog knows of no retirement date.")
    catalog, no_usage = freshness_lines(data(dt.date(2026, 9, 1), freshness=False))
    assert catalog.startswith("**Catalog out of date**")
    assert no_usage.startswith("**No usage in the window**")
    assert catalog_line({"catalog_known_through": dt.date(2026, 9, 11)}, dt.date(2026, 12, 4)) \
        == ("Catalog: knows of retirements announced up to 2026-09-11 (84 days before as-of; "
            "see catalog.sources).")
    assert catalog_line({"catalog_known_through": None}, dt.date(2026, 12, 4)) == (
        "Catalog: no retirement date known (catalog.model_lifecycle is empty).")
    # a report for an earlier day (RADAR_AS_OF in the past): the catalog knows more
    assert catalog_line({"catalog_known_through": dt.date(2026, 9, 11)}, dt.date(2026, 3, 1)) \
        == ("Catalog: knows of retirements announced up to 2026-09-11 (194 days after as-of: "
            "those announced after as-of do not count yet; see catalog.sources).")
    assert freshness_lines(data(dt.date(2026, 12, 1))) == []


def test_replacement_cost_is_compared_only_where_a_replacement_is_priced(radar):
    """A deprecated model with no recommended replacement (the catalog has such rows) must
    not count as costing $0 after the move: the headline compares the part that has one and
    names the rest."""
    import json

    from tests.exports import bucket, completion, page

    (radar.landing / "usage.json").write_text(json.dumps(page([bucket("2026-11-24", [
        # alpha on gpt-4o-2024-08-06 (2.50 / 10): 2.50 + 1.00 = 3.50 USD;
        # on gpt-6-luna (0.10 / 0.50): 0.10 + 0.05 = 0.15 USD
        completion(input_tokens=1_000_000, output_tokens=100_000, num_model_requests=10,
                   project_id="proj_a", model="gpt-4o-2024-08-06", batch=False),
        # the catalog retires it on 2027-01-20 and names no replacement: 0.15 USD now
        completion(input_tokens=1_000_000, output_tokens=0, num_model_requests=4,
                   project_id="proj_a", model="gpt-4o-mini-audio-preview-2024-12-17",
                   batch=False),
    ])])))
    assert run_job("weekly_migration_report").success
    text = (radar.reports / "migration-status-2026-W48.md").read_text()
    assert "costing **$3.65**" in text
    assert ("- The part with a priced replacement ($3.50 now) would cost $0.15 on it: $3.35 "
            "less than now. The other 4 requests (gpt-4o-mini-audio-preview-2024-12-17) have "
            "no priced replacement to compare: $0.15 now.") in text


def test_a_replacement_the_provider_names_beside_another_is_said(radar):
    """whisper-1's replacement is "gpt-live-transcribe or gpt-transcribe": the cost on the
    replacement is the first's, $0.017 a minute against $0.006 now, while the second costs
    $0.0045. The report names the second beside the first, and says whose cost is shown.
    gpt-4-0314's "gpt-5 or gpt-4.1" are both retiring: each is followed along its own chain,
    to gpt-5.6-sol and gpt-6-luna, and the replacement options below the list price both."""
    import json

    from tests.exports import bucket, completion, page

    transcripts = {"object": "organization.usage.audio_transcriptions.result",
                   "seconds": 3600, "num_model_requests": 40, "project_id": "proj_a",
                   "user_id": None, "api_key_id": "key_a", "model": "whisper-1"}
    (radar.landing / "usage.json").write_text(json.dumps(page([bucket("2026-11-24", [
        transcripts,
        completion(input_tokens=1_000, output_tokens=100, num_model_requests=2,
                   project_id="proj_a", model="gpt-4-0314", batch=False)])])))
    assert run_job("weekly_migration_report").success
    text = (radar.reports / "migration-status-2026-W48.md").read_text()
    assert ("| alpha | audio_transcriptions | whisper-1 | deprecated | 93 days | 40 | 0 | $0.36 "
            "| gpt-live-transcribe (or gpt-transcribe) | $1.02 | +$0.66 (costs more) |") in text
    assert ("| alpha | completions | gpt-4-0314 | shutdown | 244 days ago | 2 | 0 | $0.04 | "
            "gpt-5.6-sol (or gpt-6-luna) | $0.01 |") in text
    assert ('Where the provider names more than one replacement ("or ..."), the cost on the '
            "replacement is the first one's; each one's is under \"Replacement options\".") in (
        text)
    # ... where each named replacement is priced (tests/test_replacement_options.py)
    assert ("| alpha | completions | gpt-4-0314 | gpt-5.6-sol (recommended, for gpt-5, itself "
            "retiring) | active | $0.04 | $0.01 | -$0.03 |\n| alpha | completions | gpt-4-0314 | "
            "gpt-6-luna (cheapest, for gpt-4.1, itself retiring) | active | $0.04 | $0.00 | "
            "-$0.04 |") in text
    html = (radar.reports / "migration-status-2026-W48.html").read_text()
    assert "gpt-live-transcribe (or gpt-transcribe)" in html
    assert ("(&quot;or ...&quot;), the cost on the replacement is the first one&#x27;s; each "
            "one&#x27;s is under &quot;Replacement options&quot;.") in html


def test_replacement_line_when_nothing_or_everything_compares():
    from decimal import Decimal

    from pipelines.reports.report import replacement_line

    base = {"compared_cost": Decimal("2"), "compared_replacement_cost": Decimal("2.004"),
            "uncompared_cost": Decimal("0"), "uncompared_requests": 0,
            "uncompared_models": None}
    assert replacement_line(base) == ("The same traffic on the recommended replacements would "
                                      "cost $2.00: the same as now.")
    none = dict(base, compared_cost=None, compared_replacement_cost=None,
                uncompared_cost=Decimal("1.005"), uncompared_requests=1,
                uncompared_models="m1, m2, m3, m4, m5, m6, m7")
    assert replacement_line(none) == (
        "None of it can be priced on a replacement: 1 request (m1, m2, m3, m4, m5 and 2 more) "
        "has no priced replacement to compare: $1.01 now.")


def test_a_replacement_that_is_itself_retiring_is_said(radar, monkeypatch):
    """The chain is followed while a successor is named; where it ends on a retiring model,
    the action list says so rather than recommend it as if it were safe."""
    import json

    from tests.exports import RESULT_A, bucket, page

    (radar.landing / "usage.json").write_text(json.dumps(page([bucket("2026-11-24",
                                                                      [RESULT_A])])))
    lifecycle = radar.root / "lifecycle.csv"
    lifecycle.write_text("model,announced_date,shutdown_date,replacement_model\n"
                         "gpt-6-luna,2026-11-01,2027-06-01,\n")
    monkeypatch.setenv("RADAR_LIFECYCLE_OVERRIDES", str(lifecycle))
    assert run_job("weekly_migration_report").success
    text = (radar.reports / "migration-status-2026-W48.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| alpha "))
    assert "| gpt-6-luna (itself deprecated; no active successor named) |" in row


def test_a_deprecation_announced_without_a_shutdown_date_is_listed_last(radar, monkeypatch):
    """A provider may deprecate a model before naming its last day (a lifecycle override
    can say so): it is on the action list with "no date" for days left, after every dated
    row, and the headline's nearest shutdown is the nearest dated one."""
    import json

    from tests.exports import RESULT_A, RESULT_C, bucket, page

    (radar.landing / "usage.json").write_text(json.dumps(page([bucket("2026-11-24",
                                                                      [RESULT_A, RESULT_C])])))
    lifecycle = radar.root / "lifecycle.csv"
    lifecycle.write_text("model,announced_date,shutdown_date,replacement_model\n"
                         "gpt-5.6-sol,2026-11-02,,gpt-6-luna\n")
    monkeypatch.setenv("RADAR_LIFECYCLE_OVERRIDES", str(lifecycle))
    assert run_job("weekly_migration_report").success
    assert radar.query("SELECT model, lifecycle_status, days_to_shutdown "
                       "FROM marts.deprecated_model_usage ORDER BY model") == [
        ("gpt-4o-2024-08-06", "deprecated",
         (dt.date(2027, 1, 14) - dt.date.fromisoformat(AS_OF)).days),
        ("gpt-5.6-sol", "deprecated", None)]
    text = (radar.reports / "migration-status-2026-W48.md").read_text()
    actions = text.split("## 2. Action list")[1].split("**Who sends the calls**")[0]
    rows = [line for line in actions.splitlines()
            if line.startswith(("| alpha ", "| unassigned | completions"))]
    assert [r.split(" | ")[2] for r in rows] == ["gpt-4o-2024-08-06", "gpt-5.6-sol"]
    assert rows[1].split(" | ")[4] == "no date"
    assert "Nearest shutdown: **gpt-4o-2024-08-06** on 2027-01-14" in text


def test_token_usage_without_a_model_says_why_it_is_unpriced(radar):
    """Pages fetched without `group_by=model` carry tokens and no model: not a unit the
    catalog cannot meter, but an export that cannot be priced; the mart and the report say
    which it is."""
    import json

    from tests.exports import bucket, completion, page

    (radar.landing / "by_project.json").write_text(json.dumps(page([bucket("2026-11-24", [
        completion(input_tokens=5_000, output_tokens=500, num_model_requests=12,
                   project_id="proj_a")])])))
    assert run_job("weekly_migration_report").success
    assert radar.query("SELECT model, endpoint, requests, reason FROM marts.unpriced_usage") == [
        (None, "completions", 12, "no model: token usage from an export not grouped by model")]
    text = (radar.reports / "migration-status-2026-W48.md").read_text()
    assert ("- Unpriced usage: 1 model/endpoint pair, 12 requests (none). 12 of them have "
            "tokens but no model: their export or API pages were not grouped by model") in text
    assert "12 of them have tokens but no model" in (
        radar.reports / "migration-status-2026-W48.html").read_text()


def test_progress_says_how_much_of_the_week_it_compares():
    """A week is compared as far as its usage is loaded; with nothing loaded for it yet (a
    Monday, before the day's exports), no pair of last week may read as migrated."""
    from pipelines.reports.report import ReportData, progress_captions

    def data(week_through, as_of=dt.date(2026, 11, 29)):
        return ReportData(as_of, dt.date(2026, 11, 23), as_of - dt.timedelta(days=27),
                          {}, [], [], [], [], [], [], [], {}, week_through=week_through,
                          freshness=[{"source": "litellm", "last_day": dt.date(2026, 11, 22)}])

    assert progress_captions(data(dt.date(2026, 11, 29))) == (
        "Deprecated share of each team's requests, last week vs this week.",
        "on a deprecated model last week, not this week", None)
    shares, rule, note = progress_captions(data(dt.date(2026, 11, 25)))
    assert shares.endswith("this week so far (2026-11-23 to 2026-11-25, the days loaded).")
    assert rule.startswith("on a deprecated model last week, not this week so far, "
                           "2026-11-23 to 2026-11-25;")
    assert note is None
    _, _, note = progress_captions(data(None, as_of=dt.date(2026, 11, 23)))
    assert note == (
        "**No usage is loaded for this week yet** (the newest usage day is 2026-11-22): who "
        "migrated and who is new shows from the week's first exports. Last week's complete "
        "report is the one as of 2026-11-22 (`RADAR_AS_OF=2026-11-22`; the weekly schedule's "
        "Monday run writes it).")


def test_a_monday_report_calls_nobody_migrated(fixture_exports, monkeypatch):
    """As of a Monday the week has no usage yet: last week's deprecated callers (growth, on
    the fixture's shut-down model) are not listed as migrated, and the report says why."""
    monkeypatch.setenv("RADAR_AS_OF", "2026-11-30")
    assert run_job("weekly_migration_report").success
    text = (fixture_exports.reports / "migration-status-2026-W49.md").read_text()
    progress = text.split("## 3. Progress")[1].split("## 4.")[0]
    assert progress.startswith("\n**No usage is loaded for this week yet** (the newest usage "
                               "day is 2026-11-24)")
    migrated = progress.split("**Migrated this week**")[1].split("**New callers")[0]
    assert "_(no rows)_" in migrated and "growth" not in migrated
    # the week before, as of its Sunday: growth's calls are there, and the week is complete
    monkeypatch.setenv("RADAR_AS_OF", "2026-11-29")
    assert run_job("weekly_migration_report").success
    text = (fixture_exports.reports / "migration-status-2026-W48.md").read_text()
    assert "No usage is loaded" not in text
    assert "last week vs this week so far (2026-11-23 to 2026-11-24, the days loaded)." in text
    html_page = (fixture_exports.reports / "migration-status-2026-W49.html").read_text()
    assert '<p class="note"><b>No usage is loaded for this week yet</b>' in html_page
    assert "(<code>RADAR_AS_OF=2026-11-29</code>;" in html_page


def test_the_monday_schedule_reports_the_week_that_ended_and_keeps_the_newer_bi_copy(
        fixture_exports, refresh, monkeypatch):
    """The weekly schedule's Monday tick runs as of the Sunday before: the report of the ISO
    week that just ended, complete. Its refresh must not take the BI copy, published as of
    the Monday by the daily refresh, back to the Sunday."""
    import dagster as dg

    from pipelines.definitions import build_defs
    from pipelines.jobs import weekly_report_schedule

    monkeypatch.setenv("RADAR_AS_OF", "2026-11-30")
    refresh()  # the daily refresh of Monday 06:00
    copy = fixture_exports.publish / "radar.duckdb"

    def bi_as_of():
        import duckdb
        with duckdb.connect(str(copy), read_only=True) as con:
            return con.execute("SELECT as_of FROM publish_info").fetchall()[0][0]

    assert bi_as_of() == dt.date(2026, 11, 30)
    monday = dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC)
    # a RADAR_AS_OF in the environment wins, as everywhere
    pinned = weekly_report_schedule(dg.build_schedule_context(scheduled_execution_time=monday))
    assert isinstance(pinned, dg.RunRequest) and pinned.run_config == {}
    monkeypatch.delenv("RADAR_AS_OF")
    request = weekly_report_schedule(dg.build_schedule_context(scheduled_execution_time=monday))
    assert isinstance(request, dg.RunRequest)
    assert request.run_config == {"resources": {"radar": {"config": {"as_of": "2026-11-29"}}}}
    job = build_defs().resolve_job_def("weekly_migration_report")
    result = job.execute_in_process(run_config=request.run_config,
                                    instance=dg.DagsterInstance.ephemeral())
    assert result.success
    text = (fixture_exports.reports / "migration-status-2026-W48.md").read_text()
    assert text.startswith("# Migration status 2026-W48\nAs of 2026-11-29 ·")
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
                    if e.asset_key is not None}
    assert "reports/migration_status_report" in materialized
    assert "publish/bi_copy" not in materialized
    assert bi_as_of() == dt.date(2026, 11, 30)
    # a run of a later day publishes again
    monkeypatch.setenv("RADAR_AS_OF", "2026-12-01")
    refresh()
    assert bi_as_of() == dt.date(2026, 12, 1)
    # a copy dated after today (a mistyped RADAR_AS_OF) does not hold the next ones back
    monkeypatch.setenv("RADAR_AS_OF", "2099-12-01")
    refresh()
    assert bi_as_of() == dt.date(2099, 12, 1)
    monkeypatch.setenv("RADAR_AS_OF", "2026-12-01")
    refresh()
    assert bi_as_of() == dt.date(2026, 12, 1)


def test_the_headline_counts_teams_and_says_unassigned_callers_apart():
    from pipelines.reports.report import callers_text

    assert callers_text({"teams": 6, "unassigned": True}) == "**6 teams** and unassigned callers"
    assert callers_text({"teams": 1, "unassigned": False}) == "**1 team**"
    assert callers_text({"teams": 0, "unassigned": True}) == "**Unassigned callers** (no team)"


def test_the_callers_behind_each_row_are_named_busiest_first(radar):
    """marts.deprecated_model_callers takes each row of deprecated_model_usage apart by who
    sends the calls (source, project, key, user, route); the report names the busiest three
    of each team's row, in the action list's order, and says how many there are."""
    import json

    from tests.exports import RESULT_A, RESULT_C, bucket, page

    old = "2026-10-01"  # before the window (2026-10-29 .. 2026-11-25)
    (radar.landing / "usage.json").write_text(json.dumps(page([
        bucket(old, [dict(RESULT_A, api_key_id="key_eval", num_model_requests=7),
                     dict(RESULT_A, api_key_id="key_gone", num_model_requests=5)]),
        bucket("2026-11-23", [dict(RESULT_A, api_key_id="key_eval", num_model_requests=30)]),
        bucket("2026-11-24", [RESULT_A, RESULT_C,
                              dict(RESULT_A, api_key_id="key_cron", num_model_requests=2),
                              dict(RESULT_A, api_key_id="key_nightly", num_model_requests=1)]),
    ])))
    assert run_job("weekly_migration_report").success
    callers = radar.query(
        "SELECT team, model, api_key_id, first_seen, last_seen, requests_28d "
        "FROM marts.deprecated_model_callers")
    d = dt.date
    assert callers == [  # key_gone called only before the window: not a caller now
        ("alpha", "gpt-4o-2024-08-06", "key_a", d(2026, 11, 24), d(2026, 11, 24), 100),
        ("alpha", "gpt-4o-2024-08-06", "key_eval", d(2026, 10, 1), d(2026, 11, 23), 30),
        ("alpha", "gpt-4o-2024-08-06", "key_cron", d(2026, 11, 24), d(2026, 11, 24), 2),
        ("alpha", "gpt-4o-2024-08-06", "key_nightly", d(2026, 11, 24), d(2026, 11, 24), 1)]
    assert radar.query("SELECT requests_28d FROM marts.deprecated_model_usage") == [(133,)]
    text = (radar.reports / "migration-status-2026-W48.md").read_text()
    section = text.split("**Who sends the calls**")[1].split("**Unassigned callers**")[0]
    head = next(line for line in section.splitlines() if line.startswith("| team ")).split(" | ")
    at = [head.index(c) for c in ("caller", "API key", "requests (28d)")]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| alpha ")]
    assert [tuple(r[i] for i in at) for r in rows] == [
        ("1 of 4", "key_a", "100"), ("2 of 4", "key_eval", "30"), ("3 of 4", "key_cron", "2")]
    html = (radar.reports / "migration-status-2026-W48.html").read_text()
    assert html.count("<td>key_eval</td>") == 1 and "key_nightly" not in html
    # no key list loaded: the data health says the keys go by their ids
    assert ("- OpenAI callers of deprecated models with a key name: 0 of 4; no project key "
            "list is loaded, so keys go by their ids") in text


def test_a_gateway_caller_is_named_by_its_key_alias_the_newest_one(radar):
    """LiteLLM logs a key's alias (user_api_key_alias) beside its hashed token: the callers
    mart and the report name the key by it; a key renamed later goes by its newest name."""
    import csv
    import json

    from tests.exports import LITELLM_HEADER, litellm_row

    def spend_log(name: str, rows: list[tuple[str, str, str, str]]) -> None:
        with (radar.landing / name).open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(LITELLM_HEADER)
            for rid, key, alias, day in rows:
                team = "" if key == "hash_c" else "team-x"  # hash_c: no team, unassigned
                row = litellm_row(rid, "gpt-4o-2024-08-06", 100, 10, team, "", "success",
                                  day=day)
                row[2] = key
                row[12] = json.dumps({"user_api_key_team_id": team or None,
                                      "user_api_key_alias": alias})
                w.writerow(row)

    spend_log("week1.csv", [("r1", "hash_a", "ingest-worker", "2026-11-20"),
                            ("r2", "hash_b", "", "2026-11-20")])
    spend_log("week2.csv", [("r3", "hash_a", "ingest-worker-v2", "2026-11-24"),
                            ("r4", "hash_a", "ingest-worker-v2", "2026-11-24"),
                            ("r5", "hash_c", "notebook-key", "2026-11-24")])
    assert run_job("weekly_migration_report").success
    assert radar.query("SELECT team, api_key_id, key_alias, requests_28d "
                       "FROM marts.deprecated_model_callers") == [
        ("growth", "hash_a", "ingest-worker-v2", 3), ("growth", "hash_b", None, 1),
        ("unassigned", "hash_c", "notebook-key", 1)]
    text = (radar.reports / "migration-status-2026-W48.md").read_text()
    section = text.split("**Who sends the calls**")[1].split("**Unassigned callers**")[0]
    assert "| 1 of 2 | litellm |  | hash_a | ingest-worker-v2 |  | /v1/chat/completions | 3 |" \
        in section
    # an unassigned gateway key, by the name to look it up under in LiteLLM
    unassigned = text.split("**Unassigned callers**")[1].split("## 3.")[0]
    assert "| litellm |  | hash_c | notebook-key |  | gpt-4o-2024-08-06 | 1 | 2026-11-24 |" \
        in unassigned


def test_an_openai_caller_is_named_by_its_key_list_with_its_owner(radar):
    """The Usage API gives a key's, a project's and a user's ids only: saved key, project and
    user lists (what the sync pulls) name them and the key's owner in the callers mart and
    the report;
    an unassigned key shows its owner, the person to ask, even without a name (and a project
    without a list its id); a newer list renames a key."""
    import json

    from tests.exports import RESULT_A, bucket, page
    from tests.fake_openai import project_key

    (radar.landing / "usage.json").write_text(json.dumps(page([bucket("2026-11-24", [
        RESULT_A, dict(RESULT_A, project_id="proj_x", api_key_id="key_x", num_model_requests=4,
                       user_id="user_bo")
    ])])))

    def key_list(name: str, keys: list[dict]) -> None:
        (radar.landing / name).write_text(json.dumps(
            {"object": "list", "data": keys, "first_id": keys[0]["id"],
             "last_id": keys[-1]["id"], "has_more": False}))

    key_list("keys_1.json", [project_key("key_a", "checkout", service_account={"name": "svc"}),
                             project_key("key_x", "", user={"name": "Bo", "email": "b@x.io"})])
    (radar.landing / "projects.json").write_text(json.dumps({"object": "list", "data": [
        {"object": "organization.project", "id": "proj_a", "name": "Checkout",
         "created_at": 1_711_471_533, "archived_at": None, "status": "active"}],
        "first_id": "proj_a", "last_id": "proj_a", "has_more": False}))
    (radar.landing / "users.json").write_text(json.dumps({"object": "list", "data": [
        {"object": "organization.user", "id": "user_bo", "name": "Bo Berg", "email": "b@x.io",
         "role": "reader", "added_at": 1_711_471_533}], "has_more": False}))
    assert run_job("weekly_migration_report").success
    callers = ("SELECT team, api_key_id, key_alias, key_owner, requests_28d "
               "FROM marts.deprecated_model_callers")
    assert radar.query(callers) == [("alpha", "key_a", "checkout", "svc", 100),
                                    ("unassigned", "key_x", None, "Bo", 4)]
    text = (radar.reports / "migration-status-2026-W48.md").read_text()
    section = text.split("**Who sends the calls**")[1].split("**Unassigned callers**")[0]
    assert "| openai_usage_api | Checkout (proj_a) | key_a | checkout (svc) |" in section
    unassigned = text.split("**Unassigned callers**")[1].split("## 3.")[0]
    assert "| openai_usage_api | proj_x | key_x | (Bo) | Bo Berg (user_bo) |" in unassigned
    # and how to map it: the team directory's line, in both formats
    assert "a line `api_key_id,<API key>,<team>`" in unassigned
    html = (radar.reports / "migration-status-2026-W48.html").read_text()
    assert "a line\n<code>api_key_id,&lt;API key&gt;,&lt;team&gt;</code>" in html

    key_list("keys_2.json", [project_key("key_a", "checkout-v2",
                                         service_account={"name": "svc"})])
    assert run_job("weekly_migration_report").success
    assert radar.query(callers)[0][2] == "checkout-v2"
    health = (radar.reports / "migration-status-2026-W48.md").read_text().split(
        "## 5. Data health")[1]
    loaded = radar.query("SELECT max(ingested_at)::DATE FROM staging.ingested_files")[0][0]
    assert (f"- OpenAI callers of deprecated models with a key name: 1 of 2; the newest "
            f"project key list was loaded on {loaded}") in health


def test_a_shut_down_model_whose_usage_stopped_says_so():
    """After a shutdown a billed-usage source (Usage API, dashboard) shows no failed call,
    only that the usage stopped: the row says so instead of a bare "shutdown"."""
    from pipelines.reports.report import NO_USAGE_SINCE, status_label

    row = {"lifecycle_status": "shutdown", "failing": False,
           "shutdown_date": dt.date(2026, 12, 1), "last_seen": dt.date(2026, 11, 30)}
    assert status_label(row) == NO_USAGE_SINCE == "shutdown; no usage seen since"
    # usage on or after the shutdown day, failing calls, a deprecated model: as before
    assert status_label(dict(row, last_seen=dt.date(2026, 12, 1))) == "shutdown"
    assert status_label(dict(row, failing=True)) == "FAILING: shutdown"
    assert status_label(dict(row, lifecycle_status="deprecated")) == "deprecated"
    assert status_label(dict(row, shutdown_date=None)) == "shutdown"


def test_a_retirement_that_began_this_week_is_said_apart(radar, monkeypatch):
    """The action list puts the nearest shutdowns first, so a retirement announced this week
    (months away) sits far down it: the headline and the Progress section name it apart, as
    new work. A LiteLLM shutdown date without an announcement begins to count 365 days before
    it; a retirement from an earlier week is not new."""
    import json

    from tests.exports import RESULT_A, RESULT_C, bucket, page

    (radar.landing / "usage.json").write_text(json.dumps(page([bucket("2026-11-24",
                                                                      [RESULT_A, RESULT_C])])))
    lifecycle = radar.root / "lifecycle.csv"
    monkeypatch.setenv("RADAR_LIFECYCLE_OVERRIDES", str(lifecycle))

    def newly_deprecated(as_of: str, overrides: str) -> tuple[list[str], list[list[str]], str]:
        """The headline's line on them, the Progress table's rows, and the HTML table."""
        monkeypatch.setenv("RADAR_AS_OF", as_of)
        lifecycle.write_text("model,announced_date,shutdown_date,replacement_model\n"
                             + overrides)
        assert run_job("weekly_migration_report").success
        label = iso_week_label(dt.date.fromisoformat(as_of))
        text = (radar.reports / f"migration-status-{label}.md").read_text()
        headline = [line for line in text.split("## 2.")[0].splitlines()
                    if "Newly deprecated this week" in line]
        section = text.split("**Newly deprecated this week**")[1].split("## 4.")[0]
        rows = [[c.strip() for c in line.split("|")[1:-1]] for line in section.splitlines()
                if line.startswith("| ") and not line.startswith("| team")]
        html = (radar.reports / f"migration-status-{label}.html").read_text()
        part = html.split("<h3>Newly deprecated this week</h3>")[1].split("<h2>4.")[0]
        return headline, rows, part

    # announced this week (2026-11-23 to 25); gpt-4o-2024-08-06's LiteLLM date (2027-01-14)
    # began to count in January
    headline, rows, html = newly_deprecated(
        "2026-11-25", "gpt-5.6-sol,2026-11-24,2027-05-24,gpt-6-luna\n")
    assert headline == ["- Newly deprecated this week: **gpt-5.6-sol** (announced 2026-11-24; "
                        "shutdown 2027-05-24). 1 row of the action list, 1 request in 28 days "
                        "(see \"Newly deprecated this week\" under Progress)."]
    assert rows == [["unassigned", "completions", "gpt-5.6-sol", "2026-11-24", "2027-05-24",
                     "180 days", "1", "gpt-6-luna"]]
    assert 'id="newly-deprecated"' in html
    assert "gpt-5.6-sol" in html and "gpt-4o-2024-08-06" not in html
    # a shutdown date with no announcement date, 365 days after a day of this week
    headline, rows, _ = newly_deprecated(
        "2026-11-25", "gpt-4o-2024-08-06,,2027-11-24,gpt-6-luna\n")
    assert [r[2:4] for r in rows] == [
        ["gpt-4o-2024-08-06", "2026-11-24 (LiteLLM shutdown date - 365 days)"]]
    assert rows[0][0] == "alpha" and rows[0][6] == "100"
    assert headline[0].startswith(
        "- Newly deprecated this week: **gpt-4o-2024-08-06** (shutdown 2027-11-24, a LiteLLM "
        "date with no announcement: counted from 2026-11-24, 365 days before). 1 row")
    # the next week, the same announcement is no longer new
    headline, rows, html = newly_deprecated(
        "2026-12-02", "gpt-5.6-sol,2026-11-24,2027-05-24,gpt-6-luna\n")
    assert headline == [] and rows == [] and '<p class="empty">None.</p>' in html


def test_a_report_lists_the_checks_of_its_own_week(fixture_exports, monkeypatch):
    """The report's quality checks are those of the runs as of a day of its week up to its
    as-of, each run being as of one day throughout: a report re-run for an earlier week
    does not count the checks of every run since (until 2026-12-07 it picked them by the
    time they ran)."""
    import dagster as dg
    import duckdb

    from pipelines.definitions import build_defs
    from pipelines.resources import run_start_day

    # a refresh with no RADAR_AS_OF: as of the day it started, which is after the fixture's
    # week, so its usage (through 2026-11-24) is too old and usage_is_current fails
    monkeypatch.delenv("RADAR_AS_OF")
    instance = dg.DagsterInstance.ephemeral()
    today = build_defs().resolve_job_def("radar_refresh").execute_in_process(
        instance=instance, raise_on_error=False)
    record = instance.get_run_record_by_id(today.run_id)
    assert record is not None
    started = run_start_day(record.start_time, record.create_timestamp)
    assert started is not None and started > dt.date(2026, 11, 29)

    def results(run_id: str) -> list[tuple]:
        with duckdb.connect(str(fixture_exports.warehouse), read_only=True) as con:
            return con.execute("""SELECT as_of, "check", passed FROM quality.check_results
                                  WHERE run_id = $run ORDER BY "check" """,
                               {"run": run_id}).fetchall()

    todays = results(today.run_id)
    assert len(todays) > 10 and {as_of for as_of, _, _ in todays} == {started}
    assert (started, "usage_is_current", False) in todays
    # the report of the fixture's week, as of its day: its failures this week are those of
    # its own run (the check fails as of that day too: the fixture's OpenAI exports end 3 and
    # 4 days before it), not of the later day's run as well
    monkeypatch.setenv("RADAR_AS_OF", AS_OF)
    report = run_job("weekly_migration_report")
    assert report.success
    own = results(report.run_id)
    assert {as_of for as_of, _, _ in own} == {dt.date.fromisoformat(AS_OF)}
    text = (fixture_exports.reports / "migration-status-2026-W48.md").read_text()
    rows = [line.split(" | ") for line in text.split("failures this week |")[1].splitlines()
            if line.startswith("| ") and not line.startswith("| ---")]
    assert sorted((row[1], row[3], row[4]) for row in rows) == [
        (check, "pass" if passed else "FAIL", "0 |" if passed else "1 |")
        for _, check, passed in own]
    assert ("usage_is_current", "FAIL", "1 |") in [(row[1], row[3], row[4]) for row in rows]
    failing = sum(1 for _, _, passed in own if not passed)
    assert (f"- Quality checks this week: {len(own) - failing} passing, {failing} failing at "
            "their last run.") in text
