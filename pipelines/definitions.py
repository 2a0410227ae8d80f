"""The Sunset Radar code location. Thin: it gathers each layer's definitions and sets policy."""

from __future__ import annotations

import sys

from pipelines.quality import gx

# A process started to execute a run (`dagster job execute`, ...) starts the validation worker
# as the code location loads, before anything else of it is imported, instead of when the run
# starts: GX's import (1.4-3.3 s) then overlaps Dagster's own preparation of the run (~1 s)
# too, and a refresh of one new day waits less for it at its first check
# (docs/benchmarks-history.md). The webserver, the daemon, code servers and tests load the code
# location without starting one.
if gx.executes_a_run(sys.argv):
    gx.start_worker()

import dagster as dg

from pipelines import jobs
from pipelines.catalog import assets as catalog_assets
from pipelines.ingest import assets as ingest_assets
from pipelines.ingest.sensors import build_landing_sensor
from pipelines.marts import assets as mart_assets
from pipelines.publish import assets as publish_assets
from pipelines.quality.checks import checks
from pipelines.reports import assets as report_assets
from pipelines.resources import default_resources
from pipelines.settings import RadarSettings
from pipelines.sync import assets as sync_assets


def build_defs() -> dg.Definitions:
    settings = RadarSettings.from_env()
    return dg.Definitions(
        assets=[*catalog_assets.assets, *ingest_assets.assets, *mart_assets.assets,
                *publish_assets.assets, *report_assets.assets,
                *sync_assets.assets],
        asset_checks=checks,
        jobs=[jobs.radar_refresh, jobs.weekly_migration_report, sync_assets.openai_api_sync],
        schedules=[jobs.daily_refresh_schedule, jobs.weekly_report_schedule,
                   sync_assets.daily_sync_schedule],
        sensors=[build_landing_sensor(jobs.radar_refresh)],
        resources=default_resources(settings),
        # one process writes the DuckDB file: steps run in the run's own process
        executor=dg.in_process_executor,
    )


defs = build_defs()
