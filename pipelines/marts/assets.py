"""Intermediate and mart layers: SQL models in `sql/`, executed against the warehouse."""


from collections.abc import Callable
from typing import Any

import dagster as dg
import duckdb

from pipelines.ingest.assets import BILLED_COSTS, INGESTED_FILES, USAGE
from pipelines.lib.duck import build_table, run, sql_text, transaction
from pipelines.lib.groupings import BILLED, settle_groupings
from pipelines.lib.incremental import (
    USAGE_DAILY_MODEL,
    digest_tables,
    roll_up_usage_daily,
    version_of,
)
from pipelines.lib.markdown import table
from pipelines.lib.money import to_cents
from pipelines.marts.factory import OWNERS, ByDay, preview, sql_description, sql_table_asset
from pipelines.resources import WAREHOUSE_POOL, RadarConfig, WarehouseResource
from pipelines.settings import RadarSettings

PRICES = ["catalog", "model_prices"]
BANDS = ["catalog", "model_price_bands"]
UNIT_PRICES = ["catalog", "model_unit_prices"]
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


def _priced_meta(con: duckdb.DuckDBPyConnection, s: RadarSettings) -> dict[str, Any]:
    """How much of the usage is audio or image, priced at their own rates, and how much of it
    the catalog has no price for (those rows are unpriced, never priced as text); how many
    input tokens were written to a prompt cache (at the cache write price, else as input); how
    many gateway requests were priced at long-context rates; how much usage is metered in
    other units (seconds, characters, images), and how much of it is priced in them."""
    meta: dict[str, Any] = {}
    for kind in ("audio", "image"):
        parts = f"input_{kind}_tokens + cached_input_{kind}_tokens + output_{kind}_tokens"
        rows, tokens, unpriced = con.execute(
            f"SELECT count(*), coalesce(sum({parts}), 0), "
            f"count(*) FILTER (WHERE unpriced_reason LIKE '{kind}%') "
            f"FROM intermediate.usage_priced WHERE {parts} > 0").fetchall()[0]
        meta |= {f"rows_with_{kind}": int(rows), f"{kind}_tokens": int(tokens),
                 f"{kind}_rows_without_an_{kind}_price": int(unpriced)}
    rows, tokens, one_hour = con.execute(
        "SELECT count(*), coalesce(sum(cache_write_input_tokens), 0), "
        "coalesce(sum(cache_write_1h_input_tokens), 0) "
        "FROM intermediate.usage_priced WHERE cache_write_input_tokens > 0").fetchall()[0]
    long_rows, long_requests, base_requests = con.execute(
        "SELECT count(*) FILTER (WHERE long_context_threshold IS NOT NULL), "
        "coalesce(sum(requests) FILTER (WHERE long_context_threshold IS NOT NULL), 0), "
        # long prompts of a model without long-context prices: its base rate is its price
        "coalesce(sum(requests) FILTER (WHERE long_context_threshold IS NULL), 0) "
        "FROM intermediate.usage_priced WHERE prompt_band > 0").fetchall()[0]
    by_unit = con.execute(
        "SELECT unit, count(*), sum(units), count(*) FILTER (WHERE priced), "
        "coalesce(sum(cost_usd), 0) FROM intermediate.usage_priced WHERE unit IS NOT NULL "
        "GROUP BY unit ORDER BY unit").fetchall()
    meta["usage_in_other_units"] = dg.MetadataValue.md(table(
        ["unit", "rows", "units", "rows priced in them", "cost USD"],
        [(u, n, total, priced, to_cents(cost)) for u, n, total, priced, cost in by_unit],
        limit=len(by_unit)))
    return meta | {"rows_with_cache_writes": int(rows), "cache_write_tokens": int(tokens),
                   "cache_write_1h_tokens": int(one_hour),
                   "rows_at_long_context_rates": int(long_rows),
                   "requests_at_long_context_rates": int(long_requests),
                   "long_prompt_requests_at_base_rates": int(base_requests)}


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


def _options_meta(con: duckdb.DuckDBPyConnection, s: RadarSettings) -> dict[str, Any]:
    """How many rows of deprecated_model_usage have more than one replacement named, and what
    their usage would cost on the recommended option against the cheapest one."""
    rows, recommended, cheapest = con.execute("""
        SELECT count(DISTINCT (team, endpoint, model)),
               coalesce(sum(replacement_cost_usd_28d) FILTER (WHERE option_rank = 1), 0),
               coalesce(sum(replacement_cost_usd_28d) FILTER (WHERE cheapest), 0)
        FROM marts.replacement_options
        WHERE (team, endpoint, model) IN (SELECT (team, endpoint, model)
                                          FROM marts.replacement_options
                                          WHERE option_rank > 1)
          -- where every option is priced: the two sums cover the same rows
          AND (team, endpoint, model) NOT IN (SELECT (team, endpoint, model)
                                              FROM marts.replacement_options
                                              WHERE cheapest IS NULL)""").fetchall()[0]
    return {
        "rows_with_more_than_one_replacement": int(rows),
        "on_the_recommended_replacement_usd_28d": float(recommended),
        "on_the_cheapest_replacement_usd_28d": float(cheapest),
        "preview": preview(con, (
            "SELECT team, endpoint, model, option_rank, replacement_model, replacement_status, "
            "cost_usd_28d, replacement_cost_usd_28d, cheapest FROM marts.replacement_options "
            "WHERE (team, endpoint, model) IN (SELECT (team, endpoint, model) "
            "FROM marts.replacement_options WHERE option_rank > 1)")),
    }


def _accounts_meta(con: duckdb.DuckDBPyConnection, s: RadarSettings) -> dict[str, Any]:
    """How many accounts of each kind have a name, and which OpenAI organisations the cost
    exports name (FOCUS's billing account: known where exactly one is)."""
    counts = dict(con.execute("SELECT account_type, count(*) FROM marts.accounts "
                              "GROUP BY ALL").fetchall())
    orgs = [r[0] for r in con.execute("SELECT account_id FROM marts.accounts WHERE "
                                      "account_type = 'organization' ORDER BY 1").fetchall()]
    return {**{f"{kind}s": int(counts.get(kind, 0))
               for kind in ("organization", "project", "user", "api_key")},
            "billing_account": orgs[0] if len(orgs) == 1 else "",
            "organizations_named": ", ".join(orgs)}


def _callers_meta(con: duckdb.DuckDBPyConnection, s: RadarSettings) -> dict[str, Any]:
    callers, pairs = con.execute(
        "SELECT count(*), count(DISTINCT (team, endpoint, model)) "
        "FROM marts.deprecated_model_callers").fetchall()[0]
    return {"callers": int(callers), "team_endpoint_model_rows": int(pairs),
            "preview": preview(con, (
                "SELECT team, model, source, project_id, project_name, api_key_id, key_alias, "
                "key_owner, user_id, route, requests_28d, failed_requests_28d, cost_usd_28d, "
                "last_seen FROM marts.deprecated_model_callers ORDER BY requests_28d DESC"))}


def _weekly_meta(con: duckdb.DuckDBPyConnection, s: RadarSettings) -> dict[str, Any]:
    return {"preview": preview(con, (
        "SELECT * FROM marts.migration_status_weekly "
        "WHERE week_start >= date_trunc('week', $as_of::DATE) - INTERVAL 7 DAY "
        "ORDER BY week_start DESC, deprecated_requests DESC"), {"as_of": s.as_of})}


def _unpriced_meta(con: duckdb.DuckDBPyConnection, s: RadarSettings) -> dict[str, Any]:
    return {"preview": preview(con, "SELECT * FROM marts.unpriced_usage")}


def _reconciliation_meta(con: duckdb.DuckDBPyConnection, s: RadarSettings) -> dict[str, Any]:
    return {"classification": preview(con, (
        "SELECT classification, count(*) AS days, sum(difference_usd) AS difference_usd "
        "FROM marts.cost_reconciliation GROUP BY ALL ORDER BY ALL")),
        "tolerance": f"{s.tolerance_share:%} of the bill or ${s.tolerance_usd}, "
                     "whichever is larger"}


def _focus_meta(con: duckdb.DuckDBPyConnection, s: RadarSettings) -> dict[str, Any]:
    """Where FOCUS's BillingAccountId (which it does not allow NULL) is missing, and the
    providers RADAR_BILLING_ACCOUNTS names that no row has (a misspelt name): ~0.05 s a run
    on a warehouse of 30M requests."""
    missing = con.execute(
        'SELECT x_source, "ProviderName", count(*) AS n FROM marts.focus_costs '
        'WHERE "BillingAccountId" IS NULL GROUP BY ALL ORDER BY n DESC, 1, 2').fetchall()
    unused = [provider for (provider,) in con.execute(
        'SELECT provider FROM catalog.billing_accounts WHERE lower(provider) NOT IN '
        '(SELECT DISTINCT lower("ProviderName") FROM marts.focus_costs) ORDER BY 1').fetchall()]
    return {"rows_without_billing_account": sum(n for *_, n in missing),
            "without_billing_account": dg.MetadataValue.md(
                table(["source", "ProviderName", "rows"], missing) if missing else
                "none: every row names its billing account"),
            "billing_accounts_matching_no_row": ", ".join(unused) or "none"}


model_resolution = sql_table_asset(
    "intermediate", "model_resolution", "intermediate/int_model_resolution",
    deps=[USAGE, PRICES, UNIT_PRICES, LIFECYCLE], group="intermediate")
lifecycle_as_of = sql_table_asset(
    "intermediate", "lifecycle_as_of", "intermediate/int_lifecycle_as_of",
    deps=[LIFECYCLE, ["intermediate", "model_resolution"]], group="intermediate")


def _intermediate_asset(name: str, deps: list[dg.AssetKey]) -> Callable:
    """The decorator of an intermediate model that Python builds around its SQL file
    (``sql/intermediate/int_<name>.sql``), where one statement is not the whole build."""
    model = f"intermediate/int_{name}"
    return dg.asset(key=["intermediate", name], deps=deps, group_name="intermediate",
                    owners=OWNERS, kinds={"duckdb", "sql"}, pool=WAREHOUSE_POOL,
                    description=sql_description(model),
                    metadata={"sql_file": f"sql/{model}.sql"})


@_intermediate_asset("usage_daily", [USAGE])
def usage_daily(
    context: dg.AssetExecutionContext, radar: RadarConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    settings = radar.settings()
    with warehouse.get_connection() as con:
        with transaction(con):
            built = roll_up_usage_daily(con)
            set_aside = run(con, "SELECT count(*), coalesce(sum(requests), 0) "
                                 "FROM intermediate.usage_set_aside")[0]
        if built.set_aside_rows:
            context.log.info(
                f"{built.set_aside_requests:,} requests on the recomputed days are also "
                f"reported at a finer grouping by another file ({built.set_aside_rows} rows "
                "set aside, counted once): see intermediate.usage_set_aside")
        metadata = {"dagster/row_count": built.rows, "mode": built.mode,
                    "days_recomputed": built.days,
                    "set_aside_rows": int(set_aside[0]), "set_aside_requests": int(set_aside[1]),
                    "query": dg.MetadataValue.md(f"```sql\n{sql_text(USAGE_DAILY_MODEL)}\n```"),
                    **_usage_daily_meta(con, settings)}
    return dg.MaterializeResult(metadata=metadata)


@_intermediate_asset("billed_costs", [BILLED_COSTS])
def billed_costs(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    model = "intermediate/int_billed_costs"
    with warehouse.get_connection() as con, transaction(con):
        rows_aside, usd_aside = settle_groupings(con, full=True, spec=BILLED)
        rows = build_table(con, "intermediate.billed_costs", model)
    if rows_aside:
        context.log.info(
            f"${usd_aside} of billed amounts are also billed at a finer grouping by another "
            f"file ({rows_aside} rows set aside, counted once): see "
            "intermediate.billed_set_aside")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "set_aside_rows": rows_aside,
        "set_aside_usd": str(usd_aside),
        "query": dg.MetadataValue.md(f"```sql\n{sql_text(model)}\n```")})


#: the models kept day by day, and the usage day of one of their rows
DAY_OF_ROW = {"intermediate.usage_priced": "usage_date",
              "marts.usage_cost_daily": "usage_date"}

#: the lifecycle rows a row of intermediate.usage_priced reads: those of the catalog entries
#: the usage's models resolve to (each with its replacement, the chain already followed). A
#: model nobody calls that retires today changes no row: the catalog holds other providers'
#: retirements too, on many more days than any one company's usage meets.
LIFECYCLE_IN_USE = (
    "(SELECT * FROM intermediate.lifecycle_as_of WHERE model IN ("
    "SELECT lifecycle_model FROM intermediate.model_resolution "
    "WHERE model IN (SELECT model FROM intermediate.usage_daily)))")

#: besides intermediate.usage_daily, what a row of intermediate.usage_priced depends on
PRICED_INPUTS = ("catalog.model_prices", "catalog.model_price_bands",
                 "catalog.model_unit_prices", "catalog.replaced_model_prices",
                 "catalog.replaced_model_price_bands", "catalog.replaced_model_unit_prices",
                 "catalog.team_directory", "intermediate.model_resolution", LIFECYCLE_IN_USE)


#: the catalog prices in effect on the as-of date (where the replacement's price is read)
PRICES_ON_AS_OF = ("(SELECT model, service_tier, valid_from FROM catalog.model_prices "
                   "WHERE valid_from <= $as_of AND (valid_to IS NULL OR $as_of < valid_to))")
UNIT_PRICES_ON_AS_OF = ("(SELECT model, unit, valid_from FROM catalog.model_unit_prices "
                        "WHERE valid_from <= $as_of AND (valid_to IS NULL OR $as_of < valid_to))")


def _priced_inputs(con: duckdb.DuckDBPyConnection, s: RadarSettings) -> str:
    """What a row of ``intermediate.usage_priced`` depends on besides its usage day. The as-of
    date reaches a row only through the lifecycle as of it (``intermediate.lifecycle_as_of``,
    the rows of the models in use) and the replacement's price in effect on it: they are
    digested instead of the date itself, so a new day on which no model in use changes
    status, replacement or price keeps the day-by-day build (a new date alone made every
    first run of a day a full build: at 30M, +4.5 s of ``usage_priced`` and
    ``usage_cost_daily``)."""
    return digest_tables(con, (*PRICED_INPUTS, PRICES_ON_AS_OF, UNIT_PRICES_ON_AS_OF),
                         {"as_of": s.as_of})


def _built_from(upstream: str) -> Callable[[duckdb.DuckDBPyConnection, RadarSettings], str]:
    def inputs(con: duckdb.DuckDBPyConnection, s: RadarSettings) -> str:
        return f"{upstream}@{version_of(con, upstream)}"
    return inputs


usage_priced = sql_table_asset(
    "intermediate", "usage_priced", "intermediate/int_usage_priced",
    deps=[["intermediate", "usage_daily"], ["intermediate", "model_resolution"],
          ["intermediate", "lifecycle_as_of"], PRICES, BANDS, UNIT_PRICES, TEAMS],
    group="intermediate",
    extra_metadata=_priced_meta,
    by_day=ByDay(DAY_OF_ROW["intermediate.usage_priced"], _priced_inputs))

usage_cost_daily = sql_table_asset(
    "marts", "usage_cost_daily", "marts/usage_cost_daily",
    deps=[["intermediate", "usage_priced"]], group="marts", extra_metadata=_cost_daily_meta,
    by_day=ByDay(DAY_OF_ROW["marts.usage_cost_daily"], _built_from("intermediate.usage_priced")))
deprecated_model_usage = sql_table_asset(
    "marts", "deprecated_model_usage", "marts/deprecated_model_usage",
    deps=[["marts", "usage_cost_daily"]], group="marts", extra_metadata=_deprecated_meta)
accounts = sql_table_asset(
    "marts", "accounts", "marts/accounts",
    # the saved key, project and user lists and the cost exports, staged by the ingest
    deps=[INGESTED_FILES], group="marts", extra_metadata=_accounts_meta)
deprecated_model_callers = sql_table_asset(
    "marts", "deprecated_model_callers", "marts/deprecated_model_callers",
    # after deprecated_model_usage, whose rows its check compares it with
    deps=[["marts", "usage_cost_daily"], ["marts", "deprecated_model_usage"],
          ["marts", "accounts"]], group="marts",
    extra_metadata=_callers_meta)
replacement_options = sql_table_asset(
    "marts", "replacement_options", "marts/replacement_options",
    deps=[["marts", "deprecated_model_usage"], ["intermediate", "usage_priced"],
          ["intermediate", "model_resolution"], ["intermediate", "lifecycle_as_of"],
          LIFECYCLE, PRICES, BANDS, UNIT_PRICES],
    group="marts", extra_metadata=_options_meta)
migration_status_weekly = sql_table_asset(
    "marts", "migration_status_weekly", "marts/migration_status_weekly",
    deps=[["marts", "usage_cost_daily"]], group="marts", extra_metadata=_weekly_meta)
unpriced_usage = sql_table_asset(
    "marts", "unpriced_usage", "marts/unpriced_usage",
    deps=[["marts", "usage_cost_daily"]], group="marts", extra_metadata=_unpriced_meta)
cost_reconciliation = sql_table_asset(
    "marts", "cost_reconciliation", "marts/cost_reconciliation",
    deps=[["marts", "usage_cost_daily"], ["intermediate", "billed_costs"]], group="marts",
    extra_metadata=_reconciliation_meta)

cost_reconciliation_by_key = sql_table_asset(
    "marts", "cost_reconciliation_by_key", "marts/cost_reconciliation_by_key",
    deps=[["marts", "usage_cost_daily"], ["intermediate", "billed_costs"]], group="marts")


# a view: the same rows as usage_cost_daily (the priced ones), renamed to FOCUS columns. As a
# table a full refresh of 10M requests built it (0.8 s) and copied it into the BI file (0.5 s)
# for a projection readers compute as they read it (its Parquet file costs ~0.3 s more)
focus_costs = sql_table_asset(
    "marts", "focus_costs", "marts/focus_costs",
    deps=[["marts", "usage_cost_daily"], ["marts", "accounts"], ["catalog", "billing_accounts"]],
    group="marts", view=True, extra_metadata=_focus_meta)

assets = [
    model_resolution, lifecycle_as_of, usage_daily, usage_priced, billed_costs,
    usage_cost_daily, accounts, deprecated_model_usage, deprecated_model_callers,
    replacement_options,
    migration_status_weekly,
    unpriced_usage,
    cost_reconciliation, cost_reconciliation_by_key, focus_costs,
]
