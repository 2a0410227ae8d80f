"""kill -9 a real refresh at several points: the working file stays consistent, the BI copy
stays the previous complete publish, and the next run ends with the uninterrupted numbers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.demo.generate import generate
from tests.conftest import REPO, cli_job_command, run_refresh
from tests.exports import AS_OF

MART_TABLES = ["marts.usage_cost_daily", "marts.deprecated_model_usage",
               "marts.migration_status_weekly", "marts.unpriced_usage", "staging.usage"]
KILL_POINTS = ["ingest_landing_folder", "intermediate__usage_daily",
               "marts__usage_cost_daily", "publish__bi_copy"]


def _env(root: Path, landing: Path) -> dict[str, str]:
    # no DAGSTER_HOME, as the contract runs it: each run gets a temporary instance, so the
    # run record a killed run left "started" dies with it (with a persistent instance it
    # would hold the warehouse pool until the daemon's run monitoring fails it); the killed
    # run gets a throwaway instance of its own, see _refresh_killed_at
    env = {**os.environ, **_settings(root, landing)}
    env.pop("DAGSTER_HOME", None)
    env.pop("RADAR_TEAMS_FILE", None)
    return env


def _settings(root: Path, landing: Path) -> dict[str, str]:
    return {"RADAR_LANDING_DIR": str(landing), "RADAR_WAREHOUSE": str(root / "radar.duckdb"),
            "RADAR_PUBLISH_DIR": str(root / "pub"), "RADAR_REPORTS_DIR": str(root / "reports"),
            "RADAR_AS_OF": AS_OF}


def _refresh(root: Path, landing: Path) -> None:
    """A refresh that runs to its end, in this process (only the killed one needs a process
    of its own): the same job on the same files, without the command line's start-up."""
    with pytest.MonkeyPatch.context() as monkeypatch:  # the settings _env gives the CLI
        for key, value in _settings(root, landing).items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("RADAR_TEAMS_FILE", raising=False)
        run_refresh()


def _refresh_killed_at(root: Path, landing: Path, step: str) -> bool:
    """Start a refresh, SIGKILL its process group as soon as `step` starts.

    The killed CLI cannot remove the temporary instance it would make in the repo's root,
    and which of the folders there is its own cannot be told apart from another test's
    running CLI. So it gets an instance folder of its own, new and thrown away as a
    temporary one is, with the repo's dagster.yaml (what a temporary instance reads)."""
    home = root.parent / f"{root.name}_killed_run_home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    shutil.copy2(REPO / "dagster.yaml", home / "dagster.yaml")
    proc = subprocess.Popen(cli_job_command(), cwd=REPO, env={**_env(root, landing),
                                                       "DAGSTER_HOME": str(home)},
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    killed = False
    assert proc.stderr is not None
    for line in proc.stderr:
        if f"{step} - STEP_START" in line:
            time.sleep(0.05)
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            break
    proc.wait(timeout=60)
    shutil.rmtree(home, ignore_errors=True)
    return killed


def _snapshot(db: Path, tables: list[str] = MART_TABLES) -> dict[str, list[str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: sorted(map(repr, con.execute(
            f"SELECT * EXCLUDE (file_id) FROM {t}" if t == "staging.usage"
            else f"SELECT * FROM {t}").fetchall())) for t in tables}
    finally:
        con.close()


@pytest.fixture(scope="module")
def demo_landing(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("crash") / "landing"
    generate(landing, __import__("datetime").date.fromisoformat(AS_OF))
    return landing


@pytest.fixture(scope="module")
def reference(tmp_path_factory, demo_landing) -> dict[str, list[str]]:
    root = tmp_path_factory.mktemp("reference")
    _refresh(root, demo_landing)
    return _snapshot(root / "radar.duckdb")


@pytest.fixture(scope="module")
def previous_state(tmp_path_factory, demo_landing) -> tuple[Path, Path]:
    """A previous complete state, built once: the gateway log alone, refreshed and published.
    Each test puts a copy back in the same folder (the manifest keeps the files' paths, and a
    copy keeps their modification times, so the gateway log is not read again)."""
    work = tmp_path_factory.mktemp("crashcase")
    landing = work / "landing"
    (landing / "gateway").mkdir(parents=True)
    shutil.copy2(demo_landing / "gateway" / "litellm_spend_logs.csv", landing / "gateway")
    _refresh(work, landing)
    saved = tmp_path_factory.mktemp("crashcase_saved") / "state"
    shutil.copytree(work, saved)
    return work, saved


@pytest.mark.parametrize("step", KILL_POINTS)
def test_kill_9_then_rerun_gives_the_uninterrupted_numbers(previous_state, demo_landing,
                                                          reference, step):
    work, saved = previous_state
    shutil.rmtree(work)
    shutil.copytree(saved, work)
    landing = work / "landing"
    published = work / "pub" / "radar.duckdb"
    marts_only = MART_TABLES[:-1]
    published_before = _snapshot(published, marts_only)
    # the rest of the exports arrive; the refresh is killed mid-way
    for sub in sorted(d.name for d in demo_landing.iterdir() if d.name != "gateway"):
        shutil.copytree(demo_landing / sub, landing / sub)
    assert _refresh_killed_at(work, landing, step), f"{step} never started"
    # the working file opens, and every file is either wholly loaded or not at all
    con = duckdb.connect(str(work / "radar.duckdb"), read_only=True)
    bad = con.execute("SELECT count(*) FROM staging.ingested_files WHERE rows_read <> "
                      "rows_loaded + rows_rejected + rows_duplicate").fetchall()[0][0]
    orphans = con.execute("SELECT count(*) FROM staging.usage WHERE file_id NOT IN "
                          "(SELECT file_id FROM staging.ingested_files)").fetchall()[0][0]
    con.close()
    assert (bad, orphans) == (0, 0)
    # BI still sees a complete publish (the previous one, unless the rename had happened)
    assert not list((work / "pub").glob("radar.duckdb.*"))
    after_kill = _snapshot(published, marts_only)
    assert after_kill == published_before or step == "publish__bi_copy"
    # the next run completes with exactly the numbers of an uninterrupted run
    _refresh(work, landing)
    assert _snapshot(work / "radar.duckdb") == reference
    assert _snapshot(published, marts_only) == {t: reference[t] for t in marts_only}


def _cached(con: duckdb.DuckDBPyConnection) -> int:
    """The bytes DuckDB's buffer pool holds now, as read by the tests below."""
    return con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchall()[0][0]


def test_a_step_that_leaves_much_in_the_buffer_pool_checkpoints_its_writes(tmp_path):
    """A step whose connection closes with `KEEP_CACHED_BYTES` or more in DuckDB's buffer
    pool has its writes checkpointed from the write-ahead log into the file (rows waiting for
    a checkpoint would otherwise sit in the pool for the rest of the run); a small step's
    writes wait in the log for a later checkpoint, readable all the same. Another
    connection's open transaction makes the checkpoint wait, never fail."""
    from pipelines.resources import KEEP_CACHED_BYTES, WarehouseResource

    db = tmp_path / "w.duckdb"
    wal = Path(f"{db}.wal")
    warehouse = WarehouseResource(database=str(db))
    # as in a run, another connection keeps the database open between the steps (else the
    # last close would checkpoint anyway)
    anchor = duckdb.connect(str(db), config={"custom_user_agent": "dagster"})

    with warehouse.get_connection() as con:
        con.execute("CREATE TABLE small AS SELECT range AS x FROM range(1000)")
        assert _cached(con) < KEEP_CACHED_BYTES
    assert wal.stat().st_size > 0  # waits in the log
    with warehouse.get_connection() as con:
        assert con.execute("SELECT count(*) FROM small").fetchall() == [(1000,)]
        con.execute("CREATE TABLE t AS SELECT range AS x, hash(range) AS y, "
                    "hash(range + 1) AS z FROM range(6000000)")
        assert _cached(con) >= KEEP_CACHED_BYTES
    assert not wal.exists() or wal.stat().st_size == 0  # checkpointed, the small one too
    anchor.execute("BEGIN TRANSACTION")
    anchor.execute("INSERT INTO t VALUES (-1, 0, 0)")
    with warehouse.get_connection() as con:
        con.execute("INSERT INTO t SELECT range + 6000000, hash(range), 0 FROM range(6000000)")
    anchor.execute("COMMIT")
    with warehouse.get_connection() as con:
        assert con.execute("SELECT count(*), min(x), max(x) FROM t").fetchall() == [
            (12_000_001, -1, 11_999_999)]
    anchor.close()


def test_a_step_hands_the_blocks_it_read_back_when_its_connection_closes(tmp_path):
    """The run keeps the database open from step to step: the blocks one step read must not
    stay in DuckDB's buffer pool under the next step's working memory (they made the peak of
    a refresh). The configured memory limit is back after each step, also when another
    connection's open transaction keeps blocks that cannot be evicted."""
    from pipelines.resources import WarehouseResource

    db = tmp_path / "w.duckdb"
    config = {"memory_limit": "300MB"}
    warehouse = WarehouseResource(database=str(db), connection_config=config)
    anchor = duckdb.connect(str(db), config={"custom_user_agent": "dagster", **config})

    with warehouse.get_connection() as con:
        con.execute("CREATE TABLE t AS SELECT range AS x, hash(range) AS y, "
                    "hash(range + 1) AS z FROM range(6000000)")
    with warehouse.get_connection() as con:
        assert con.execute("SELECT count(*), sum(x), max(y), max(z) FROM t").fetchall()[0][0] \
            == 6_000_000
        read_mb = _cached(con) / 2**20
    assert read_mb > 50
    assert _cached(anchor) / 2**20 < read_mb / 4
    limit = anchor.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    assert limit.startswith("286.")  # 300 MB, as DuckDB prints it (MiB)
    anchor.execute("BEGIN TRANSACTION")
    anchor.execute("INSERT INTO t SELECT range, range, range FROM range(1000000)")
    with warehouse.get_connection() as con:
        assert con.execute("SELECT count(*) FROM t").fetchall()[0][0] == 6_000_000
    assert anchor.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == limit
    anchor.execute("COMMIT")
    assert anchor.execute("SELECT count(*) FROM t").fetchall()[0][0] == 7_000_000
    anchor.close()
