"""Two refreshes queued at once, as a schedule and the landing sensor can: a real
`dagster-daemon` takes them from the queue of an instance prepared as `make dev` prepares it
(scripts/dagster_home.sh), and each runs in its own process (`dagster api execute_run`)
against one DuckDB file. A run holds the warehouse for its whole length, so the second must
wait for the first to end, not fail on DuckDB's file lock (without the pool's limit recorded
in the instance, the queue's first pass starts both and one fails: that is what this catches).
The runs read 20,000 gateway requests over 30 days (the benchmark's generator). Let go
together, the two would start within a second of each other and each holds the file from its
start to its end (several seconds, most of it Dagster's own start and bookkeeping), so they
would overlap: with the pool's limit not recorded, one run fails (checked)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.instance.config import PoolGranularity
from dagster._core.storage.dagster_run import RunRecord

from pipelines.resources import WAREHOUSE_POOL
from tests.conftest import REPO, stop_process_group
from tests.test_benchmark import TINY_DAYS, bench

FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}


def _env(home: Path, root: Path) -> dict[str, str]:
    env = {**os.environ, "DAGSTER_HOME": str(home), "RADAR_LANDING_DIR": str(root / "landing"),
           "RADAR_WAREHOUSE": str(root / "radar.duckdb"), "RADAR_PUBLISH_DIR": str(root / "pub"),
           "RADAR_REPORTS_DIR": str(root / "reports"), "RADAR_AS_OF": bench.AS_OF.isoformat(),
           "GX_ANALYTICS_ENABLED": "false"}
    env.pop("RADAR_TEAMS_FILE", None)
    return env


def _launch_two(env: dict[str, str]) -> None:
    """Two `dagster job launch` at once: each submits a run to the instance's queue (nothing
    runs until the daemon starts) and exits."""
    procs = [subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "dagster"), "job", "launch", "-m", "pipelines.definitions",
         "-j", "radar_refresh"], cwd=REPO, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]


def test_two_queued_refreshes_run_one_after_the_other(tmp_path):
    home, root = tmp_path / "home", tmp_path / "root"
    bench.generate(root, 20_000, TINY_DAYS)
    env = _env(home, root)
    # the instance as `make dev` prepares it (without the pool's limit recorded, the queue's
    # first pass would start both runs)
    subprocess.run([str(REPO / "scripts" / "dagster_home.sh")], cwd=REPO, env=env, check=True,
                   timeout=120)
    _launch_two(env)
    daemon = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "dagster-daemon"), "run", "-m", "pipelines.definitions"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        records = _wait_for_runs(home, count=2, timeout=360)
    finally:
        stop_process_group(daemon, timeout=30)
    # a failed run would have been retried (dagster.yaml): a third run would show it too
    assert [r.dagster_run.status for r in records] == [DagsterRunStatus.SUCCESS] * 2, [
        (r.dagster_run.run_id, r.dagster_run.status) for r in records]
    first, second = sorted(records, key=lambda r: r.start_time or 0)
    assert first.end_time is not None and second.start_time is not None
    assert second.start_time >= first.end_time


def test_the_warehouse_pool_is_held_for_a_whole_run(tmp_path):
    """A run opens the warehouse when it starts and keeps it to its end (WarehouseResource),
    so the pool is held per run: held per step, a second run could start between two steps
    of the first and fail on the file lock (the test above shows the outcome, this pins the
    setting it depends on)."""
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    subprocess.run([str(REPO / "scripts" / "dagster_home.sh")], cwd=REPO, env=env, check=True,
                   timeout=120)
    instance = DagsterInstance.from_config(str(tmp_path))
    try:
        pools = instance.get_concurrency_config().pool_config
        assert pools.pool_granularity == PoolGranularity.RUN
        assert {p.name: p.limit for p in instance.event_log_storage.get_pool_limits()} == {
            WAREHOUSE_POOL: 1}
    finally:
        instance.dispose()


def _wait_for_runs(home: Path, count: int, timeout: float) -> Sequence[RunRecord]:
    instance = DagsterInstance.from_config(str(home))
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            records = instance.get_run_records(RunsFilter(job_name="radar_refresh"))
            if len(records) >= count and all(r.dagster_run.status in FINISHED
                                             for r in records):
                return records
            time.sleep(1)
        pytest.fail(f"runs not finished in {timeout} s: "
                    f"{[(r.dagster_run.run_id, r.dagster_run.status) for r in records]}")
    finally:
        instance.dispose()
