"""Intermediate and mart layers: SQL models in `sql/`, executed against the warehouse."""


from typing import Any

import duckdb

from pipelines.ingest.assets import BILLED_COSTS, USAGE
from pipelines.marts.factory import preview, sql_table_asset
from pipelines.settings import RadarSettings

PRICES = ["catalog", "model_prices"]
LIFECYCLE = ["catalog", "model_lifecycle"]
TEAMS = ["catalog", "team_directory"]


def _usage_daily_meta(con: duckdb.DuckDBPyConnection, s: RadarSettings) -> dict[str, Any]:
    lo, hi, req = con.execute(
        "SELECT min(usage_date), max(usage_date), sum(requests) FROM intermediate.usage_daily"
    ).fetchall()[0]
    return {"first_usage_date": str(lo or ""), "last_usage_date": str(hi or ""),
            "requests": int(req or 0)}


def _cost_daily_meta(con: duckdb.DuckDBPyConnection, s: RadarSettings) -> dict[str, Any]:
    cost, req, unpriced = con.execute(
        "SELECT coalesce(sum(cost_usd), 0), coalesce(sum(requests), 0), "
        "coalesce(sum(requests) FILTER (WHERE NOT priced), 0) FROM marts.usage_cost_daily"
    ).fetchall()[0]
    return {"total_cost_usd": float(cost), "total_requests": int(req),
            "unpriced_requests": int(unpriced)}


def _deprecated_meta(con: duckdb.DuckDBPyConnection, s: RadarSettings) -> dict[str, Any]:
    teams, req, cost = con.execute(
        "SELECT count(DISTINCT team), coalesce(sum(requests_28d), 0), "
        "coalesce(sum(cost_usd_28d), 0) FROM marts.deprecated_model_usage").fetchall()[0]
    return {
        "teams_on_deprecated_models": int(teams),
        "requests_28d": int(req),
        "cost_usd_28d": float(cost),
        "preview": preview(con, (
            "SELECT team, endpoint, model, lifecycle_status, days_to_shutdown, "
            "replacement_model, requests_28d, failed_requests_28d, cost_usd_28d, "
            "replacement_cost_usd_28d FROM marts.deprecated_model_usage")),
    }


def _weekly_meta(con: duckdb.DuckDBPyConnection, s: RadarSettings) -> dict[str, Any]:
    return {"preview": preview(con, (
        "SELECT * FROM marts.migration_status_weekly "
        "WHERE week_start >= date_trunc('week', $as_of::DATE) - INTERVAL 7 DAY "
        "ORDER BY week_start DESC, deprecated_requests DESC"), {"as_of": s.as_of})}


def _unpriced_meta(con: duckdb.DuckDBPyConnection, s: RadarSettings) -> dict[str, Any]:
    return {"preview": preview(con, "SELECT * FROM marts.unpriced_usage")}


def _reconciliation_meta(con: duckdb.DuckDBPyConnection, s: RadarSettings) -> dict[str, Any]:
    (bad,) = con.execute(
        "SELECT count(*) FROM marts.cost_reconciliation WHERE NOT within_tolerance").fetchall()[0]
    return {"days_outside_tolerance": int(bad)}


model_resolution = sql_table_asset(
    "intermediate", "model_resolution", "intermediate/int_model_resolution",
    deps=[USAGE, PRICES, LIFECYCLE], group="intermediate")
lifecycle_as_of = sql_table_asset(
    "intermediate", "lifecycle_as_of", "intermediate/int_lifecycle_as_of",
    deps=[LIFECYCLE, ["intermediate", "model_resolution"]], group="intermediate")
usage_daily = sql_table_asset(
    "intermediate", "usage_daily", "intermediate/int_usage_daily",
    deps=[USAGE], group="intermediate", extra_metadata=_usage_daily_meta)
usage_priced = sql_table_asset(
    "intermediate", "usage_priced", "intermediate/int_usage_priced",
    deps=[["intermediate", "usage_daily"], ["intermediate", "model_resolution"],
          ["intermediate", "lifecycle_as_of"], PRICES, TEAMS], group="intermediate")

usage_cost_daily = sql_table_asset(
    "marts", "usage_cost_daily", "marts/usage_cost_daily",
    deps=[["intermediate", "usage_priced"]], group="marts", extra_metadata=_cost_daily_meta)
deprecated_model_usage = sql_table_asset(
    "marts", "deprecated_model_usage", "marts/deprecated_model_usage",
    deps=[["marts", "usage_cost_daily"]], group="marts", extra_metadata=_deprecated_meta)
migration_status_weekly = sql_table_asset(
    "marts", "migration_status_weekly", "marts/migration_status_weekly",
    deps=[["marts", "usage_cost_daily"]], group="marts", extra_metadata=_weekly_meta)
unpriced_usage = sql_table_asset(
    "marts", "unpriced_usage", "marts/unpriced_usage",
    deps=[["marts", "usage_cost_daily"]], group="marts", extra_metadata=_unpriced_meta)
cost_reconciliation = sql_table_asset(
    "marts", "cost_reconciliation", "marts/cost_reconciliation",
    deps=[["marts", "usage_cost_daily"], BILLED_COSTS], group="marts",
    extra_metadata=_reconciliation_meta)

assets = [
    model_resolution, lifecycle_as_of, usage_daily, usage_priced,
    usage_cost_daily, deprecated_model_usage, migration_status_weekly, unpriced_usage,
    cost_reconciliation,
]
