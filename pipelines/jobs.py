"""The contract's jobs and their schedules."""

from __future__ import annotations

import datetime as dt
import os

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


@dg.schedule(
    name="weekly_report_schedule", job=weekly_migration_report, cron_schedule="0 7 * * 1",
    execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED,
    tags={"radar/trigger": "weekly_schedule"},
    description="Mondays at 07:00 UTC, after the day's sync and refresh: the report of the "
    "ISO week that ended the day before (as of that Sunday), complete.")
def weekly_report_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """A Monday's own week has no usage yet (a day's exports land the day after it), so
    the run is as of the Sunday before: the ISO week it reports is the one that just ended.
    A RADAR_AS_OF set in the environment is left to win, like everywhere else."""
    if os.environ.get("RADAR_AS_OF", "").strip():
        return dg.RunRequest()
    sunday = context.scheduled_execution_time.date() - dt.timedelta(days=1)
    return dg.RunRequest(
        run_config={"resources": {"radar": {"config": {"as_of": sunday.isoformat()}}}},
        tags={"radar/as_of": sunday.isoformat()})
