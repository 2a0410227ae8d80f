"""Start `radar_refresh` when new or changed files appear in the landing folder."""

from __future__ import annotations

import hashlib

import dagster as dg

from pipelines.lib.ingest import discover
from pipelines.settings import RadarSettings


def landing_fingerprint(settings: RadarSettings) -> str:
    """A digest of every candidate file's path, size and modification time."""
    digest = hashlib.sha256()
    for path in discover(settings.landing_dir):
        st = path.stat()
        digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def build_landing_sensor(job: dg.UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.sensor(
        job=job, name="landing_folder_sensor", minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Requests a radar_refresh run when files in RADAR_LANDING_DIR are added or "
        "changed (cursor = digest of paths, sizes and modification times).",
    )
    def landing_folder_sensor(context: dg.SensorEvaluationContext):
        fingerprint = landing_fingerprint(RadarSettings.from_env())
        if fingerprint == context.cursor:
            return dg.SkipReason("no new or changed files in the landing folder")
        context.update_cursor(fingerprint)
        return dg.RunRequest(run_key=f"landing-{fingerprint[:16]}",
                             tags={"radar/trigger": "landing_sensor"})

    return landing_folder_sensor
