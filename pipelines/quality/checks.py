"""Data-quality checks: great-expectations suites run as Dagster asset checks.

ERROR checks are blocking: when one fails, the assets downstream of the guarded asset do not
run in that run, so wrong numbers never reach the marts. WARN checks report without blocking.
Every result is also appended to ``quality.check_results`` (run id, asset, check, severity,
passed, observed, seconds, checked_at, the run's as-of) so BI can chart data health over time.
"""

import datetime as dt
import json
from typing import Any, cast

import dagster as dg
import duckdb
import polars as pl

from pipelines.ingest.assets import INGESTED_FILES, REJECTED_ROWS, USAGE
from pipelines.lib.catalog import (
    AUDIO_PRICE_COLUMNS,
    CACHE_WRITE_PRICE_COLUMNS,
    IMAGE_PRICE_COLUMNS,
    KNOWN_THROUGH_SQL,
    UNIT_OF_ENDPOINT,
)
from pipelines.lib.duck import run, transaction, used_params
from pipelines.lib.groupings import BILLED, Grouped, unnested_groupings_sql
from pipelines.lib.groupings import USAGE as USAGE_GROUPED
from pipelines.lib.ingest import ORGANISATIONS_SQL
from pipelines.lib.schema import (
    CACHE_WRITE_1H_TOKENS,
    CACHE_WRITE_TOKENS,
    ENDPOINTS,
    MAX_BUCKET_SECONDS,
    NOT_MODEL_USAGE,
    TOKEN_PARTS,
)
from pipelines.quality.gx import ExpectationSpec, SuiteOutcome
from pipelines.resources import (
    WAREHOUSE_POOL,
    GreatExpectationsResource,
    RadarConfig,
    WarehouseResource,
)
from pipelines.settings import STALE_AFTER_DAYS

ERROR = dg.AssetCheckSeverity.ERROR
WARN = dg.AssetCheckSeverity.WARN
#: largest number of changed rows handed to GX in one check; more are sampled
MAX_VALIDATED_ROWS = 100_000


def sample_clause(rows: int, limit: int | None = None) -> str:
    """The SQL that bounds a check's frame of ``rows`` rows to ``limit`` (default:
    :data:`MAX_VALIDATED_ROWS`): nothing when they fit, else a Bernoulli sample of that
    expected size, cut at it. It ends a query whose FROM is exactly those rows (a subquery):
    DuckDB samples the rows of the FROM clause, before the WHERE. A reservoir sample of
    exactly that many took 0.19-0.34 s of the 10M benchmark's 525,600 staged rows, this one
    0.04 s: it is drawn by both threads."""
    limit = MAX_VALIDATED_ROWS if limit is None else limit
    if rows <= limit:
        return ""
    return (f"USING SAMPLE bernoulli({100 * limit / rows:.9f}%) REPEATABLE (7) "
            f"LIMIT {int(limit)}")


PRICES = dg.AssetKey(["catalog", "model_prices"])
UNIT_PRICES = dg.AssetKey(["catalog", "model_unit_prices"])
LIFECYCLE = dg.AssetKey(["catalog", "model_lifecycle"])
COST_DAILY = dg.AssetKey(["marts", "usage_cost_daily"])
DEPRECATED = dg.AssetKey(["marts", "deprecated_model_usage"])
CALLERS = dg.AssetKey(["marts", "deprecated_model_callers"])
ACCOUNTS = dg.AssetKey(["marts", "accounts"])
OPTIONS = dg.AssetKey(["marts", "replacement_options"])
UNPRICED = dg.AssetKey(["marts", "unpriced_usage"])
RECONCILIATION = dg.AssetKey(["marts", "cost_reconciliation"])
USAGE_DAILY = dg.AssetKey(["intermediate", "usage_daily"])
INT_BILLED = dg.AssetKey(["intermediate", "billed_costs"])

CHECK_RESULTS_DDL = """
CREATE SCHEMA IF NOT EXISTS quality;
CREATE TABLE IF NOT EXISTS quality.check_results (
    run_id VARCHAR, asset VARCHAR, "check" VARCHAR, severity VARCHAR, passed BOOLEAN,
    observed VARCHAR, seconds DOUBLE, checked_at TIMESTAMP, as_of DATE
);
-- a warehouse from before 2026-12-07 has no as_of: its rows read NULL there
ALTER TABLE quality.check_results ADD COLUMN IF NOT EXISTS as_of DATE;
"""


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> pl.DataFrame:
    table = con.sql(sql, params=used_params(sql, params or {})).to_arrow_table()
    return cast(pl.DataFrame, pl.from_arrow(table))  # a Table gives a DataFrame


def _finish(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, con: duckdb.DuckDBPyConnection,
    asset: dg.AssetKey,
    severity: dg.AssetCheckSeverity, outcome: SuiteOutcome, extra: dict[str, Any] | None = None,
    passed: bool | None = None,
) -> dg.AssetCheckResult:
    passed = outcome.passed if passed is None else passed
    observed = json.loads(json.dumps({**outcome.observed(), **(extra or {})}, default=str))
    check_name = context.check_specs[0].name
    with transaction(con):
        for statement in con.extract_statements(CHECK_RESULTS_DDL):
            con.execute(statement).fetchall()
        run(con, "INSERT INTO quality.check_results BY NAME SELECT $run AS run_id, "
                 "$asset AS asset, $check AS \"check\", $sev AS severity, $passed AS passed, "
                 "$observed AS observed, $seconds AS seconds, $now AS checked_at, "
                 "CAST($as_of AS DATE) AS as_of",
            {"run": context.run.run_id, "asset": asset.to_user_string(), "check": check_name,
             "sev": severity.value, "passed": passed, "observed": json.dumps(observed, default=str),
             "seconds": outcome.seconds, "now": dt.datetime.now(dt.UTC).replace(tzinfo=None),
             "as_of": radar.settings().as_of})
    return dg.AssetCheckResult(
        passed=passed, severity=severity,
        metadata={
            "suite": outcome.suite,
            "rows_validated": outcome.rows_validated,
            "expectations": outcome.evaluated,
            "failed_expectations": len(outcome.failed),
            "seconds": round(outcome.seconds, 3),
            "observed": dg.MetadataValue.json(observed),
            "failures": dg.MetadataValue.md(outcome.markdown()),
        },
    )


def _not_null(*cols: str) -> list[ExpectationSpec]:
    return [("ExpectColumnValuesToNotBeNull", {"column": c}) for c in cols]


def _non_negative(*cols: str) -> list[ExpectationSpec]:
    return [("ExpectColumnValuesToBeBetween", {"column": c, "min_value": 0}) for c in cols]


def _at_least(a: str, b: str) -> ExpectationSpec:
    return ("ExpectColumnPairValuesAToBeGreaterThanB",
            {"column_A": a, "column_B": b, "or_equal": True,
             "ignore_row_if": "either_value_is_missing"})


def _equal(a: str, b: str) -> ExpectationSpec:
    return ("ExpectColumnPairValuesToBeEqual", {"column_A": a, "column_B": b})


COUNTS = ("requests", "failed_requests", "input_tokens", "cached_input_tokens", "output_tokens")
#: the staging.usage columns the staging suite reads (a sample of 100k rows of all 25 took
#: twice as long to draw and to validate)
VALIDATED_USAGE_COLUMNS = ("dedupe_key", "source", "endpoint", "bucket_start", "bucket_end",
                           "usage_date", *COUNTS, *TOKEN_PARTS, "units")


@dg.asset_check(asset=USAGE, blocking=True, pool=WAREHOUSE_POOL,
                description="ERROR: the usage this run loaded has keys, non-negative counts "
                "(and units), "
                "cached <= input, each audio and image count and the cache writes (together) "
                "inside their total, the 1-hour cache writes inside the cache writes, "
                "failed <= requests, "
                "bucket end after start (daily buckets at "
                "most 24 h), a known endpoint, and one row per bucket key on every day it "
                "touched.")
def staging_usage_is_valid(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        # the files of this run have consecutive ids: a constant range lets DuckDB read only
        # their row groups
        first, last = run(con, "SELECT coalesce(min(file_id), 0), coalesce(max(file_id), -1) "
                               "FROM staging.ingested_files WHERE run_id = $run",
                          {"run": context.run.run_id})[0]
        files = {"first": first, "last": last}  # an empty range when the run loaded nothing
        loaded, lo, hi = run(con, "SELECT count(*), min(usage_date), max(usage_date) "
                                  "FROM staging.usage WHERE file_id BETWEEN $first AND $last",
                             files)[0]
        # the sample is drawn from this run's rows: a sample clause after the WHERE would
        # draw it from the whole table first (until 2026-12-05 a run that loaded 1,200 rows
        # onto 525,600 had 233 of them validated)
        changed = frame(con, (
            f"SELECT * FROM (SELECT {', '.join(f'u.{c}' for c in VALIDATED_USAGE_COLUMNS)}, "
            "epoch(u.bucket_end) - epoch(u.bucket_start) AS bucket_seconds, "
            "u.input_tokens - u.cached_input_tokens AS uncached_input_tokens, "
            # the audio and image parts of each total, together
            "u.input_audio_tokens + u.input_image_tokens + u.cache_write_input_tokens "
            "AS uncached_input_parts, "
            "u.cached_input_audio_tokens + u.cached_input_image_tokens AS cached_input_parts, "
            "u.output_audio_tokens + u.output_image_tokens AS output_parts, "
            # a gateway row spans its day's requests, the last of which may end after midnight
            f"CASE WHEN u.source = 'litellm' THEN 2 * {MAX_BUCKET_SECONDS} "
            f"ELSE {MAX_BUCKET_SECONDS} END AS max_bucket_seconds "
            "FROM staging.usage u "
            "WHERE u.file_id BETWEEN $first AND $last) AS changed "
            # the sample's size is a number computed here: DuckDB takes no parameter there
            + sample_clause(loaded)), files)
        # one row per bucket key, on every day this run changed: distinct 64-bit hashes
        # first (cheap); only if two rows share a hash are the keys themselves compared
        span = {"lo": lo or dt.date.max, "hi": hi or dt.date.min}
        (total, distinct_keys) = run(
            con, "SELECT count(*), count(DISTINCT hash(dedupe_key)) FROM staging.usage "
                 "WHERE usage_date BETWEEN $lo AND $hi", span)[0]
        if distinct_keys < total:
            (distinct_keys,) = run(
                con, "SELECT count(DISTINCT dedupe_key) FROM staging.usage "
                     "WHERE usage_date BETWEEN $lo AND $hi", span)[0]
        expectations: list[ExpectationSpec] = [
            *_not_null("dedupe_key", "source", "endpoint", "bucket_start", "bucket_end",
                       "usage_date"),
            *_non_negative(*COUNTS, *TOKEN_PARTS, "units"),
            _at_least("input_tokens", "cached_input_tokens"),
            _at_least("uncached_input_tokens", "uncached_input_parts"),
            _at_least("cached_input_tokens", "cached_input_parts"),
            _at_least("output_tokens", "output_parts"),
            _at_least(CACHE_WRITE_TOKENS, CACHE_WRITE_1H_TOKENS),
            _at_least("requests", "failed_requests"),
            _at_least("bucket_end", "bucket_start"),
            ("ExpectColumnValuesToBeInSet", {"column": "endpoint", "value_set": list(ENDPOINTS)}),
            ("ExpectColumnValuesToBeUnique", {"column": "dedupe_key"}),
        ]
        if len(changed):
            expectations.append(_at_least("max_bucket_seconds", "bucket_seconds"))
        outcome = gx.run_suite("staging_usage", changed, expectations)
        duplicates = total - distinct_keys
        return _finish(context, radar, con, USAGE, ERROR, outcome,
                       {"rows_on_changed_days": total, "duplicate_keys": duplicates,
                        "changed_days": [str(lo), str(hi)]},
                       passed=outcome.passed and duplicates == 0)


def _windows(table: str, same: str) -> str:
    """SQL: the price rows of ``table`` (a code constant), each with the end of its window
    (``valid_until``, far away for an open one) and how many windows of the same key (the
    condition ``same`` on rows ``p`` and ``q``) overlap it, itself included."""
    return ("SELECT *, coalesce(valid_to, DATE '9999-12-31') AS valid_until, "
            f"(SELECT count(*) FROM {table} q WHERE {same} "
            " AND q.valid_from < coalesce(p.valid_to, DATE '9999-12-31') "
            " AND coalesce(q.valid_to, DATE '9999-12-31') > p.valid_from) "
            f"AS overlapping_windows FROM {table} p")


#: every price window ends after it starts, and overlaps only itself
WINDOW_EXPECTATIONS: list[ExpectationSpec] = [
    ("ExpectColumnPairValuesAToBeGreaterThanB",
     {"column_A": "valid_until", "column_B": "valid_from"}),
    ("ExpectColumnValuesToBeBetween", {"column": "overlapping_windows", "min_value": 1,
                                       "max_value": 1}),
]


@dg.asset_check(asset=PRICES, blocking=True, pool=WAREHOUSE_POOL,
                description="ERROR: prices are non-negative decimals with a source; validity "
                "windows are well formed and never overlap for one model.")
def catalog_prices_are_valid(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        prices = frame(con, _windows(
            "catalog.model_prices",
            "q.model = p.model AND q.service_tier IS NOT DISTINCT FROM p.service_tier"))
        outcome = gx.run_suite("catalog_prices", prices, [
            *_not_null("model", "valid_from", "input_usd_per_1m", "output_usd_per_1m",
                       "batch_discount", "source"),
            *_non_negative("input_usd_per_1m", "cached_input_usd_per_1m", "output_usd_per_1m",
                           *AUDIO_PRICE_COLUMNS, *IMAGE_PRICE_COLUMNS,
                           *CACHE_WRITE_PRICE_COLUMNS),
            ("ExpectColumnValuesToBeBetween", {"column": "batch_discount", "min_value": 0,
                                               "max_value": 1}),
            *WINDOW_EXPECTATIONS,
        ])
        return _finish(context, radar, con, PRICES, ERROR, outcome)


@dg.asset_check(asset=UNIT_PRICES, blocking=True, pool=WAREHOUSE_POOL,
                description="ERROR: per-unit prices are non-negative decimals with a source, "
                "in a unit the Usage API reports (seconds, characters); validity windows are "
                "well formed and never overlap for one model and unit.")
def catalog_unit_prices_are_valid(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        prices = frame(con, _windows("catalog.model_unit_prices",
                                     "q.model = p.model AND q.unit = p.unit"))
        outcome = gx.run_suite("catalog_unit_prices", prices, [
            *_not_null("model", "unit", "valid_from", "usd_per_1m_units", "source"),
            *_non_negative("usd_per_1m_units"),
            ("ExpectColumnValuesToBeInSet",
             {"column": "unit", "value_set": sorted(UNIT_OF_ENDPOINT.values())}),
            *WINDOW_EXPECTATIONS,
        ])
        return _finish(context, radar, con, UNIT_PRICES, ERROR, outcome)


@dg.asset_check(asset=LIFECYCLE, blocking=True, pool=WAREHOUSE_POOL,
                description="ERROR: one lifecycle row per model, each with a source; a "
                "shutdown is never before its announcement.")
def catalog_lifecycle_is_valid(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        rows = frame(con, "SELECT * FROM catalog.model_lifecycle")
        outcome = gx.run_suite("catalog_lifecycle", rows, [
            *_not_null("model", "source"),
            ("ExpectColumnValuesToBeUnique", {"column": "model"}),
            _at_least("shutdown_date", "announced_date"),
        ])
        return _finish(context, radar, con, LIFECYCLE, ERROR, outcome)


@dg.asset_check(asset=ACCOUNTS, blocking=True, pool=WAREHOUSE_POOL,
                description="ERROR: one row per account type and id, each with an id and of a "
                "known type: the callers mart joins its names on them (a second row for a key "
                "would count its calls twice).")
def accounts_are_unique(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        rows = frame(con, "SELECT account_type, account_id, "
                          "account_type || ':' || account_id AS account FROM marts.accounts")
        outcome = gx.run_suite("accounts", rows, [
            *_not_null("account_type", "account_id"),
            ("ExpectColumnValuesToBeUnique", {"column": "account"}),
            ("ExpectColumnValuesToBeInSet", {"column": "account_type", "value_set": [
                "organization", "project", "user", "api_key"]}),
        ])
        return _finish(context, radar, con, ACCOUNTS, ERROR, outcome)


@dg.asset_check(asset=LIFECYCLE, pool=WAREHOUSE_POOL,
                additional_deps=[PRICES, UNIT_PRICES, DEPRECATED],
                description="WARN: the recommended replacement of every deprecated model "
                "called in the window exists in the price catalog (exact name or snapshot "
                "base), so its replacement cost can be computed. Unpriced replacements of "
                "models nobody calls change no figure: listed in the metadata, no warning.")
def replacements_are_priced(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        rows = frame(con, (
            "SELECT l.model, l.replacement_model, "
            # a token price, or (gpt-live-transcribe, whisper-1's) a price per second
            "EXISTS (SELECT 1 FROM (SELECT model FROM catalog.model_prices UNION "
            "  SELECT model FROM catalog.model_unit_prices) p "
            "  WHERE p.model = l.replacement_model "
            "  OR p.model = regexp_replace(l.replacement_model, "
            "     '-(\\d{4}-\\d{2}-\\d{2}|\\d{4})$', '')) AS replacement_priced, "
            # the end of each replacement chain that a caller in the window is pointed to
            "l.replacement_model IN (SELECT replacement_model FROM marts.deprecated_model_usage "
            "  WHERE replacement_model IS NOT NULL) AS in_use "
            "FROM catalog.model_lifecycle l WHERE l.replacement_model IS NOT NULL"))
        in_use = rows.filter(pl.col("in_use"))
        outcome = gx.run_suite("catalog_replacements", in_use, [
            ("ExpectColumnValuesToBeInSet", {"column": "replacement_priced", "value_set": [True]}),
        ])
        missing = rows.filter(~pl.col("replacement_priced"))
        return _finish(context, radar, con, LIFECYCLE, WARN, outcome, {
            "unpriced_replacements_in_use": sorted(set(
                missing.filter(pl.col("in_use"))["replacement_model"])),
            "unpriced_replacements": sorted(set(missing["replacement_model"]))})


@dg.asset_check(asset=LIFECYCLE, pool=WAREHOUSE_POOL,
                additional_deps=[dg.AssetKey(["catalog", "sources"])],
                description="WARN: the catalog knows of retirements announced up to no more "
                "than RADAR_CATALOG_MAX_AGE_DAYS (default 60) days before as-of: an older "
                "catalog may miss a retirement announced since, and show that model as "
                "active. Refresh it with `make catalog` (with OPENAI_API_KEY, a project key, "
                "it takes the Models API's shutdown dates), or add the rows to "
                "RADAR_LIFECYCLE_OVERRIDES.")
def catalog_is_recent(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    settings = radar.settings()
    with warehouse.get_connection() as con:
        (known,) = run(con, KNOWN_THROUGH_SQL)[0]
        age = (settings.as_of - known).days if known else None
        found = pl.DataFrame({"known_through": [known], "age_days": [age]},
                             schema={"known_through": pl.Date, "age_days": pl.Int64})
        outcome = gx.run_suite("catalog_age", found, [
            *_not_null("known_through"),
            ("ExpectColumnValuesToBeBetween", {"column": "age_days",
                                               "max_value": settings.catalog_max_age_days}),
        ])
        lifecycle_sources = run(con, "SELECT source, CAST(as_of AS VARCHAR) FROM catalog.sources "
                                     "WHERE kind LIKE '%lifecycle%' ORDER BY as_of DESC NULLS LAST")
        return _finish(context, radar, con, LIFECYCLE, WARN, outcome, {
            "known_through": str(known or ""), "age_days": age,
            "max_age_days": settings.catalog_max_age_days,
            "lifecycle_sources": [{"source": s, "as_of": a} for s, a in lifecycle_sources]})


@dg.asset_check(asset=COST_DAILY, blocking=True, pool=WAREHOUSE_POOL,
                description="ERROR: nothing lost between layers: requests and tokens in "
                "usage_cost_daily equal those staged (less what another file reports at a "
                "finer grouping); its cost equals the sum over priced "
                "intermediate rows (a daily row that sums an unpriced one has none); no "
                "priced row without a cost.")
def costs_reconcile_across_layers(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        totals = frame(con, """
            WITH staged AS (  -- less what is counted at a finer grouping (groupings.py)
                SELECT sum(requests) AS requests, sum(input_tokens) AS input_tokens,
                       sum(cached_input_tokens) AS cached, sum(output_tokens) AS output_tokens
                FROM (SELECT requests, input_tokens, cached_input_tokens, output_tokens
                      FROM staging.usage
                      UNION ALL
                      SELECT -requests, -input_tokens, -cached_input_tokens, -output_tokens
                      FROM intermediate.usage_set_aside)),
            -- the mart's rule: a daily row's cost only when every row it sums is priced
            priced AS (
                SELECT sum(cost) AS cost
                FROM (SELECT CASE WHEN bool_and(priced) THEN sum(cost_usd) END AS cost
                      FROM intermediate.usage_priced
                      GROUP BY usage_date, source, team, project_id, user_id, api_key_id,
                               endpoint, route, model, service_tier, is_batch)),
            daily AS (
                SELECT sum(requests) AS requests, sum(input_tokens) AS input_tokens,
                       sum(cached_input_tokens) AS cached, sum(output_tokens) AS output_tokens,
                       sum(cost_usd) AS cost,
                       count(*) FILTER (WHERE priced AND cost_usd IS NULL) AS priced_without_cost
                FROM marts.usage_cost_daily)
            SELECT s.requests AS staged_requests, d.requests AS daily_requests,
                   s.input_tokens AS staged_input, d.input_tokens AS daily_input,
                   s.cached AS staged_cached, d.cached AS daily_cached,
                   s.output_tokens AS staged_output, d.output_tokens AS daily_output,
                   CAST(coalesce(p.cost, 0) AS VARCHAR) AS priced_cost,
                   CAST(coalesce(d.cost, 0) AS VARCHAR) AS daily_cost,
                   d.priced_without_cost
            FROM staged s, priced p, daily d""")
        outcome = gx.run_suite("marts_reconciliation", totals, [
            _equal("staged_requests", "daily_requests"),
            _equal("staged_input", "daily_input"),
            _equal("staged_cached", "daily_cached"),
            _equal("staged_output", "daily_output"),
            _equal("priced_cost", "daily_cost"),
            ("ExpectColumnValuesToBeBetween", {"column": "priced_without_cost", "min_value": 0,
                                               "max_value": 0}),
        ])
        return _finish(context, radar, con, COST_DAILY, ERROR, outcome, totals.row(0, named=True))


@dg.asset_check(asset=DEPRECATED, blocking=True, pool=WAREHOUSE_POOL,
                description="ERROR: the deprecated-model table's totals equal usage_cost_daily's "
                "totals for the same rows (deprecated or shut down, in the 28-day window); a "
                "team, endpoint and model with an unpriced row has no cost in either.")
def deprecated_totals_match_daily(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    settings = radar.settings()
    with warehouse.get_connection() as con:
        totals = frame(con, """
            WITH pairs AS (
                -- the mart's rule: a pair's cost only when every row of it is priced (a
                -- partial sum would read as the whole), pairs with requests in the window
                SELECT sum(requests) AS requests, sum(failed_requests) AS failed,
                       sum(input_tokens) AS input_tokens,
                       CASE WHEN bool_and(priced) THEN sum(cost_usd) END AS cost
                FROM marts.usage_cost_daily
                WHERE usage_date BETWEEN $window_start AND $as_of
                  AND lifecycle_status IN ('deprecated', 'shutdown')
                GROUP BY team, endpoint, model
                HAVING sum(requests) > 0),
            d AS (
                SELECT sum(requests) AS requests, sum(failed) AS failed,
                       sum(input_tokens) AS input_tokens, CAST(sum(cost) AS VARCHAR) AS cost
                FROM pairs),
            m AS (
                SELECT sum(requests_28d) AS requests, sum(failed_requests_28d) AS failed,
                       sum(input_tokens_28d) AS input_tokens,
                       CAST(sum(cost_usd_28d) AS VARCHAR) AS cost
                FROM marts.deprecated_model_usage)
            SELECT coalesce(d.requests, 0) AS daily_requests,
                   coalesce(m.requests, 0) AS mart_requests,
                   coalesce(d.failed, 0) AS daily_failed, coalesce(m.failed, 0) AS mart_failed,
                   coalesce(d.input_tokens, 0) AS daily_input,
                   coalesce(m.input_tokens, 0) AS mart_input,
                   coalesce(d.cost, '0') AS daily_cost, coalesce(m.cost, '0') AS mart_cost
            FROM d, m""", {"as_of": settings.as_of, "window_start": settings.window_start})
        outcome = gx.run_suite("deprecated_totals", totals, [
            _equal("daily_requests", "mart_requests"), _equal("daily_failed", "mart_failed"),
            _equal("daily_input", "mart_input"), _equal("daily_cost", "mart_cost"),
        ])
        return _finish(context, radar, con, DEPRECATED, ERROR, outcome, totals.row(0, named=True))


@dg.asset_check(asset=CALLERS, blocking=True, pool=WAREHOUSE_POOL,
                description="ERROR: the callers of each team, endpoint and deprecated model add "
                "up to its row of deprecated_model_usage: requests, failures, tokens, cost.")
def callers_add_up_to_deprecated_usage(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    sums = ", ".join(f"sum({c}_28d) AS {c}" for c in COUNTS)
    compared = ", ".join(f"coalesce(u.{c}, -1) AS usage_{c}, coalesce(k.{c}, -1) AS callers_{c}"
                         for c in COUNTS)
    with warehouse.get_connection() as con:
        # a row per team, endpoint and model of either table (one missing from the other is a
        # difference: -1 stands for it); cost as text, exact, "unpriced" where it is NULL
        pairs = frame(con, f"""
            WITH u AS (SELECT team, endpoint, model, {sums},
                              coalesce(CAST(sum(cost_usd_28d) AS VARCHAR), 'unpriced') AS cost
                       FROM marts.deprecated_model_usage GROUP BY ALL),
            k AS (SELECT team, endpoint, model, {sums}, count(*) AS callers,
                         -- a caller without a cost leaves its pair without one
                         CASE WHEN count(cost_usd_28d) = count(*)
                              THEN CAST(sum(cost_usd_28d) AS VARCHAR) ELSE 'unpriced' END
                             AS cost
                  FROM marts.deprecated_model_callers GROUP BY ALL)
            SELECT coalesce(u.team, k.team) AS team, coalesce(u.model, k.model) AS model,
                   coalesce(k.callers, 0) AS callers,
                   {compared},
                   coalesce(u.cost, 'missing') AS usage_cost,
                   coalesce(k.cost, 'missing') AS callers_cost
            FROM u FULL JOIN k USING (team, endpoint, model)""")
        compared_columns = (*COUNTS, "cost")
        outcome = gx.run_suite("deprecated_callers", pairs, [
            _equal(f"usage_{c}", f"callers_{c}") for c in compared_columns])
        mismatched = pairs.filter(pl.any_horizontal(
            [pl.col(f"usage_{c}") != pl.col(f"callers_{c}") for c in compared_columns]))
        return _finish(context, radar, con, CALLERS, ERROR, outcome, {
            "rows_of_deprecated_model_usage": pairs.height,
            "callers": int(pairs["callers"].sum() or 0),
            "rows_that_differ": mismatched.select("team", "model").rows()[:20]})


@dg.asset_check(asset=OPTIONS, blocking=True, pool=WAREHOUSE_POOL,
                description="ERROR: the first replacement option of each row of "
                "deprecated_model_usage is its recommended replacement, at its replacement "
                "cost; every row with a replacement has options, and no other row has any.")
def replacement_options_start_with_the_recommended_one(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        # a row per team, endpoint and model of either table; cost as text, exact,
        # "unpriced" where it is NULL and "missing" where the table has no such row
        pairs = frame(con, """
            WITH u AS (SELECT team, endpoint, model, replacement_model,
                              coalesce(CAST(replacement_cost_usd_28d AS VARCHAR), 'unpriced')
                                  AS cost
                       FROM marts.deprecated_model_usage WHERE replacement_model IS NOT NULL),
            o AS (SELECT team, endpoint, model, replacement_model,
                         coalesce(CAST(replacement_cost_usd_28d AS VARCHAR), 'unpriced')
                             AS cost
                  FROM marts.replacement_options WHERE option_rank = 1)
            SELECT coalesce(u.team, o.team) AS team, coalesce(u.model, o.model) AS model,
                   coalesce(u.replacement_model, 'missing') AS usage_replacement,
                   coalesce(o.replacement_model, 'missing') AS option_replacement,
                   coalesce(u.cost, 'missing') AS usage_cost,
                   coalesce(o.cost, 'missing') AS option_cost
            FROM u FULL JOIN o USING (team, endpoint, model)""")
        outcome = gx.run_suite("replacement_options", pairs, [
            _equal("usage_replacement", "option_replacement"),
            _equal("usage_cost", "option_cost")])
        differ = pairs.filter((pl.col("usage_replacement") != pl.col("option_replacement"))
                              | (pl.col("usage_cost") != pl.col("option_cost")))
        (options, rows_with_more) = con.execute(
            "SELECT count(*), count(DISTINCT (team, endpoint, model)) FILTER "
            "(WHERE option_rank > 1) FROM marts.replacement_options").fetchall()[0]
        return _finish(context, radar, con, OPTIONS, ERROR, outcome, {
            "rows_of_deprecated_model_usage_with_a_replacement": pairs.height,
            "options": int(options), "rows_with_more_than_one_option": int(rows_with_more),
            "rows_that_differ": differ.select("team", "model").rows()[:20]})


@dg.asset_check(asset=UNPRICED, pool=WAREHOUSE_POOL,
                description="WARN: the share of the window's requests that cannot be priced stays "
                "below RADAR_UNPRICED_MAX_SHARE (default 5%).")
def unpriced_share_is_small(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    settings = radar.settings()
    threshold = float(settings.unpriced_max_share)
    with warehouse.get_connection() as con:
        share = frame(con, """
            SELECT coalesce(sum(requests) FILTER (WHERE NOT priced), 0) AS unpriced_requests,
                   coalesce(sum(requests), 0) AS requests,
                   CASE WHEN sum(requests) > 0
                        THEN coalesce(sum(requests) FILTER (WHERE NOT priced), 0) / sum(requests)
                        ELSE 0 END AS unpriced_share
            FROM marts.usage_cost_daily
            WHERE usage_date BETWEEN $window_start AND $as_of""",
            {"as_of": settings.as_of, "window_start": settings.window_start})
        outcome = gx.run_suite("unpriced_share", share, [
            ("ExpectColumnValuesToBeBetween", {"column": "unpriced_share", "min_value": 0,
                                               "max_value": threshold}),
        ])
        return _finish(context, radar, con, UNPRICED, WARN, outcome,
                       {**share.row(0, named=True), "threshold": threshold})


@dg.asset_check(asset=COST_DAILY, pool=WAREHOUSE_POOL,
                description="WARN: the 28-day window has usage, and every source with usage "
                f"in it has usage within {STALE_AFTER_DAYS} days of as-of. A source whose "
                "exports stopped makes its traffic fall, which reads as migration.")
def usage_is_current(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    settings = radar.settings()
    with warehouse.get_connection() as con:
        sources = frame(con, """
            SELECT source, max(usage_date) AS last_day,
                   date_diff('day', max(usage_date), CAST($as_of AS DATE)) AS days_behind
            FROM marts.usage_cost_daily
            WHERE usage_date BETWEEN $window_start AND $as_of
            GROUP BY source ORDER BY source""",
            {"as_of": settings.as_of, "window_start": settings.window_start})
        outcome = gx.run_suite("usage_freshness", sources, [
            ("ExpectTableRowCountToBeBetween", {"min_value": 1}),
            ("ExpectColumnValuesToBeBetween", {"column": "days_behind", "min_value": 0,
                                               "max_value": STALE_AFTER_DAYS}),
        ])
        return _finish(context, radar, con, COST_DAILY, WARN, outcome,
                       {"as_of": settings.as_of, "sources": sources.to_dicts()})


@dg.asset_check(asset=INGESTED_FILES, pool=WAREHOUSE_POOL,
                description="WARN: RADAR_LANDING_DIR is a folder and at least one export has "
                "been loaded. A mistyped or unmounted landing folder otherwise reads as 'no "
                "new usage': the run succeeds and the marts stay empty or stop moving.")
def landing_folder_has_exports(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    landing = radar.settings().landing_dir
    is_folder = landing.is_dir()
    with warehouse.get_connection() as con:
        (loaded,) = run(con, "SELECT count(*) FROM staging.ingested_files "
                             "WHERE status = 'loaded'")[0]
        found = pl.DataFrame({"is_folder": [is_folder], "files_loaded": [loaded]})
        outcome = gx.run_suite("landing_folder", found, [
            ("ExpectColumnValuesToBeInSet", {"column": "is_folder", "value_set": [True]}),
            ("ExpectColumnValuesToBeBetween", {"column": "files_loaded", "min_value": 1}),
        ])
        return _finish(context, radar, con, INGESTED_FILES, WARN, outcome,
                       {"landing_dir": str(landing), "is_folder": is_folder,
                        "files_loaded": loaded})


@dg.asset_check(asset=INGESTED_FILES, pool=WAREHOUSE_POOL,
                description="WARN: the loaded exports name one OpenAI organisation at most. "
                "Usage API pages and activity exports do not say whose they are, and the "
                "bucket key has no organisation, so two organisations' exports of the same "
                "days in one landing folder can be taken for the same usage twice (two "
                "ungrouped saves: only the newer counts). The dashboard's exports name their "
                "organisation; when they name two, the metadata lists them with their files: "
                "give each organisation its own landing folder and working file.")
def one_organisation_per_landing_folder(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        named = frame(con, ORGANISATIONS_SQL)
        found = pl.DataFrame({"organisations": [len(named)]})
        outcome = gx.run_suite("organisations", found, [
            ("ExpectColumnValuesToBeBetween", {"column": "organisations", "max_value": 1})])
        return _finish(context, radar, con, INGESTED_FILES, WARN, outcome,
                       {"organisations": named.head(20).to_dicts()})


@dg.asset_check(asset=REJECTED_ROWS, pool=WAREHOUSE_POOL,
                description="WARN: this run quarantined no file and no row. When it did, the "
                "metadata lists the files and the most common reasons. Rows that are not "
                "model usage (gateway calls to rerank or to manage files or batches, a CSV's "
                "repeated header line) are kept in staging.rejected_rows too, but are no data "
                "problem: counted apart.")
def nothing_quarantined_this_run(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        files = frame(con, """
            SELECT f.path, f.status, f.rows_read, f.rows_rejected, f.error,
                   coalesce(n.rows_not_usage, 0) AS rows_not_usage,
                   f.rows_rejected - coalesce(n.rows_not_usage, 0) AS rows_quarantined
            FROM staging.ingested_files AS f
            LEFT JOIN (SELECT file_id, count(*) AS rows_not_usage FROM staging.rejected_rows
                       WHERE starts_with(reason, $prefix) GROUP BY file_id) AS n
                   USING (file_id)
            WHERE f.run_id = $run""", {"run": context.run.run_id,
                                       "prefix": NOT_MODEL_USAGE})
        outcome = gx.run_suite("quarantine", files, [
            ("ExpectColumnValuesToBeInSet", {"column": "status",
                                             "value_set": ["loaded", "duplicate"]}),
            ("ExpectColumnValuesToBeBetween", {"column": "rows_quarantined", "min_value": 0,
                                               "max_value": 0}),
        ])
        bad = files.filter((pl.col("status") == "rejected") | (pl.col("rows_quarantined") > 0))
        return _finish(context, radar, con, REJECTED_ROWS, WARN, outcome,
                       {"quarantined": bad.select("path", "status", "rows_quarantined",
                                                  "error").head(10).to_dicts(),
                        "not_model_usage_this_run": int(files["rows_not_usage"].sum())})


TEAM_DIRECTORY = dg.AssetKey(["catalog", "team_directory"])


@dg.asset_check(asset=TEAM_DIRECTORY, pool=WAREHOUSE_POOL,
                description="WARN: every line of the team directory (RADAR_TEAMS_FILE) maps a "
                "key. A line that does not (a stray quote, an unknown key type, a key already "
                "mapped to another team, a missing team) is skipped, and the usage it would "
                "have matched falls to the next key or to unassigned: the metadata lists each "
                "such line and why, as catalog.team_directory_problems keeps them.")
def team_directory_reads_cleanly(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        found = frame(con, "SELECT problem FROM catalog.team_directory_problems "
                           "ORDER BY position")
        (mapped,) = run(con, "SELECT count(*) FROM catalog.team_directory")[0]
        outcome = gx.run_suite("team_directory", found, [("ExpectTableRowCountToEqual",
                                                          {"value": 0})])
        return _finish(context, radar, con, TEAM_DIRECTORY, WARN, outcome,
                       {"teams_file": str(radar.settings().teams_file), "keys_mapped": mapped,
                        "lines_not_read": len(found),
                        "problems": found["problem"].head(20).to_list()})


def _groupings_check(name: str, asset: dg.AssetKey, spec: Grouped,
                     description: str) -> dg.AssetChecksDefinition:
    """A WARN check listing pairs of files whose groupings of the same day do not nest
    (``groupings.unnested_groupings_sql``)."""
    @dg.asset_check(asset=asset, name=name, pool=WAREHOUSE_POOL, description=description)
    def _check(
        context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
        gx: GreatExpectationsResource,
    ) -> dg.AssetCheckResult:
        with warehouse.get_connection() as con:
            pairs = frame(con, unnested_groupings_sql(spec))
            outcome = gx.run_suite(name, pairs, [("ExpectTableRowCountToEqual", {"value": 0})])
            return _finish(context, radar, con, asset, WARN, outcome,
                           {"pairs": len(pairs), "first_pairs": pairs.head(10).to_dicts()})
    return _check


groupings_nest = _groupings_check(
    "groupings_nest", USAGE_DAILY, USAGE_GROUPED,
    "WARN: where two exports report the same day and endpoint of OpenAI usage at different "
    "groupings, the groupings nest (one is finer), so the usage counts once; a pair that does "
    "not nest (one save by project only, another by model only) may count the same usage "
    "twice, and is listed.")
bill_groupings_nest = _groupings_check(
    "bill_groupings_nest", INT_BILLED, BILLED,
    "WARN: where two exports bill the same day at different groupings, the groupings nest, "
    "so the money counts once; a pair that does not nest (one save by project only, another "
    "by line item only) may bill it twice, and is listed.")


@dg.asset_check(asset=RECONCILIATION, pool=WAREHOUSE_POOL,
                description="WARN: every billed day and project is within tolerance of the "
                "computed cost (RADAR_RECONCILIATION_TOLERANCE_SHARE of the bill or "
                "RADAR_RECONCILIATION_TOLERANCE_USD, whichever is larger; by default 1% or "
                "$0.01); the metadata splits the "
                "others into offset (shifted to a neighbouring day) and unexplained.")
def bill_matches_computed_cost(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        rows = frame(con, "SELECT usage_date, project_id, CAST(difference_usd AS DOUBLE) AS "
                          "difference_usd, within_tolerance, classification "
                          "FROM marts.cost_reconciliation")
        outcome = gx.run_suite("reconciliation", rows, [
            ("ExpectColumnValuesToBeInSet", {"column": "within_tolerance", "value_set": [True]}),
        ])
        by_class = (rows.group_by("classification").len().to_dicts() if len(rows) else [])
        return _finish(context, radar, con, RECONCILIATION, WARN, outcome,
                       {"days_outside_tolerance": int((~rows["within_tolerance"]).sum())
                        if len(rows) else 0, "by_classification": by_class})


@dg.asset_check(asset=dg.AssetKey(["catalog", "conflicts"]), pool=WAREHOUSE_POOL,
                additional_deps=[COST_DAILY],
                description="WARN: the catalog's sources agree on the price, shutdown date and "
                "replacement of every model used in the window (the catalog entries its usage "
                "resolves to). Where they disagree, catalog.conflicts says which value was "
                "chosen and why; a disagreement about a model nobody uses changes no figure, "
                "so it is listed in the metadata without a warning.")
def catalog_sources_agree(
    context: dg.AssetCheckExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
) -> dg.AssetCheckResult:
    settings = radar.settings()
    with warehouse.get_connection() as con:
        rows = frame(con, """
            WITH used AS (
                -- the catalog entries the window's usage is priced and dated by
                SELECT DISTINCT unnest([r.price_model, r.lifecycle_model]) AS model
                FROM marts.usage_cost_daily AS u
                JOIN intermediate.model_resolution AS r USING (model)
                WHERE u.usage_date BETWEEN $window_start AND $as_of AND u.requests > 0)
            SELECT c.model, c.field, c.chosen_value, c.other_value,
                   c.model IN (SELECT model FROM used WHERE model IS NOT NULL)
                       AS used_in_window
            FROM catalog.conflicts AS c ORDER BY c.model, c.field""",
            {"as_of": settings.as_of, "window_start": settings.window_start})
        used = rows.filter(pl.col("used_in_window"))
        outcome = gx.run_suite("catalog_conflicts", used, [
            ("ExpectTableRowCountToEqual", {"value": 0})])
        return _finish(context, radar, con, dg.AssetKey(["catalog", "conflicts"]), WARN, outcome,
                       {"conflicts_on_models_in_use": used.drop("used_in_window").to_dicts(),
                        "conflicts": len(rows),
                        "other_conflicts": rows.filter(~pl.col("used_in_window"))
                        .drop("used_in_window").head(20).to_dicts()})


checks = [
    catalog_sources_agree, landing_folder_has_exports, one_organisation_per_landing_folder,
    usage_is_current, team_directory_reads_cleanly,
    staging_usage_is_valid, catalog_prices_are_valid, catalog_unit_prices_are_valid,
    catalog_lifecycle_is_valid, accounts_are_unique,
    replacements_are_priced, catalog_is_recent, costs_reconcile_across_layers,
    deprecated_totals_match_daily, callers_add_up_to_deprecated_usage,
    replacement_options_start_with_the_recommended_one, unpriced_share_is_small,
    nothing_quarantined_this_run,
    bill_matches_computed_cost, groupings_nest, bill_groupings_nest,
]
