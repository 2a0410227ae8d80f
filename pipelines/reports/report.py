"""The weekly migration-status report: collect from the warehouse, render markdown and HTML.

The HTML is self-contained (inline CSS, charts as inline SVG images), opens offline and prints
well. Every value that comes from the data is escaped.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from pipelines.lib.catalog import KNOWN_THROUGH_SQL, UNANNOUNCED_LEAD_DAYS
from pipelines.lib.duck import column_names, table_exists
from pipelines.lib.ingest import ORGANISATIONS_SQL, RETRY_NOTE
from pipelines.lib.markdown import fmt, table
from pipelines.lib.modelnames import named_models
from pipelines.lib.money import to_cents
from pipelines.lib.schema import NOT_MODEL_USAGE
from pipelines.settings import CATALOG_MAX_AGE_DAYS, STALE_AFTER_DAYS


def money(value: Decimal | None) -> str:
    """``$1,234.57`` / ``-$0.13`` (:func:`pipelines.lib.money.to_cents`); None is ``n/a``."""
    if value is None:
        return "n/a"
    cents = to_cents(value)
    return f"-${-cents:,}" if cents < 0 else f"${cents:,}"


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def iso_week_label(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class ReportData:
    as_of: dt.date
    week_start: dt.date
    window_start: dt.date
    headline: dict[str, Any]
    actions: list[dict[str, Any]]
    progress: list[dict[str, Any]]
    migrated: list[dict[str, Any]]
    new_callers: list[dict[str, Any]]
    unassigned: list[dict[str, Any]]
    burn_down: list[dict[str, Any]]
    cost_by_model: list[dict[str, Any]]
    health: dict[str, Any]
    checks: list[dict[str, Any]] = field(default_factory=list)
    #: newest usage day of each source that has usage in the window
    freshness: list[dict[str, Any]] = field(default_factory=list)
    #: the newest usage day of the report's week (None: nothing is loaded for it yet)
    week_through: dt.date | None = None
    #: RADAR_CATALOG_MAX_AGE_DAYS: an older catalog is warned about before the headline
    catalog_max_age_days: int = CATALOG_MAX_AGE_DAYS
    #: the callers (source, project, key, user, route) behind each action row of a team: the
    #: busiest CALLERS_PER_ROW of each, in the action list's order
    callers: list[dict[str, Any]] = field(default_factory=list)
    #: the action rows whose model's retirement began to count this week (``newly_deprecated``)
    newly_deprecated: list[dict[str, Any]] = field(default_factory=list)
    #: every replacement named for the action rows that have more than one
    #: (``marts.replacement_options``), in the action list's order
    options: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return iso_week_label(self.as_of)


def _dicts(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> list[dict[str, Any]]:
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    rel = con.execute(sql, used)
    cols = [d[0] for d in rel.description]
    return [dict(zip(cols, row, strict=True)) for row in rel.fetchall()]


def collect(con: duckdb.DuckDBPyConnection, as_of: dt.date,
            catalog_max_age_days: int = CATALOG_MAX_AGE_DAYS) -> ReportData:
    week_start = as_of - dt.timedelta(days=as_of.weekday())
    p = {"as_of": as_of, "week_start": week_start,
         "last_week": week_start - dt.timedelta(days=7),
         "window_start": as_of - dt.timedelta(days=27),
         "first_chart_week": week_start - dt.timedelta(weeks=11)}
    headline = _dicts(con, """
        WITH dep AS (SELECT * FROM marts.deprecated_model_usage),
        win AS (SELECT sum(requests) AS requests, sum(cost_usd) AS cost
                FROM marts.usage_cost_daily WHERE usage_date BETWEEN $window_start AND $as_of),
        nearest AS (SELECT model, shutdown_date, days_to_shutdown FROM dep
                    WHERE days_to_shutdown >= 0 ORDER BY days_to_shutdown, model LIMIT 1)
        SELECT (SELECT count(DISTINCT team) FILTER (WHERE team <> 'unassigned') FROM dep)
                   AS teams,
               (SELECT count(*) > 0 FROM dep WHERE team = 'unassigned') AS unassigned,
               (SELECT count(DISTINCT endpoint) FROM dep) AS endpoints,
               (SELECT count(*) FROM dep) AS pairs,
               (SELECT coalesce(sum(requests_28d), 0) FROM dep) AS requests,
               (SELECT coalesce(sum(failed_requests_28d), 0) FROM dep) AS failed_requests,
               (SELECT coalesce(sum(cost_usd_28d), 0) FROM dep) AS cost,
               -- the replacement comparison holds only where both sides have a price
               (SELECT sum(cost_usd_28d) FROM dep WHERE replacement_cost_usd_28d IS NOT NULL
                  AND cost_usd_28d IS NOT NULL) AS compared_cost,
               (SELECT sum(replacement_cost_usd_28d) FROM dep WHERE cost_usd_28d IS NOT NULL
                  AND replacement_cost_usd_28d IS NOT NULL) AS compared_replacement_cost,
               (SELECT coalesce(sum(cost_usd_28d), 0) FROM dep
                 WHERE replacement_cost_usd_28d IS NULL OR cost_usd_28d IS NULL)
                 AS uncompared_cost,
               (SELECT coalesce(sum(requests_28d), 0) FROM dep
                 WHERE replacement_cost_usd_28d IS NULL OR cost_usd_28d IS NULL)
                 AS uncompared_requests,
               (SELECT string_agg(DISTINCT model, ', ' ORDER BY model) FROM dep
                 WHERE replacement_cost_usd_28d IS NULL OR cost_usd_28d IS NULL)
                 AS uncompared_models,
               win.requests AS all_requests, win.cost AS all_cost,
               (SELECT model FROM nearest) AS nearest_model,
               (SELECT shutdown_date FROM nearest) AS nearest_shutdown,
               (SELECT days_to_shutdown FROM nearest) AS nearest_days
        FROM win""", p)[0]
    has_owner = "owner" in column_names(con, "catalog.team_directory")
    owner = ("(SELECT string_agg(DISTINCT owner, ', ') FROM catalog.team_directory t "
             "WHERE t.team = d.team)" if has_owner else "NULL")
    # the end of a replacement chain can itself be retiring (no active successor named, or
    # the chain comes back on itself)
    actions = _dicts(con, f"""
        SELECT d.*, {owner} AS owner,
               d.lifecycle_status = 'shutdown' AND d.failed_requests_28d > 0 AS failing,
               (SELECT l.lifecycle_status FROM intermediate.model_resolution r
                JOIN intermediate.lifecycle_as_of l ON l.model = r.lifecycle_model
                WHERE r.model = d.replacement_model) AS replacement_status,
               ml.announced_date, ml.deprecated_since,
               -- the provider's own words where it names more than one replacement ("or"),
               -- when the recommended one is its (not a later link of the chain)
               CASE WHEN d.replacement_model = ml.provider_replacement_model
                    THEN cl.replacement_note END AS replacement_note
        FROM marts.deprecated_model_usage d
        LEFT JOIN intermediate.model_resolution mr ON mr.model = d.model
        LEFT JOIN intermediate.lifecycle_as_of ml ON ml.model = mr.lifecycle_model
        LEFT JOIN catalog.model_lifecycle cl ON cl.model = mr.lifecycle_model
        ORDER BY failing DESC, days_to_shutdown NULLS LAST, requests_28d DESC, team, model""", p)
    newly_deprecated = newly_deprecated_rows(actions, week_start, as_of)
    progress = _dicts(con, """
        SELECT team,
               max(deprecated_share) FILTER (WHERE week_start = $week_start) AS share_this_week,
               max(deprecated_share) FILTER (WHERE week_start = $last_week) AS share_last_week,
               max(requests) FILTER (WHERE week_start = $week_start) AS requests_this_week,
               max(deprecated_requests) FILTER (WHERE week_start = $week_start)
                   AS deprecated_requests_this_week
        FROM marts.migration_status_weekly
        WHERE week_start IN ($week_start, $last_week)
        GROUP BY team ORDER BY team""", p)
    for row in progress:
        a, b = row["share_this_week"], row["share_last_week"]
        row["change"] = None if a is None or b is None else a - b
    (week_through,) = con.execute(
        "SELECT max(usage_date) FROM marts.usage_cost_daily WHERE usage_date BETWEEN "
        "$week_start AND $as_of", {"week_start": week_start, "as_of": as_of}).fetchall()[0]
    pairs_sql = """
        WITH dep AS (
            SELECT team, endpoint, model, usage_date, requests FROM marts.usage_cost_daily
            WHERE lifecycle_status IN ('deprecated', 'shutdown') AND requests > 0
              AND usage_date <= $as_of),
        this_week AS (SELECT team, endpoint, model, sum(requests) AS requests,
                             min(usage_date) AS first_day
                      FROM dep WHERE usage_date >= $week_start GROUP BY ALL),
        last_week AS (SELECT team, endpoint, model, sum(requests) AS requests
                      FROM dep WHERE usage_date >= $last_week AND usage_date < $week_start
                      GROUP BY ALL),
        before AS (SELECT DISTINCT team, endpoint, model FROM dep WHERE usage_date < $week_start)
    """
    # with nothing loaded for the week yet (a Monday's report, before the day's exports),
    # every pair of last week would read as migrated: none is listed
    migrated = _dicts(con, pairs_sql + """
        SELECT l.team, l.endpoint, l.model, l.requests AS requests_last_week
        FROM last_week l ANTI JOIN this_week t USING (team, endpoint, model)
        ORDER BY l.requests DESC, l.team""", p) if week_through else []
    new_callers = _dicts(con, pairs_sql + """
        SELECT t.team, t.endpoint, t.model, t.requests AS requests_this_week, t.first_day
        FROM this_week t ANTI JOIN before b USING (team, endpoint, model)
        ORDER BY t.requests DESC, t.team""", p)
    has_callers = table_exists(con, "marts.deprecated_model_callers")
    # deprecated-model traffic no team claims: the keys, users and projects to map, with the
    # names they go by (and a key's owner: the person to ask)
    unassigned = _dicts(con, """
        SELECT source, project_id, max(project_name) AS project_name, api_key_id,
               max(key_alias) AS key_alias, max(key_owner) AS key_owner, user_id,
               max(user_name) AS user_name, model,
               sum(requests_28d) AS requests, max(last_seen) AS last_seen
        FROM marts.deprecated_model_callers WHERE team = 'unassigned'
        GROUP BY source, project_id, api_key_id, user_id, model
        HAVING sum(requests_28d) > 0
        ORDER BY requests DESC, source, project_id, api_key_id, user_id, model
        LIMIT 20""", p) if has_callers else []
    callers = _dicts(con, """
        WITH ranked AS (
            SELECT *, row_number() OVER (PARTITION BY team, endpoint, model
                                         ORDER BY requests_28d DESC, source, project_id,
                                                  api_key_id, user_id, route) AS rank,
                   count(*) OVER (PARTITION BY team, endpoint, model) AS callers
            FROM marts.deprecated_model_callers WHERE team <> 'unassigned')
        SELECT * FROM ranked WHERE rank <= $per_row""", {**p, "per_row": CALLERS_PER_ROW}
    ) if has_callers else []
    order = {(r["team"], r["endpoint"], r["model"]): i for i, r in enumerate(actions)}
    callers.sort(key=lambda r: (order.get((r["team"], r["endpoint"], r["model"]), len(order)),
                                r["rank"]))
    has_options = table_exists(con, "marts.replacement_options")
    options, headline["compared_cheapest_cost"] = (
        _replacement_options(con, order) if has_options else ([], None))
    if has_options:
        # each action row's other replacements, as its options name them (chain followed)
        others: dict[tuple, list[str]] = {}
        for o in options:
            if o["option_rank"] > 1:
                others.setdefault((o["team"], o["endpoint"], o["model"]), []).append(
                    o["replacement_model"])
        for r in actions:
            r["alternatives"] = others.get((r["team"], r["endpoint"], r["model"]), [])
    burn_down = _dicts(con, """
        SELECT week_start, team, deprecated_share, requests
        FROM marts.migration_status_weekly
        WHERE week_start BETWEEN $first_chart_week AND $week_start
        ORDER BY week_start, team""", p)
    # ... and on the cheapest replacement named for each row
    cheapest_cost, cheapest_join = (CHEAPEST_COST, CHEAPEST_JOIN) if has_options else ("NULL", "")
    cost_by_model = _dicts(con, f"""
        SELECT d.model, any_value(d.replacement_model) AS replacement_model,
               sum(d.cost_usd_28d) AS cost, sum(d.replacement_cost_usd_28d) AS replacement_cost,
               {cheapest_cost} AS cheapest_cost
        FROM marts.deprecated_model_usage AS d {cheapest_join}
        GROUP BY d.model
        HAVING sum(d.cost_usd_28d) > 0 ORDER BY cost DESC""", p)
    health = _dicts(con, """
        SELECT (SELECT count(*) FROM marts.unpriced_usage) AS unpriced_pairs,
               (SELECT coalesce(sum(requests), 0) FROM marts.unpriced_usage) AS unpriced_requests,
               (SELECT string_agg(model, ', ' ORDER BY requests DESC)
                FROM (SELECT model, requests FROM marts.unpriced_usage
                      WHERE model IS NOT NULL LIMIT 5)) AS unpriced_models,
               (SELECT coalesce(sum(requests), 0) FROM marts.unpriced_usage
                 WHERE model IS NULL AND input_tokens + output_tokens > 0)
                 AS modelless_requests,
               (SELECT coalesce(sum(requests), 0) FROM intermediate.usage_set_aside
                 WHERE usage_date BETWEEN $window_start AND $as_of) AS regrouped_requests,
               coalesce(long_prompts.requests, 0) AS long_prompt_requests,
               coalesce(long_prompts.at_long_rates, 0) AS long_rate_requests,
               coalesce(long_prompts.replacement_at_long_rates, 0)
                 AS long_rate_replacement_requests,
               (SELECT count(*) FROM staging.ingested_files WHERE status = 'rejected'
                  AND ingested_at >= $week_start) AS rejected_files_week,
               -- of them, files an older version had rejected already (read again)
               (SELECT count(*) FROM staging.ingested_files WHERE status = 'rejected'
                  AND ingested_at >= $week_start AND contains(note, $retried))
                  AS retried_files_week,
               (SELECT coalesce(sum(rows_rejected), 0) FROM staging.ingested_files
                 WHERE ingested_at >= $week_start) AS rejected_rows_week,
               (SELECT count(*) FROM staging.ingested_files WHERE status = 'rejected')
                   AS rejected_files_total,
               (SELECT count(*) FROM staging.rejected_rows) AS rejected_rows_total,
               -- gateway calls that are not model usage: kept there too, no data problem
               (SELECT count(*) FROM staging.rejected_rows WHERE rejected_at >= $week_start
                  AND starts_with(reason, $not_usage)) AS not_usage_rows_week,
               (SELECT count(*) FROM staging.rejected_rows
                 WHERE starts_with(reason, $not_usage)) AS not_usage_rows_total
        -- gateway requests whose prompts passed a long-context threshold, in one scan
        FROM (SELECT sum(requests) AS requests,
                     sum(requests) FILTER (WHERE long_context_threshold IS NOT NULL)
                         AS at_long_rates,
                     sum(requests) FILTER (
                         WHERE lifecycle_status IN ('deprecated', 'shutdown')
                           AND replacement_long_context_threshold IS NOT NULL)
                         AS replacement_at_long_rates
              FROM intermediate.usage_priced
              WHERE usage_date BETWEEN $window_start AND $as_of AND prompt_band > 0)
             AS long_prompts
        """, {**p, "not_usage": NOT_MODEL_USAGE, "retried": RETRY_NOTE})[0]
    health["rejected_rows_week"] -= health["not_usage_rows_week"]
    health["rejected_rows_total"] -= health["not_usage_rows_total"]
    # how recent the catalog's knowledge of retirements is (a working file from before
    # catalog.sources existed: its newest announcement only)
    health["catalog_known_through"] = con.execute(
        KNOWN_THROUGH_SQL if table_exists(con, "catalog.sources")
        else "SELECT max(announced_date) FROM catalog.model_lifecycle").fetchall()[0][0]
    health.update(_names_health(con) if has_callers else {})
    # the OpenAI organisations the loaded exports name (a working file from before the
    # table: none)
    health["organisations"] = [row[0] for row in con.execute(ORGANISATIONS_SQL).fetchall()] \
        if table_exists(con, "staging.openai_organizations") else []
    # a warehouse priced before the contracted cost was kept apart: its list_cost_usd was
    # the overrides' price, and the report says no list price it does not have
    contracted = ("contracted_cost_usd" if "contracted_cost_usd" in column_names(
        con, "intermediate.usage_priced") else "list_cost_usd")
    overridden = con.execute(OVERRIDDEN_MODELS_SQL.format(contracted=contracted), {
        "window_start": p["window_start"], "as_of": as_of}).fetchall()
    health["overridden_models"] = [model for model, _, _ in overridden]
    # the same usage before batch discounts, at those prices and at the catalog's list prices
    health["overridden_contracted_usd"] = sum((c for _, c, _ in overridden), Decimal(0))
    health["overridden_list_usd"] = sum((lst for _, _, lst in overridden), Decimal(0))
    checks: list[dict[str, Any]] = []
    # the lines of the team directory that map no key, as this run read them
    health["team_directory_problems"] = [text for (text,) in con.execute(
        "SELECT problem FROM catalog.team_directory_problems ORDER BY position").fetchall()
    ] if table_exists(con, "catalog.team_directory_problems") else []
    if table_exists(con, "quality.check_results"):
        # the checks of the runs as of a day of this week up to as-of (a report of an earlier
        # week lists that week's, not every one since); a result written before the table
        # had an as_of (2026-12-07) counts by the time it was written, as it did then
        as_of_known = "as_of" in column_names(con, "quality.check_results")
        this_week = ("CASE WHEN as_of IS NULL THEN checked_at >= $week_start "
                     "ELSE as_of BETWEEN $week_start AND $as_of END" if as_of_known
                     else "checked_at >= $week_start")
        checks = _dicts(con, f"""
            SELECT asset, "check", severity, arg_max(passed, checked_at) AS passed,
                   max(checked_at) AS checked_at,
                   count(*) FILTER (WHERE NOT passed) AS failures_this_week
            FROM quality.check_results WHERE {this_week}
            GROUP BY asset, "check", severity ORDER BY passed, severity, asset, "check"
            """, p)
    freshness = _dicts(con, """
        SELECT source, max(usage_date) AS last_day FROM marts.usage_cost_daily
        WHERE usage_date BETWEEN $window_start AND $as_of GROUP BY source ORDER BY source""", p)
    return ReportData(as_of, week_start, p["window_start"], headline, actions, progress,
                      migrated, new_callers, unassigned, burn_down, cost_by_model, health,
                      checks, freshness, week_through, catalog_max_age_days, callers,
                      newly_deprecated, options)


#: the rows of marts.deprecated_model_usage (``d``) at the cost on the cheapest replacement
#: named for each; on the recommended one where not every option of a row has a price
CHEAPEST_COST = "sum(coalesce(o.cost, d.replacement_cost_usd_28d))"
CHEAPEST_JOIN = """
    LEFT JOIN (SELECT team, endpoint, model,
                      min(replacement_cost_usd_28d) FILTER (WHERE cheapest) AS cost
               FROM marts.replacement_options GROUP BY ALL) AS o
        USING (team, endpoint, model)"""


def _replacement_options(con: duckdb.DuckDBPyConnection, order: dict[tuple, int]
                         ) -> tuple[list[dict[str, Any]], Decimal | None]:
    """The replacement options of the action rows that have more than one, in ``order``
    (the action list's); and what the traffic the headline compares (the rows priced now and
    on their recommended replacement) would cost on the cheapest option of each row (on the
    recommended one where not every option of a row has a price)."""
    rows = _dicts(con, """
        SELECT * FROM marts.replacement_options
        WHERE (team, endpoint, model) IN (SELECT (team, endpoint, model)
                                          FROM marts.replacement_options WHERE option_rank > 1)
        ORDER BY option_rank""", {})
    rows.sort(key=lambda r: order.get((r["team"], r["endpoint"], r["model"]), len(order)))
    (cheapest,) = con.execute(f"""
        SELECT {CHEAPEST_COST} FROM marts.deprecated_model_usage AS d {CHEAPEST_JOIN}
        WHERE d.cost_usd_28d IS NOT NULL AND d.replacement_cost_usd_28d IS NOT NULL
        """).fetchall()[0]
    return rows, cheapest


def newly_deprecated_rows(actions: list[dict[str, Any]], week_start: dt.date,
                          as_of: dt.date) -> list[dict[str, Any]]:
    """The action rows (in their order) whose model's retirement began to count from
    ``week_start`` to ``as_of`` (``deprecated_since`` in ``intermediate.lifecycle_as_of``: the
    announcement, or, for a shutdown date with no announcement date, ``UNANNOUNCED_LEAD_DAYS``
    before it). New work, which the action list's urgency order puts below every nearer
    shutdown."""
    return [r for r in actions
            if r["lifecycle_status"] == "deprecated" and r["deprecated_since"] is not None
            and week_start <= r["deprecated_since"] <= as_of]


# ---------------------------------------------------------------- charts (matplotlib, SVG)

def _svg(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def charts(data: ReportData) -> dict[str, str]:
    """Base64 SVGs: the 12-week burn-down per team and cost now vs on the replacement."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "path", "font.size": 9,
                         "svg.hashsalt": "sunset-radar"})  # deterministic, text as paths
    out = {}
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    teams = sorted({r["team"] for r in data.burn_down})
    for team in teams:
        pts = [(r["week_start"], r["deprecated_share"] or 0.0) for r in data.burn_down
               if r["team"] == team]
        ax.plot([p[0] for p in pts], [p[1] * 100 for p in pts], marker="o", markersize=3,
                label=team)
    ax.set_ylabel("% of requests on deprecated models")
    ax.set_ylim(0, 105)
    ax.grid(alpha=0.3)
    if teams:
        ax.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title("Deprecated-traffic share per team, last 12 weeks")
    fig.autofmt_xdate()
    out["burn_down"] = _svg(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7.5, 3.0))
    rows = data.cost_by_model[:8]
    labels = [r["model"] if r["replacement_cost"] is not None
              else f"{r['model']}\n(no priced replacement)" for r in rows]
    series = cost_chart_series(rows)
    ys = range(len(rows))
    height = 0.8 / len(series)
    for i, ((label, values), color) in enumerate(zip(
            series, ("#c0392b", "#2e86c1", "#1e8449"), strict=False)):
        offset = 0.4 - height * (i + 0.5)  # the first series on top
        ax.barh([y - offset for y in ys], values, height=height, label=label, color=color)
    ax.set_yticks(list(ys), labels)
    ax.invert_yaxis()
    ax.set_xlabel("USD, last 28 days")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))  # beside, over no bar
    ax.set_title("Cost on deprecated models vs projected replacement cost")
    out["cost"] = _svg(fig)
    plt.close(fig)
    return out


def cost_chart_series(rows: list[dict[str, Any]]) -> list[tuple[str, list[float]]]:
    """The cost chart's bars, one value per model of ``rows``: the cost now, on the
    recommended replacement, and, where for some model the cheapest replacement named costs
    less than the recommended one, on the cheapest. No bar (0) where there is no price."""
    series = [("cost now (28 days)", [float(r["cost"] or 0) for r in rows]),
              ("on the recommended replacement",
               [float(r["replacement_cost"] or 0) for r in rows])]
    if any(r.get("cheapest_cost") is not None and r["replacement_cost"] is not None
           and r["cheapest_cost"] < r["replacement_cost"] for r in rows):
        series.append(("on the cheapest replacement named",
                       [float(r["cheapest_cost"] or 0) for r in rows]))
    return series


# ---------------------------------------------------------------- markdown

def _delta(a: Decimal | None, b: Decimal | None) -> str:
    if a is None or b is None:
        return "n/a"
    d = to_cents(Decimal(b) - Decimal(a))
    if d == 0:
        return money(d)
    return f"+{money(d)} (costs more)" if d > 0 else f"-{money(-d)}"


def _days(row: dict) -> str:
    days = row["days_to_shutdown"]
    if days is None:
        return "no date"
    return f"{-days} days ago" if days < 0 else f"{days} days"


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def freshness_lines(data: ReportData) -> list[str]:
    """Warnings that the figures are not the whole picture: a catalog too old to know the
    latest retirements, exports of several organisations in one landing folder, no usage in
    the window at all, or a source whose exports stopped inside it (a drop that is missing
    data, not migration)."""
    lines = catalog_age_lines(data) + organisations_lines(data)
    if not data.freshness:
        return [*lines, f"**No usage in the window** ({data.window_start} to {data.as_of}): "
                "the zeros below mean nothing was loaded for these days, not that the "
                "migration is done. Check the landing folder and the exports."]
    stale = [f"{r['source']} on {r['last_day']} ({(data.as_of - r['last_day']).days} days "
             "before as-of)"
             for r in data.freshness if (data.as_of - r["last_day"]).days > STALE_AFTER_DAYS]
    if stale:
        lines.append(f"**Stale data**: usage stops for {'; '.join(stale)}. The figures miss the "
                     "days after, so a drop there is missing exports, not migration: check "
                     "those exports.")
    return lines


def organisations_lines(data: ReportData) -> list[str]:
    """A warning when the loaded exports name more than one OpenAI organisation."""
    orgs = data.health.get("organisations") or []
    if len(orgs) < 2:
        return []
    return [f"**Several organisations in one landing folder**: the exports name "
            f"{len(orgs)} OpenAI organisations ({', '.join(orgs)}). Usage or bills of one day "
            "that two of them saved without grouping by project look like the same usage "
            "saved twice, and count once: give each organisation its own landing folder "
            "and working file (README, troubleshooting; check "
            "`one_organisation_per_landing_folder` lists their files)."]


def catalog_too_old(known: dt.date | None, as_of: dt.date, max_age_days: int) -> bool:
    """Whether the catalog's knowledge of retirements (``known``: the newest day it speaks
    for) is more than ``max_age_days`` (RADAR_CATALOG_MAX_AGE_DAYS) before as-of."""
    return known is None or (as_of - known).days > max_age_days


def catalog_age_lines(data: ReportData) -> list[str]:
    """A warning when the catalog's knowledge of retirements is older than
    RADAR_CATALOG_MAX_AGE_DAYS: a retirement announced since may be missing, its model active."""
    known = data.health.get("catalog_known_through")
    if not catalog_too_old(known, data.as_of, data.catalog_max_age_days):
        return []
    since = (f"retirements announced up to {known}, {(data.as_of - known).days} days before "
             f"as-of (more than {data.catalog_max_age_days})") if known else "no retirement date"
    return [f"**Catalog out of date**: the catalog knows of {since}. A retirement announced "
            "since may be missing (the LiteLLM catalog it also reads carries some later "
            "shutdown dates, with no announcement date, but not all), and its model would count "
            "as active here: refresh the catalog (a newer Sunset Radar, or `make catalog`) or "
            "add the retirement to `RADAR_LIFECYCLE_OVERRIDES`."]


def _names_health(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """How many OpenAI callers of deprecated models have a key name, and when the newest key
    list was loaded (None: never)."""
    callers, named = con.execute(
        "SELECT count(*), count(key_alias) FROM marts.deprecated_model_callers "
        "WHERE source IN ('openai_usage_api', 'openai_dashboard')").fetchall()[0]
    loaded = con.execute(
        "SELECT max(f.ingested_at)::DATE FROM staging.openai_api_keys k "
        "JOIN staging.ingested_files f USING (file_id)").fetchall()[0][0] \
        if table_exists(con, "staging.openai_api_keys") else None
    return {"openai_callers": callers, "named_openai_callers": named, "key_list_loaded": loaded}


def names_line(h: dict) -> str:
    """Data health: whether the OpenAI callers are named (empty when there are none)."""
    if not h.get("openai_callers"):
        return ""
    named = (f"OpenAI callers of deprecated models with a key name: "
             f"{h['named_openai_callers']:,} of {h['openai_callers']:,}")
    if h["key_list_loaded"] is None:
        return (f"{named}; no project key list is loaded, so keys go by their ids (the API "
                "sync pulls the lists; see the README's troubleshooting).")
    return (f"{named}; the newest project key list was loaded on {h['key_list_loaded']} "
            "(the API sync pulls them).")


def catalog_line(h: dict, as_of: dt.date) -> str:
    """Data health: how recent the catalog's knowledge of retirements is."""
    known = h.get("catalog_known_through")
    if known is None:
        return "Catalog: no retirement date known (catalog.model_lifecycle is empty)."
    days = (as_of - known).days
    if days < 0:  # a report for an earlier day: what was announced after it does not count
        return (f"Catalog: knows of retirements announced up to {known} ({-days} days after "
                "as-of: those announced after as-of do not count yet; see catalog.sources).")
    return (f"Catalog: knows of retirements announced up to {known} "
            f"({days} days before as-of; see catalog.sources).")


def callers_text(h: dict) -> str:
    """Who calls deprecated models: the teams, and unassigned callers apart (no team)."""
    if not h["teams"] and h["unassigned"]:
        return "**Unassigned callers** (no team)"
    teams = f"**{_n(h['teams'], 'team')}**"
    return f"{teams} and unassigned callers" if h["unassigned"] else teams


def headline_lines(data: ReportData) -> list[str]:
    h = data.headline
    share_req = (h["requests"] / h["all_requests"]) if h["all_requests"] else None
    share_cost = (float(h["cost"]) / float(h["all_cost"])) if h["all_cost"] else None
    lines = [
        f"{callers_text(h)} on **{_n(h['endpoints'], 'endpoint')}** still call deprecated or "
        f"shut-down models: **{h['requests']:,} requests** in the 28 days to {data.as_of} "
        f"({pct(share_req)} of all traffic), costing **{money(h['cost'])}** "
        f"({pct(share_cost)} of priced cost).",
    ]
    if h["failed_requests"]:
        lines.append(f"**{h['failed_requests']:,} calls failed** against models that are "
                     "already shut down.")
    if h["nearest_model"]:
        lines.append(f"Nearest shutdown: **{h['nearest_model']}** on {h['nearest_shutdown']} "
                     f"(**{h['nearest_days']} days left**).")
    if data.newly_deprecated:
        lines.append(newly_deprecated_line(data.newly_deprecated))
    if h["requests"]:
        lines.append(replacement_line(h))
    return freshness_lines(data) + lines


def _began(r: dict) -> str:
    """When a row's retirement began to count, and its shutdown date."""
    shutdown = f"shutdown {r['shutdown_date']}" if r["shutdown_date"] else "no shutdown date yet"
    if r["announced_date"] is not None:
        return f"announced {r['announced_date']}; {shutdown}"
    return (f"{shutdown}, a LiteLLM date with no announcement: counted from "
            f"{r['deprecated_since']}, {UNANNOUNCED_LEAD_DAYS} days before")


def newly_deprecated_line(rows: list[dict]) -> str:
    """The headline's line on the retirements that began to count this week."""
    models: dict[str, dict] = {}
    for r in rows:
        models.setdefault(r["model"], r)
    named = "; ".join(f"**{m}** ({_began(r)})" for m, r in models.items())
    requests = sum(r["requests_28d"] for r in rows)
    return (f"Newly deprecated this week: {named}. {_n(len(rows), 'row')} of the action list, "
            f"{_n(requests, 'request')} in 28 days (see \"Newly deprecated this week\" under "
            "Progress).")


def newly_deprecated_rows_text(data: ReportData) -> list[list[str]]:
    return [[r["team"], r["endpoint"], r["model"],
             str(r["announced_date"] or f"{r['deprecated_since']} (LiteLLM shutdown date "
                                          f"- {UNANNOUNCED_LEAD_DAYS} days)"),
             fmt(r["shutdown_date"]) if r["shutdown_date"] else "no date", _days(r),
             fmt(r["requests_28d"]), _replacement(r)] for r in data.newly_deprecated]


NEWLY_DEPRECATED_COLUMNS = ["team", "endpoint", "model", "deprecated since", "shutdown",
                            "days left", "requests (28d)", "replacement"]


def newly_deprecated_intro(data: ReportData) -> str:
    return (f"retirements that began to count from {data.week_start} to {data.as_of}: "
            f"announced then, or, for a shutdown date with no announcement date, "
            f"{UNANNOUNCED_LEAD_DAYS} days before it. New work, below the nearer shutdowns in "
            "the action list")


def replacement_line(h: dict) -> str:
    """What the deprecated traffic would cost on the recommended replacements, compared only
    where both prices are known: traffic with no replacement (or an unpriced one) is named
    apart, never counted as costing $0 after the move."""
    models = (h["uncompared_models"] or "").split(", ")
    named = ", ".join(models[:5]) + (f" and {len(models) - 5} more" if len(models) > 5 else "")
    n = h["uncompared_requests"]
    uncompared = (f"{_n(n, 'request')} ({named}) {'has' if n == 1 else 'have'} no priced "
                  "replacement to compare"
                  + (f": {money(h['uncompared_cost'])} now." if h["uncompared_cost"] else "."))
    if h.get("compared_cost") is None:
        return f"None of it can be priced on a replacement: {uncompared}"
    than = _than_now(h["compared_replacement_cost"], h["compared_cost"])
    if not h["uncompared_requests"]:
        return (f"The same traffic on the recommended replacements would cost "
                f"{money(h['compared_replacement_cost'])}: {than}.{cheapest_line(h)}")
    return (f"The part with a priced replacement ({money(h['compared_cost'])} now) would cost "
            f"{money(h['compared_replacement_cost'])} on it: {than}.{cheapest_line(h)} "
            f"The other {uncompared}")


def cheapest_line(h: dict) -> str:
    """Where the provider names more than one replacement and another costs less than the
    recommended one: what the same compared traffic would cost on the cheapest of each
    (empty otherwise)."""
    cheapest = h.get("compared_cheapest_cost")
    if cheapest is None or to_cents(Decimal(cheapest)) == to_cents(
            Decimal(h["compared_replacement_cost"])):
        return ""
    return (f" On the cheapest replacement the provider names for each (see \"Replacement "
            f"options\") it would cost {money(cheapest)}: "
            f"{_than_now(cheapest, h['compared_cost'])}.")


def _than_now(cost: Decimal, now: Decimal) -> str:
    """``$4.86 less than now``, ``$1.00 more than now`` or ``the same as now``, in cents."""
    d = to_cents(Decimal(cost) - Decimal(now))
    return ("the same as now" if d == 0 else
            f"{money(abs(d))} {'more' if d > 0 else 'less'} than now")


ACTION_COLUMNS = ["team", "endpoint", "model", "status", "days left", "requests", "failed",
                  "cost (28d)", "replacement", "on replacement", "difference", "last seen",
                  "owner"]


def status_label(r: dict[str, Any]) -> str:
    """An action row's status: failing calls to a shut-down model say so; a shut-down model
    whose usage stopped before its shutdown says that, since a source that reports billed
    usage only (the Usage API, the dashboard) shows no failed call: migrated, or failing
    unseen."""
    status = r["lifecycle_status"]
    if r["failing"]:
        return f"FAILING: {status}"
    if (status == "shutdown" and r.get("shutdown_date") is not None
            and r["last_seen"] < r["shutdown_date"]):
        return NO_USAGE_SINCE
    return status


def action_rows(data: ReportData) -> list[list[str]]:
    return [[r["team"], r["endpoint"], r["model"], status_label(r), _days(r),
             fmt(r["requests_28d"]), fmt(r["failed_requests_28d"]), money(r["cost_usd_28d"]),
             _replacement(r), money(r["replacement_cost_usd_28d"]),
             _delta(r["cost_usd_28d"], r["replacement_cost_usd_28d"]), fmt(r["last_seen"]),
             r["owner"] or ""] for r in data.actions]


def replacement_alternatives(r: dict) -> list[str]:
    """The other models the provider names beside the recommended replacement (whisper-1:
    "gpt-live-transcribe or gpt-transcribe"); the cost on replacement is the first one's.
    From the row's replacement options (each followed along its chain, as the recommended
    one is); on a warehouse from before them, from the provider's words, where the
    recommended replacement is the one they name first."""
    if "alternatives" in r:
        return r["alternatives"]
    return [m for m in named_models(r.get("replacement_note"))
            if m != r["replacement_model"]]


def _replacement(r: dict) -> str:
    if not r["replacement_model"]:
        return "none given"
    if r.get("replacement_status") in ("deprecated", "shutdown"):
        return (f"{r['replacement_model']} (itself {r['replacement_status']}; no active "
                "successor named)")
    others = replacement_alternatives(r)
    return r["replacement_model"] + (f" (or {', '.join(others)})" if others else "")


NO_USAGE_SINCE = "shutdown; no usage seen since"


def alternatives_note(data: ReportData) -> str:
    """What "(or ...)" beside a replacement means, where a row says it (empty otherwise)."""
    if not any(replacement_alternatives(r) for r in data.actions if r["replacement_model"]):
        return ""
    return (" Where the provider names more than one replacement (\"or ...\"), the cost on "
            "the replacement is the first one's"
            + ("; each one's is under \"Replacement options\"." if data.options else "."))


OPTIONS_INTRO = ("**Replacement options** (where the provider names more than one "
                 "replacement: the same usage on each, at its price on {as_of}; every option "
                 "of every row is in `marts.replacement_options`):")
OPTIONS_COLUMNS = ["team", "endpoint", "model", "replacement", "status", "cost (28d)",
                   "on it", "difference"]


def _option_label(r: dict[str, Any]) -> str:
    tags = [t for t, on in (("recommended", r["option_rank"] == 1),
                            ("cheapest", bool(r["cheapest"]))) if on]
    if r["named_replacement"] != r["replacement_model"]:
        tags.append(f"for {r['named_replacement']}, itself retiring")
    return r["replacement_model"] + (f" ({', '.join(tags)})" if tags else "")


def option_rows(data: ReportData) -> list[list[str]]:
    return [[r["team"], r["endpoint"], r["model"], _option_label(r), r["replacement_status"],
             money(r["cost_usd_28d"]), money(r["replacement_cost_usd_28d"]),
             _delta(r["cost_usd_28d"], r["replacement_cost_usd_28d"])] for r in data.options]


def no_usage_since_note(data: ReportData) -> str:
    """What "no usage seen since" means, where a row says it (empty otherwise)."""
    if not any(status_label(r) == NO_USAGE_SINCE for r in data.actions):
        return ""
    return (" \"No usage seen since\": the Usage API and the dashboard report billed usage "
            "only, so calls that fail after a shutdown do not show; ask the owner whether the "
            "team migrated.")

CALLERS_PER_ROW = 3
CALLERS_INTRO = ("**Who sends the calls** (the busiest callers behind each team's rows: the "
                 "key, project, user or gateway route to change; every caller is in "
                 "`marts.deprecated_model_callers`):")
CALLERS_COLUMNS = ["team", "endpoint", "model", "caller", "source", "project", "API key",
                   "key name (owner)", "user", "route", "requests (28d)", "failed", "last seen"]


def named(r: dict[str, Any], what: str) -> str | None:
    """A project or user (``what``) by its name where a list gives it, with its id (what the
    team directory maps)."""
    name, ident = r.get(f"{what}_name"), r.get(f"{what}_id")
    return f"{name} ({ident})" if name and ident else ident


def key_name(r: dict[str, Any]) -> str | None:
    """A key as people know it: its name, and who owns it where the key list says."""
    alias, owner = r.get("key_alias"), r.get("key_owner")
    if alias and owner:
        return f"{alias} ({owner})"
    return alias or (f"({owner})" if owner else None)


def caller_rows(data: ReportData) -> list[list[Any]]:
    return [[r["team"], r["endpoint"], r["model"], f"{r['rank']} of {r['callers']}",
             r["source"], named(r, "project"), r["api_key_id"], key_name(r),
             named(r, "user"), r["route"], r["requests_28d"], r["failed_requests_28d"],
             r["last_seen"]]
            for r in data.callers]


UNASSIGNED_INTRO = ("**Unassigned callers** (deprecated-model traffic in the window that no "
                    "team claims: add its API key, user or project to `RADAR_TEAMS_FILE`, a "
                    "line `api_key_id,<API key>,<team>`, or `user_id,...` or `project_id,...`; "
                    "the owner of a key is usually the person to ask):")
#: the check that lists the team directory's lines that map no key
DIRECTORY_CHECK = "team_directory_reads_cleanly"


def directory_line(h: dict) -> str:
    """Under the unassigned callers: the team directory's lines that map no key, whose usage
    may be among them (empty when its latest read mapped every line)."""
    problems = h.get("team_directory_problems") or []
    if not problems:
        return ""
    shown = "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else "")
    return (f"The team directory has {_n(len(problems), 'line')} mapping no key, so the "
            f"usage they would claim may be among these: {shown} (check {DIRECTORY_CHECK}).")


UNASSIGNED_COLUMNS = ["source", "project", "API key", "key name (owner)", "user", "model",
                      "requests (28d)", "last seen"]


def unassigned_rows(data: ReportData) -> list[list[Any]]:
    return [[r["source"], named(r, "project"), r["api_key_id"], key_name(r), named(r, "user"),
             r["model"], r["requests"], r["last_seen"]] for r in data.unassigned]


def progress_captions(data: ReportData) -> tuple[str, str, str | None]:
    """What the progress section compares: (the shares, the migrated pairs' rule, a note).
    The week is compared as far as its usage is loaded; with none loaded yet the note says
    so, and no pair is called migrated."""
    shares = "Deprecated share of each team's requests, last week vs this week"
    rule = "on a deprecated model last week, not this week"
    if data.week_through is None:
        newest = max((r["last_day"] for r in data.freshness), default=None)
        last_week = data.week_start - dt.timedelta(days=1)
        return (f"{shares}.", rule,
                f"**No usage is loaded for this week yet** (the newest usage day is "
                f"{newest or 'none in the window'}): who migrated and who is new shows from "
                f"the week's first exports. Last week's complete report is the one as of "
                f"{last_week} (`RADAR_AS_OF={last_week}`; the weekly schedule's Monday run "
                f"writes it).")
    if data.week_through >= data.week_start + dt.timedelta(days=6):
        return f"{shares}.", rule, None
    through = f"{data.week_start} to {data.week_through}"
    return (f"{shares} so far ({through}, the days loaded).",
            f"{rule} so far, {through}; a pair called less often than weekly may still come",
            None)


def progress_rows(data: ReportData) -> list[list[str]]:
    def change(c):
        return "n/a" if c is None else f"{c * 100:+.1f} pts"
    return [[r["team"], pct(r["share_last_week"]), pct(r["share_this_week"]), change(r["change"]),
             fmt(r["deprecated_requests_this_week"] or 0)] for r in data.progress]


#: the models whose usage in the window is priced by a row of RADAR_CATALOG_OVERRIDES (its
#: default-tier token price, or its price in the row's unit, on the usage date), each with
#: that usage before batch discounts at the prices it is costed at (``{contracted}``, a
#: column name from the code) and at the catalog's list prices
OVERRIDDEN_MODELS_SQL = """
    SELECT u.price_model, sum(u.{contracted}), sum(u.list_cost_usd)
    FROM intermediate.usage_priced AS u
    WHERE u.usage_date BETWEEN $window_start AND $as_of AND u.priced AND (
        EXISTS (SELECT 1 FROM catalog.model_prices AS o
                WHERE o.model = u.price_model AND o.service_tier IS NULL
                  AND u.price_tier IS NULL AND u.unit IS NULL
                  AND starts_with(o.source, 'override') AND u.usage_date >= o.valid_from
                  AND (o.valid_to IS NULL OR u.usage_date < o.valid_to))
        OR EXISTS (SELECT 1 FROM catalog.model_unit_prices AS o
                   WHERE o.model = u.price_model AND o.unit = u.unit
                     AND starts_with(o.source, 'override') AND u.usage_date >= o.valid_from
                     AND (o.valid_to IS NULL OR u.usage_date < o.valid_to)))
    GROUP BY 1 ORDER BY 1"""


def overrides_line(h: dict) -> str:
    """The models whose costs in the window come from RADAR_CATALOG_OVERRIDES (negotiated or
    added prices), so a reader knows which figures are not list prices; empty when none."""
    models = h.get("overridden_models") or []
    if not models:
        return ""
    contracted, listed = h.get("overridden_contracted_usd"), h.get("overridden_list_usd")
    versus = (f" Before batch discounts their usage there costs {money(contracted)} at these "
              f"prices, {money(listed)} at the catalog's list prices (marts.focus_costs: "
              "ContractedCost, ListCost)." if listed != contracted else "")
    return (f"Prices from RADAR_CATALOG_OVERRIDES (negotiated or added, not the catalog's list "
            f"prices) for {_n(len(models), 'model')} in the window: {', '.join(models)}."
            f"{versus} catalog.model_prices and catalog.model_unit_prices say `override <file> "
            "line N` in `source`; replacement costs are at the replacement's own price.")


def unpriced_line(h: dict) -> str:
    text = (f"Unpriced usage: {_n(h['unpriced_pairs'], 'model/endpoint pair')}, "
            f"{_n(h['unpriced_requests'], 'request')} ({h['unpriced_models'] or 'none'}).")
    if h.get("modelless_requests"):
        text += (f" {h['modelless_requests']:,} of them have tokens but no model: their export "
                 "or API pages were not grouped by model, so neither a price nor a retirement "
                 "date applies (export grouped by model).")
    return text


def regrouped_line(h: dict) -> str:
    """What the window's exports report twice at different groupings, counted once; empty
    when nothing is."""
    if not h.get("regrouped_requests"):
        return ""
    return (f"Counted once: {_n(h['regrouped_requests'], 'request')} in the window are also "
            "in another export at a finer grouping (an ungrouped save beside pages grouped by "
            "model, say); the finer rows count. intermediate.usage_set_aside (also in the BI "
            "copy) lists them.")


def long_prompts_line(h: dict) -> str:
    """The window's gateway requests whose prompts passed a long-context threshold, and how
    many of them are priced at long-context rates; empty when there are none."""
    if not h.get("long_prompt_requests"):
        return ""
    return (f"Long prompts: {_n(h['long_prompt_requests'], 'gateway request')} in the window "
            "passed a long-context threshold (32k to 512k prompt tokens); "
            f"{h['long_rate_requests']:,} of them cost their model's long-context rates (the "
            "rest are on models that bill every prompt alike), and the replacement cost of "
            f"{h['long_rate_replacement_requests']:,} on deprecated models is at the "
            "replacement's long-context rates. The Usage API and dashboard exports report "
            "buckets, not requests: their long prompts are priced at the base rates.")


def rejected_line(h: dict) -> str:
    """The files and rows quarantined, this week and all time; gateway calls that are not
    model usage (kept in staging.rejected_rows too) are counted apart."""
    again = (f" ({h['retried_files_week']} of them rejected before by an older version, "
             "read again after an upgrade of the readers)" if h.get("retried_files_week")
             else "")
    text = (f"Rejected this week: {h['rejected_files_week']} files{again}, "
            f"{h['rejected_rows_week']:,} rows (all time: {h['rejected_files_total']} files, "
            f"{h['rejected_rows_total']:,} rows; see staging.rejected_rows).")
    if h.get("not_usage_rows_week"):
        text += (f" Set aside as well: {_n(h['not_usage_rows_week'], 'row')} this week that "
                 "are not model usage (gateway calls to rerank, search or manage files or "
                 "batches, a CSV's repeated header line, ...).")
    return text


def _newest(data: ReportData) -> str:
    return ", ".join(f"{r['source']} {r['last_day']}" for r in data.freshness) or \
        "none in the window"


def render_markdown(data: ReportData) -> str:
    h = data.health
    shares, rule, note = progress_captions(data)
    out = [f"# Migration status {data.label}",
           f"As of {data.as_of} · week {data.week_start} to {data.as_of} · "
           f"window {data.window_start} to {data.as_of}", "",
           "## 1. Headline", *[f"- {line}" for line in headline_lines(data)], "",
           "## 2. Action list",
           "Sorted by urgency: calls failing against shut-down models first, then days to "
           "shutdown, then traffic." + no_usage_since_note(data) + alternatives_note(data), "",
           table(ACTION_COLUMNS, action_rows(data), limit=100), "",
           *([OPTIONS_INTRO.format(as_of=data.as_of), "",
              table(OPTIONS_COLUMNS, option_rows(data), limit=100), ""] if data.options else []),
           CALLERS_INTRO, "",
           table(CALLERS_COLUMNS, caller_rows(data), limit=100), "",
           UNASSIGNED_INTRO, "",
           *([directory_line(h), ""] if directory_line(h) else []),
           table(UNASSIGNED_COLUMNS, unassigned_rows(data), limit=20), "",
           "## 3. Progress",
           *([note, ""] if note else []),
           shares, "",
           table(["team", "last week", "this week", "change", "deprecated requests"],
                 progress_rows(data), limit=100), "",
           f"**Migrated this week** ({rule}):", "",
           table(["team", "endpoint", "model", "requests last week"],
                 [[r["team"], r["endpoint"], r["model"], r["requests_last_week"]]
                  for r in data.migrated], limit=50), "",
           "**New callers this week** (a regression: first calls to a deprecated model):", "",
           table(["team", "endpoint", "model", "requests", "first seen"],
                 [[r["team"], r["endpoint"], r["model"], r["requests_this_week"],
                   r["first_day"]] for r in data.new_callers], limit=50), "",
           f"**Newly deprecated this week** ({newly_deprecated_intro(data)}):", "",
           table(NEWLY_DEPRECATED_COLUMNS, newly_deprecated_rows_text(data), limit=50), "",
           "## 4. Charts", "See the HTML report for the burn-down and cost charts.", "",
           "## 5. Data health",
           f"- {unpriced_line(h)}",
           *([f"- {overrides_line(h)}"] if overrides_line(h) else []),
           *([f"- {regrouped_line(h)}"] if regrouped_line(h) else []),
           *([f"- {long_prompts_line(h)}"] if long_prompts_line(h) else []),
           f"- {rejected_line(h)}",
           f"- {catalog_line(h, data.as_of)}",
           *([f"- {names_line(h)}"] if names_line(h) else []),
           f"- Newest usage day per source: {_newest(data)}.",
           f"- Quality checks this week: {sum(1 for c in data.checks if c['passed'])} passing, "
           f"{sum(1 for c in data.checks if not c['passed'])} failing at their last run.", ""]
    if data.checks:
        out.append(table(["asset", "check", "severity", "last result", "failures this week"],
                         [[c["asset"], c["check"], c["severity"],
                           "pass" if c["passed"] else "FAIL", c["failures_this_week"]]
                          for c in data.checks], limit=50))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- HTML

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;
max-width:1100px;color:#1c2833;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;border-bottom:2px solid #eaecee;
padding-bottom:.2rem;margin-top:2rem}.sub{color:#5d6d7e;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}.card{flex:1 1 180px;
border:1px solid #d5d8dc;border-radius:6px;padding:.6rem .8rem}.card b{display:block;
font-size:1.4rem}.card span{color:#5d6d7e;font-size:.85rem}
table{border-collapse:collapse;width:100%;font-size:.82rem;margin:.5rem 0}
th,td{border-bottom:1px solid #eaecee;padding:.3rem .4rem;text-align:left;vertical-align:top}
th{background:#f4f6f7}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failing td{background:#fdedec}.tag{font-weight:600;color:#c0392b}
.more{color:#c0392b}.less{color:#1e8449}img.chart{max-width:100%;height:auto;display:block;
margin:.5rem 0}.empty{color:#7f8c8d;font-style:italic}
.note{border-left:4px solid #f39c12;background:#fef5e7;padding:.4rem .6rem}
@media print{body{margin:0;max-width:none;font-size:10pt}h2{break-after:avoid}
table,img.chart{break-inside:avoid}}
"""


def _e(value: Any) -> str:
    return html.escape(value if isinstance(value, str) else fmt(value), quote=True)


def _html_table(columns: list[str], rows: list[list[str]], numeric: AbstractSet[int] = frozenset(),
                row_classes: list[str] | None = None, table_id: str = "") -> str:
    if not rows:
        return '<p class="empty">None.</p>'
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        cells = "".join(f'<td class="num">{_e(v)}</td>' if j in numeric else f"<td>{_e(v)}</td>"
                        for j, v in enumerate(row))
        body.append(f"<tr{cls}>{cells}</tr>")
    ident = f' id="{table_id}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _md_bold_to_html(line: str) -> str:
    """A line of the markdown report in HTML: escaped, its **bold** and `code` kept."""
    parts = _e(line).split("**")
    line = "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))
    parts = line.split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def options_html(data: ReportData) -> str:
    """The replacement options section of the HTML report (nothing without options)."""
    if not data.options:
        return ""
    return (f"<h3>Replacement options</h3>\n<p>Where the provider names more than one "
            f"replacement: the same usage on each, at its price on {_e(data.as_of)}. Every "
            f"option of every row is in <code>marts.replacement_options</code>.</p>\n"
            + _html_table(OPTIONS_COLUMNS, option_rows(data), {5, 6, 7}, table_id="options"))


def render_html(data: ReportData, chart_svgs: dict[str, str]) -> str:
    h = data.health
    total_req = data.headline["requests"]
    cards = [
        (str(data.headline["teams"]), "teams on deprecated models"
         + (", and unassigned callers" if data.headline["unassigned"] else "")),
        (f"{total_req:,}", "requests in 28 days"),
        (money(data.headline["cost"]), "cost in 28 days"),
        (f"{data.headline['nearest_days']} days" if data.headline["nearest_days"] is not None
         else "n/a", f"to the next shutdown ({data.headline['nearest_model'] or 'none'})"),
    ]
    action_classes = ["failing" if r["failing"] else "" for r in data.actions]
    quiet = no_usage_since_note(data) + alternatives_note(data)
    checks_rows = [[c["asset"], c["check"], c["severity"], "pass" if c["passed"] else "FAIL",
                    c["failures_this_week"]] for c in data.checks]
    img = ('<img class="chart" alt="{alt}" src="data:image/svg+xml;base64,{b64}">')
    shares, rule, note = progress_captions(data)
    newly_intro = newly_deprecated_intro(data)
    body = f"""
<h1>Migration status {_e(data.label)}</h1>
<p class="sub">As of {_e(data.as_of)} · ISO week {_e(data.week_start)} to {_e(data.as_of)} ·
28-day window {_e(data.window_start)} to {_e(data.as_of)}</p>
<h2>1. Headline</h2>
<div class="cards">{''.join(f'<div class="card"><b>{_e(v)}</b><span>{_e(t)}</span></div>'
                            for v, t in cards)}</div>
<ul>{''.join(f'<li>{_md_bold_to_html(line)}</li>' for line in headline_lines(data))}</ul>
<h2>2. Action list</h2>
<p>Sorted by urgency: calls failing against shut-down models first, then days to shutdown,
then traffic. A positive difference means the migration costs more.{_e(quiet)}</p>
{_html_table(ACTION_COLUMNS, action_rows(data), {5, 6, 7, 9, 10}, action_classes, "actions")}
{options_html(data)}
<h3>Who sends the calls</h3>
<p>The busiest callers behind each team's rows, in the action list's order: the key,
project, user or gateway route to change. Every caller is in
<code>marts.deprecated_model_callers</code>.</p>
{_html_table(CALLERS_COLUMNS, [[fmt(v) for v in row] for row in caller_rows(data)],
             {10, 11}, table_id="callers")}
<h3>Unassigned callers</h3>
<p>Deprecated-model traffic in the window that no team claims: add its API key, user or
project to the team directory (<code>RADAR_TEAMS_FILE</code>), a line
<code>api_key_id,&lt;API key&gt;,&lt;team&gt;</code>, or <code>user_id,...</code> or
<code>project_id,...</code>; the owner of a key is usually the person to ask.</p>
{f'<p class="note">{_e(directory_line(data.health))}</p>' if directory_line(data.health) else ""}
{_html_table(UNASSIGNED_COLUMNS, [[fmt(v) for v in row] for row in unassigned_rows(data)],
             {6}, table_id="unassigned")}
<h2>3. Progress</h2>
{f'<p class="note">{_md_bold_to_html(note)}</p>' if note else ""}
<p>{_e(shares)}</p>
{_html_table(["team", "last week", "this week", "change", "deprecated requests"],
             progress_rows(data), {1, 2, 3, 4}, table_id="progress")}
<h3>Migrated this week</h3>
<p>{_e(rule[0].upper() + rule[1:])}.</p>
{_html_table(["team", "endpoint", "model", "requests last week"],
             [[r["team"], r["endpoint"], r["model"], r["requests_last_week"]]
              for r in data.migrated], {3}, table_id="migrated")}
<h3>New callers this week (regressions)</h3>
{_html_table(["team", "endpoint", "model", "requests", "first seen"],
             [[r["team"], r["endpoint"], r["model"], r["requests_this_week"], r["first_day"]]
              for r in data.new_callers], {3}, table_id="new-callers")}
<h3>Newly deprecated this week</h3>
<p>{_e(newly_intro[0].upper() + newly_intro[1:])}.</p>
{_html_table(NEWLY_DEPRECATED_COLUMNS, newly_deprecated_rows_text(data), {5, 6},
             table_id="newly-deprecated")}
<h2>4. Charts</h2>
{img.format(alt="Deprecated-traffic share per team over the last 12 weeks",
            b64=chart_svgs["burn_down"])}
{img.format(alt="Cost on deprecated models vs projected replacement cost",
            b64=chart_svgs["cost"])}
<h2>5. Data health</h2>
<ul><li>{_e(unpriced_line(h))}</li>
{f"<li>{_e(overrides_line(h))}</li>" if overrides_line(h) else ""}
{f"<li>{_e(regrouped_line(h))}</li>" if regrouped_line(h) else ""}
{f"<li>{_e(long_prompts_line(h))}</li>" if long_prompts_line(h) else ""}
<li>{_e(rejected_line(h))}</li>
<li>{_e(catalog_line(h, data.as_of))}</li>
{f"<li>{_e(names_line(h))}</li>" if names_line(h) else ""}
<li>Newest usage day per source: {_e(_newest(data))}.</li>
</ul>
{_html_table(["asset", "check", "severity", "last result", "failures this week"],
             checks_rows, {4}, ["failing" if r[3] == "FAIL" else "" for r in checks_rows],
             "checks")}
<p class="sub">Generated by Sunset Radar. Open the BI copy for the full tables.</p>"""
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>Migration status {_e(data.label)}</title>"
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>{CSS}</style></head><body>{body}</body></html>\n")


def write_report(con: duckdb.DuckDBPyConnection, as_of: dt.date, out_dir: Path,
                 catalog_max_age_days: int = CATALOG_MAX_AGE_DAYS) -> tuple[Path, Path, str]:
    """Collect, render and write ``migration-status-YYYY-Www.{md,html}`` atomically."""
    data = collect(con, as_of, catalog_max_age_days)
    markdown = render_markdown(data)
    page = render_html(data, charts(data))
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, text in ((".md", markdown), (".html", page)):
        path = out_dir / f"migration-status-{data.label}{suffix}"
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        paths.append(path)
    return paths[0], paths[1], markdown
