"""Ingest layer: every new export file in the landing folder, loaded once, into staging."""


from collections import Counter

import dagster as dg

from pipelines.lib.ingest import ingest_landing, trim_request_ledger
from pipelines.lib.markdown import table
from pipelines.resources import (
    WAREHOUSE_POOL,
    GreatExpectationsResource,
    RadarConfig,
    WarehouseResource,
)

GROUP = "staging"
OWNERS = ["team:platform-finops"]

INGESTED_FILES = dg.AssetKey(["staging", "ingested_files"])
USAGE = dg.AssetKey(["staging", "usage"])
BILLED_COSTS = dg.AssetKey(["staging", "billed_costs"])
REJECTED_ROWS = dg.AssetKey(["staging", "rejected_rows"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(INGESTED_FILES, group_name=GROUP, owners=OWNERS, kinds={"duckdb"},
                     description="The file manifest: one row per (path, sha256) looked at, with "
                     "its format, status (loaded, duplicate, rejected) and row accounting "
                     "(rows_read = rows_loaded + rows_rejected + rows_duplicate)."),
        dg.AssetSpec(USAGE, group_name=GROUP, owners=OWNERS, kinds={"duckdb", "polars"},
                     description="Usage at the source's grain: one row per OpenAI bucket x "
                     "group (endpoint, bucket start, project, user, API key, model, batch, "
                     "service tier), or a gateway file's requests of one day and one set of "
                     "dimensions (request identity in staging.gateway_requests). The newest "
                     "file's version of a bucket wins; nothing is counted twice."),
        dg.AssetSpec(BILLED_COSTS, group_name=GROUP, owners=OWNERS, kinds={"duckdb"},
                     description="Billed amounts from Costs API pages and dashboard cost "
                     "exports: one row per day x project x API key x line item."),
        dg.AssetSpec(REJECTED_ROWS, group_name=GROUP, owners=OWNERS, kinds={"duckdb"},
                     description="Quarantine: every row or whole file that could not be loaded, "
                     "with the reason and the raw input (credentials masked)."),
    ],
    pool=WAREHOUSE_POOL,
)
def ingest_landing_folder(
    context: dg.AssetExecutionContext, radar: RadarConfig, warehouse: WarehouseResource,
    gx: GreatExpectationsResource,
):
    """Scan `RADAR_LANDING_DIR` recursively and load each new file in its own transaction."""
    settings = radar.settings()
    landing_exists = settings.landing_dir.is_dir()
    if not landing_exists:
        context.log.warning(f"RADAR_LANDING_DIR names {settings.landing_dir}, which is not a "
                            "folder: nothing to ingest (check landing_folder_has_exports)")
    with warehouse.get_connection() as con:
        outcomes = ingest_landing(con, settings.landing_dir, run_id=context.run.run_id,
                                  on_start=gx.ingest_ahead)
        # after the ingest: the files of this run are checked against every key the ledger
        # had (a warehouse rebuilt from the landing folder loads all of them, once each)
        trim = trim_request_ledger(con, settings.request_ledger_kept_from)
        if trim.removed:
            context.log.info(f"request ledger kept from {trim.kept_from} "
                             f"(RADAR_REQUEST_LEDGER_DAYS={settings.request_ledger_days}): "
                             f"{trim.removed:,} older request keys removed")
        totals = dict(con.execute(
            "SELECT 'files', count(*) FROM staging.ingested_files UNION ALL "
            "SELECT 'requests', count(*) FROM staging.gateway_requests UNION ALL "
            "SELECT 'usage', count(*) FROM staging.usage UNION ALL "
            "SELECT 'costs', count(*) FROM staging.billed_costs UNION ALL "
            "SELECT 'rejected', count(*) FROM staging.rejected_rows").fetchall())
        span = con.execute(
            "SELECT min(usage_date), max(usage_date) FROM staging.usage").fetchall()[0]
    status = Counter(o.status for o in outcomes)
    for o in outcomes:
        if o.retried:
            context.log.info(f"{o.path}: rejected whole by an older version of the readers, "
                             f"read again: {o.status}")
        if o.note:
            context.log.info(f"{o.path}: {o.note}")
        if o.status in ("rejected", "skipped") or o.rows_rejected > o.rows_not_usage:
            context.log.warning(f"{o.path}: {o.status}; {o.error}")
        elif o.rows_not_usage:
            context.log.info(f"{o.path}: {o.rows_not_usage:,} gateway calls that are not "
                             "model usage set aside (staging.rejected_rows)")
    summary = table(
        ["file", "format", "status", "read", "loaded", "rejected", "duplicate"],
        [(o.path.rsplit("/", 1)[-1], o.format, o.status, o.rows_read, o.rows_loaded,
          o.rows_rejected, o.rows_duplicate) for o in outcomes], limit=50)
    new_rows = sum(o.rows_loaded for o in outcomes)
    yield dg.MaterializeResult(asset_key=INGESTED_FILES, metadata={
        "dagster/row_count": totals["files"],
        "new_files": len(outcomes),
        "loaded_files": status.get("loaded", 0),
        "duplicate_files": status.get("duplicate", 0),
        "rejected_files": status.get("rejected", 0),
        # files older readers rejected whole, read again after an upgrade
        "retried_files": sum(o.retried for o in outcomes),
        "this_run": dg.MetadataValue.md(summary),
        "landing_dir": str(settings.landing_dir),
        "landing_dir_exists": landing_exists,
    })
    yield dg.MaterializeResult(asset_key=USAGE, metadata={
        "dagster/row_count": totals["usage"],
        "rows_loaded_this_run": new_rows,
        "rows_duplicate_this_run": sum(o.rows_duplicate for o in outcomes),
        "first_usage_date": str(span[0]) if span[0] else "",
        "last_usage_date": str(span[1]) if span[1] else "",
        "request_ledger_keys": totals["requests"],
        # the first day the ledger can still tell a gateway request already counted; empty:
        # every day (RADAR_REQUEST_LEDGER_DAYS unset and never set)
        "request_ledger_kept_from": str(trim.kept_from) if trim.kept_from else "",
        "request_ledger_keys_removed_this_run": trim.removed,
    })
    yield dg.MaterializeResult(asset_key=BILLED_COSTS, metadata={
        "dagster/row_count": totals["costs"]})
    yield dg.MaterializeResult(asset_key=REJECTED_ROWS, metadata={
        "dagster/row_count": totals["rejected"],
        "rows_rejected_this_run": sum(o.rows_rejected for o in outcomes),
        # of those, rows that are not model usage (rerank, managing files, a header ...)
        "rows_not_model_usage_this_run": sum(o.rows_not_usage for o in outcomes),
    })


assets = [ingest_landing_folder]
