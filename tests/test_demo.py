"""The demo: what `make demo` shows a new user must be true of the product, not of the demo.

Its Costs API bill is what OpenAI would charge for the demo's usage at list prices (priced in
Python by `pipelines.demo.generate.ListPrices` with `money.row_cost`), so the reconciliation
also checks the warehouse's SQL pricing against the Python rule over every kind of usage the
demo has: cached, batch and flex tokens, audio and image tokens, embeddings and seconds of
audio. Until 2026-12-06 the demo billed a random 20-40 USD a day per project: every day was
`unexplained` and the reconciliation check failed in every demo.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pipelines.demo.generate import COST_VIEW_DAYS, generate
from tests.conftest import REPO, run_job, run_refresh
from tests.exports import AS_OF
from tests.test_quality import check_evaluations


def test_the_demo_bill_reconciles_with_the_computed_cost(radar, monkeypatch):
    monkeypatch.delenv("RADAR_TEAMS_FILE")  # the shipped sample directory, as the demo has
    generate(radar.landing, dt.date.fromisoformat(AS_OF))
    result = run_refresh()
    assert check_evaluations(result)["bill_matches_computed_cost"] == (True, "WARN")
    rows = radar.query("SELECT project_id, classification, billed_usd, computed_usd "
                       "FROM marts.cost_reconciliation")
    assert len(rows) > 150 and {c for _, c, _, _ in rows} == {"matched"}
    # the bill shows 6 decimal places: each day agrees to half of its last one
    assert max(abs(b - c) for _, _, b, c in rows) <= Decimal("0.0000005")
    # every project the OpenAI exports priced on a day is billed that day, and no other
    assert set(radar.query(
        "SELECT usage_date, project_id FROM marts.usage_cost_daily WHERE source <> 'litellm' "
        "GROUP BY ALL HAVING sum(cost_usd) > 0")) == set(radar.query(
            "SELECT usage_date, project_id FROM marts.cost_reconciliation"))
    # the usage that makes it more than text tokens is in the bill
    assert {p for p, _, _, _ in rows} == {"proj_sandbox", "proj_search", "proj_support",
                                          "proj_voice", "proj_design"}
    # the bill's last week comes from the dashboard's cost view, which names the organisation:
    # FOCUS's billing account of OpenAI's own usage (a spend log names none)
    last_week = [r for r in radar.query("SELECT usage_date FROM marts.cost_reconciliation")
                 if r[0] >= dt.date.fromisoformat(AS_OF) - dt.timedelta(days=COST_VIEW_DAYS)]
    assert radar.query("SELECT f.status, f.rows_loaded, o.organization_id, o.organization_name "
                       "FROM staging.ingested_files AS f JOIN staging.openai_organizations "
                       "AS o USING (file_id) WHERE f.path LIKE '%cost_view_export.csv'") == [
        ("loaded", len(last_week), "org-demo", "Demo Co")]
    assert radar.query('SELECT DISTINCT x_source, "BillingAccountId", "BillingAccountName" '
                       "FROM marts.focus_costs ORDER BY ALL") == [
        ("litellm", None, None), ("openai_dashboard", "org-demo", "Demo Co"),
        ("openai_usage_api", "org-demo", "Demo Co")]


def _last_openai_chat_shutdown() -> dt.date:
    """The last shutdown date of an OpenAI chat model in the shipped catalog: from that day
    on the catalog names none still deprecated (2027-04-01 with the catalog of 2026-09-11)."""
    from pipelines.lib.catalog import read_lifecycle, read_prices
    from pipelines.settings import CATALOG_DATA_DIR

    chat = {p.model for p in read_prices(CATALOG_DATA_DIR / "model_prices.csv")
            if p.mode == "chat" and p.provider == "openai"}
    return max(r.shutdown_date for r in read_lifecycle(CATALOG_DATA_DIR / "model_lifecycle.csv")
               if r.model in chat and r.shutdown_date)


def test_the_demo_runs_once_the_catalog_names_no_model_still_deprecated(
        radar, monkeypatch, capsys):
    """`make demo` on a day past every OpenAI chat model's shutdown the shipped catalog knows
    (a fresh machine some months after the catalog's sources) stopped with `the catalog has
    no priced chat model that is deprecated on ...`. Now the teams the demo puts on such a
    model call the active one, the demo says why, and the refresh, the weekly report and the
    summary run; what is left to migrate from is the shut-down models."""
    from pipelines.demo import summary
    from pipelines.demo.generate import main, pick_models

    monkeypatch.delenv("RADAR_TEAMS_FILE")  # the shipped sample directory, as the demo has
    day = _last_openai_chat_shutdown()
    before = pick_models(day - dt.timedelta(days=1))
    assert before.deprecated is not None and before.deprecated_later is not None
    models = pick_models(day)
    assert models.deprecated is None and models.deprecated_later is None
    # the README says from which day
    assert f"still deprecated on the run date, from {day}\n" in (REPO / "README.md").read_text()
    main(["--landing", str(radar.landing), "--as-of", day.isoformat()])
    assert (f"The catalog names no OpenAI chat model still deprecated on {day}: its\n"
            "knowledge of retirements has run out by then (`make catalog` brings newer ones).\n"
            f"The demo's teams on such a model call {models.active} instead.\n"
            ) in capsys.readouterr().out

    monkeypatch.setenv("RADAR_AS_OF", day.isoformat())
    result = run_job("weekly_migration_report")
    assert result.success
    assert check_evaluations(result)["bill_matches_computed_cost"] == (True, "WARN")
    rows = radar.query("SELECT team, model, lifecycle_status FROM marts.deprecated_model_usage")
    # the teams on the active model now are not in it; the shut-down models' callers are
    assert {team for team, _, _ in rows} >= {"growth", "data-science"}
    assert not {team for team, _, _ in rows} & {"search", "search-indexing", "support",
                                                "unassigned", "platform"}
    assert {(model, status) for team, model, status in rows if team == "growth"} == {
        (models.shutdown, "shutdown")}
    assert list(radar.reports.glob(f"migration-status-{day:%G-W%V}.*"))
    summary.main()
    out = capsys.readouterr().out
    assert f"Sunset Radar, as of {day}" in out
    assert f"| growth | completions | {models.shutdown} | shutdown |" in out
