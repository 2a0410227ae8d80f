"""Sync layer: the OpenAI Admin API pulled into the landing folder (needs OPENAI_ADMIN_KEY)."""

import datetime as dt
import os
import time
import warnings

import dagster as dg

from pipelines.resources import RadarConfig
from pipelines.settings import RadarSettings
from pipelines.sync.client import DEFAULT_BASE_URL, OpenAIAdminClient, SyncStats, sync_range

daily = dg.DailyPartitionsDefinition(start_date="2024-12-01", timezone="UTC",
                                     end_offset=1)


def _pull(settings: RadarSettings, start: dt.date, end: dt.date) -> SyncStats:
    key = os.environ.get("OPENAI_ADMIN_KEY", "")
    if not key:
        raise dg.Failure(
            description="OPENAI_ADMIN_KEY is not set: the API pull needs an OpenAI organization "
            "admin key. Set it in the environment of the run (it is never stored or logged).")
    base_url = os.environ.get("OPENAI_BASE_URL", "").strip() or DEFAULT_BASE_URL
    with OpenAIAdminClient(key, base_url) as client:
        return sync_range(client, start, end, settings.landing_dir, names=settings.sync_names)


def _metadata(stats: SyncStats, start: dt.date, end: dt.date, seconds: float) -> dict:
    return {"first_day": str(start), "last_day": str(end), "requests": stats.requests,
            "pages": stats.pages, "buckets": stats.buckets, "retries": stats.retries,
            "files_written": stats.files, "projects_named": stats.projects,
            "users_named": stats.users, "projects_key_listed": stats.key_lists,
            "keys_listed": stats.keys, "projects_key_list_failed": stats.key_list_errors,
            "seconds": round(seconds, 2)}


# A backfill of many days is one run (one pull, pages written once): Dagster marks that
# parameter beta and would say so on every command that loads the code location.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)

    @dg.asset(
        key=["sync", "openai_api_pages"], group_name="sync", owners=["team:platform-finops"],
        kinds={"openai", "json"}, partitions_def=daily,
        backfill_policy=dg.BackfillPolicy.single_run(),
        retry_policy=dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL,
                                    jitter=dg.Jitter.PLUS_MINUS),
    )
    def openai_api_pages(
        context: dg.AssetExecutionContext, radar: RadarConfig
    ) -> dg.MaterializeResult:
        """Usage API (every usage endpoint) and Costs API pages for the selected days, and the
        names of their projects, users and API keys (with the keys' owners), saved into
        `RADAR_LANDING_DIR/openai_api/` as page files; `radar_refresh` ingests them like any
        export. Daily partitions: backfill a date range from the UI in a single run."""
        window = context.partition_time_window
        start = window.start.date()
        end = (window.end - dt.timedelta(days=1)).date()
        started = time.monotonic()
        stats = _pull(radar.settings(), start, end)
        return dg.MaterializeResult(metadata=_metadata(
            stats, start, end, time.monotonic() - started))


@dg.op(description="Download RADAR_SYNC_START .. RADAR_AS_OF from the OpenAI Admin API into "
       "the landing folder.")
def pull_openai_usage(context: dg.OpExecutionContext, radar: RadarConfig) -> None:
    settings = radar.settings()
    started = time.monotonic()
    stats = _pull(settings, settings.sync_start, settings.as_of)
    meta = _metadata(stats, settings.sync_start, settings.as_of,
                     time.monotonic() - started)
    context.log.info(f"openai_api_sync: {meta}")


@dg.job(description="With OPENAI_ADMIN_KEY set, download the Usage API (every usage endpoint) "
        "and Costs API pages for RADAR_SYNC_START .. RADAR_AS_OF, and the names of their "
        "projects, users and API keys, into the landing folder.",
        tags={"radar/job": "sync"}, executor_def=dg.in_process_executor)
def openai_api_sync() -> None:
    pull_openai_usage()


@dg.schedule(job=openai_api_sync, cron_schedule="30 5 * * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.STOPPED,
             description="Every day at 05:30 UTC, before the 06:00 refresh: pull the API when "
             "OPENAI_ADMIN_KEY is set (skipped otherwise).")
def daily_sync_schedule(context: dg.ScheduleEvaluationContext):
    if not os.environ.get("OPENAI_ADMIN_KEY"):
        return dg.SkipReason("OPENAI_ADMIN_KEY is not set: nothing to pull")
    return dg.RunRequest(tags={"radar/trigger": "daily_schedule"})


assets = [openai_api_pages]
