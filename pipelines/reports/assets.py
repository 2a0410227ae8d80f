"""Reports layer: the weekly migration-status report."""

import dagster as dg

from pipelines.reports.report import write_report
from pipelines.resources import WAREHOUSE_POOL, RadarConfig, WarehouseResource


@dg.asset(
    key=["reports", "migration_status_report"], group_name="reports",
    owners=["team:platform-finops"], kinds={"duckdb", "html", "markdown"}, pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["marts", m]) for m in (
        "deprecated_model_usage", "deprecated_model_callers", "migration_status_weekly",
        "unpriced_usage", "usage_cost_daily")],
)
def migration_status_report(
    context: dg.AssetExecutionContext, radar: RadarConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The weekly migration-status report for the ISO week containing `RADAR_AS_OF`, written
    to `RADAR_REPORTS_DIR` as `migration-status-YYYY-Www.md` and a self-contained `.html`:
    headline, action list by urgency, progress (week over week, migrated pairs, new callers),
    charts, data health."""
    settings = radar.settings()
    with warehouse.get_connection() as con:
        md_path, html_path, markdown = write_report(con, settings.as_of, settings.reports_dir,
                                                     settings.catalog_max_age_days)
    return dg.MaterializeResult(metadata={
        "markdown_path": dg.MetadataValue.path(str(md_path)),
        "html_path": dg.MetadataValue.path(str(html_path)),
        "as_of": settings.as_of.isoformat(),
        "report": dg.MetadataValue.md(markdown),
    })


assets = [migration_status_report]
