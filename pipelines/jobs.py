"""The contract's jobs and their schedules."""

from __future__ import annotations

import dagster as dg

REFRESH_GROUPS = ("catalog", "staging", "intermediate", "marts", "quality", "publish")

radar_refresh = dg.define_asset_job(
    name="radar_refresh",
    selection=dg.AssetSelection.groups(*REFRESH_GROUPS),
    description="Ingest whatever is new in the landing folder, rebuild catalog, staging and "
    "marts, run the data-quality checks, publish the BI copy.",
    tags={"radar/job": "refresh"},
)

weekly_migration_report = dg.define_asset_job(
    name="weekly_migration_report",
    selection=dg.AssetSelection.groups(*REFRESH_GROUPS, "reports"),
    description="Refresh (so the numbers are those of RADAR_AS_OF), then write the "
    "migration-status report for the ISO week containing RADAR_AS_OF.",
    tags={"radar/job": "report"},
)

daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh_schedule", job=radar_refresh, cron_schedule="0 6 * * *",
    execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED,
    tags={"radar/trigger": "daily_schedule"},
    description="Every day at 06:00 UTC: refresh everything from the landing folder.",
)

weekly_report_schedule = dg.ScheduleDefinition(
    name="weekly_report_schedule", job=weekly_migration_report, cron_schedule="0 7 * * 1",
    execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED,
    tags={"radar/trigger": "weekly_schedule"},
    description="Mondays at 07:00 UTC: the weekly migration-status report.",
)
