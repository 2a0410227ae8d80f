#!/usr/bin/env bash
# Prepare the Dagster instance in $DAGSTER_HOME (run history, schedules, sensors, the queue):
# our instance settings, and the warehouse pool's limit recorded in the instance. dagster.yaml
# gives every pool a default limit of 1, but the run queue learns a pool's limit only on its
# first pass: two runs queued before that (a fresh `dagster dev`, a schedule and the sensor
# firing together) would both start, and one would fail on DuckDB's file lock.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DAGSTER_HOME:?set DAGSTER_HOME to the instance folder}"
mkdir -p "$DAGSTER_HOME"
cp -f dagster.yaml "$DAGSTER_HOME/dagster.yaml"
# the pool every warehouse-writing asset declares (pipelines/resources.py: WAREHOUSE_POOL)
.venv/bin/dagster instance concurrency set radar_warehouse 1 >/dev/null
