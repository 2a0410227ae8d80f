from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.exports import AS_OF, TEAMS, write_fixture_exports

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def stop_process_group(proc: subprocess.Popen, timeout: float) -> None:
    """SIGTERM the process group of ``proc`` (started with ``start_new_session=True``), then
    SIGKILL it if it is still there after ``timeout`` seconds."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def unique_dict(pairs: Iterable[tuple[Hashable, object]]) -> dict:
    """``dict(pairs)`` of query rows, failing on a key seen twice: ``dict`` keeps the last of
    them, in whichever order DuckDB returned the rows, and a test reading it would pass or
    fail by chance (a batch and a non-batch row of one day and model once did)."""
    out: dict = {}
    for key, value in pairs:
        assert key not in out, f"{key!r} is in two rows: {out[key]!r} and {value!r}"
        out[key] = value
    return out


@dataclass
class RadarEnv:
    root: Path
    landing: Path
    warehouse: Path
    publish: Path
    reports: Path
    teams: Path

    def env(self) -> dict[str, str]:
        return {
            "RADAR_LANDING_DIR": str(self.landing),
            "RADAR_WAREHOUSE": str(self.warehouse),
            "RADAR_PUBLISH_DIR": str(self.publish),
            "RADAR_REPORTS_DIR": str(self.reports),
            "RADAR_TEAMS_FILE": str(self.teams),
            "RADAR_AS_OF": os.environ.get("RADAR_AS_OF", AS_OF),
        }

    def query(self, sql: str, params: dict | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql, params or {}).fetchall()
        finally:
            con.close()


def _radar_env(root: Path, monkeypatch: pytest.MonkeyPatch) -> RadarEnv:
    env = RadarEnv(root, root / "landing", root / "wh" / "radar.duckdb",
                   root / "published", root / "reports", root / "teams.csv")
    env.landing.mkdir()
    env.teams.write_text(TEAMS)
    monkeypatch.setenv("RADAR_AS_OF", AS_OF)
    for key, value in env.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("RADAR_CATALOG_OVERRIDES", raising=False)
    monkeypatch.delenv("RADAR_LIFECYCLE_OVERRIDES", raising=False)
    monkeypatch.delenv("RADAR_REQUEST_LEDGER_DAYS", raising=False)
    monkeypatch.delenv("RADAR_CATALOG_MAX_AGE_DAYS", raising=False)
    return env


@pytest.fixture
def radar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RadarEnv:
    """A private landing folder, warehouse, publish and report folder, set in the environment."""
    return _radar_env(tmp_path, monkeypatch)


@contextmanager
def radar_environment(root: Path) -> Iterator[RadarEnv]:
    """What `radar` gives a test, for a fixture shared by the tests of a module that only read
    what one run wrote: the environment is set inside the `with` only."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield _radar_env(root, monkeypatch)


@pytest.fixture
def fixture_exports(radar: RadarEnv) -> RadarEnv:
    write_fixture_exports(radar.landing)
    return radar


def cli_job_command(job_name: str = "radar_refresh") -> list[str]:
    """`dagster job execute` of one of the code location's jobs, run from the repo root."""
    return [str(REPO / ".venv" / "bin" / "dagster"), "job", "execute", "-m",
            "pipelines.definitions", "-j", job_name]


def run_cli_job(env: dict[str, str], job_name: str = "radar_refresh"):
    """`dagster job execute` from the repo root, as an operator runs it (no DAGSTER_HOME)."""
    import subprocess

    env = {**os.environ, **env}
    env.pop("DAGSTER_HOME", None)
    return subprocess.run(cli_job_command(job_name), cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


def run_job(job_name: str = "radar_refresh") -> dg.ExecuteInProcessResult:
    """Build the code location from the current environment and run one of its jobs for real,
    on an in-memory Dagster instance as `dg.materialize` uses: the same run, its events kept
    in memory instead of SQLite files (a small refresh 8-11 s -> 3-4 s here, on a VM where
    each SQLite commit waits for the disk). The command-line, crash, daemon and webserver
    tests run on file-backed instances."""
    from pipelines.definitions import build_defs

    defs = build_defs()
    job = defs.resolve_job_def(job_name)
    return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def run_refresh() -> dg.ExecuteInProcessResult:
    """`radar_refresh` in this process; it must succeed."""
    result = run_job("radar_refresh")
    assert result.success, [
        e.event_specific_data for e in result.all_events if e.is_failure
    ]
    return result


@pytest.fixture
def refresh() -> Callable[[], dg.ExecuteInProcessResult]:
    return run_refresh


@pytest.fixture(scope="session")
def fixture_refresh(tmp_path_factory) -> tuple[RadarEnv, dg.ExecuteInProcessResult]:
    """One refresh of the fixture exports per test process, and its run's result, shared by
    the tests of every module that only read what it wrote (its tables, its BI copy, its
    events). A test that changes anything takes `fixture_exports` and refreshes itself."""
    with radar_environment(tmp_path_factory.mktemp("fixture_refresh")) as env:
        write_fixture_exports(env.landing)
        result = run_refresh()
    return env, result


#: the test modules with the longest tests (`pytest --durations=0`: the queued runs, the tiny
#: benchmark, the property cases, the crash, publish and command-line runs, ...), collected
#: first. pytest-xdist's worksteal gives each worker a contiguous half of the collection and
#: steals from the end of a queue, so the last tests the workers run are then short ones,
#: not a 20-50 s test on one core while the other idles. Sampled every 5 s, the two cores
#: were 2-6% idle through the suite either way; at its end, 17-69% idle for ~35 s with the
#: modules in name order, ~10 s with these first (small: 11:55 and 11:36 on a slow VM).
SLOW_MODULES_FIRST = ("test_concurrent_runs", "test_benchmark", "test_properties",
                      "test_crash", "test_publish", "test_as_of_independence",
                      "test_unit_pricing", "test_report", "test_cli", "test_sync")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_MODULES_FIRST)}
    # a stable sort: each module's tests stay together and in their order
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand its count to the controller
        from tests import test_properties

        workeroutput["property_cases"] = test_properties.CASES["tried"]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """xdist controller (it runs no test itself): add up the workers' counts."""
    from tests import test_properties

    test_properties.CASES["tried"] += getattr(node, "workeroutput", {}).get("property_cases", 0)


def pytest_terminal_summary(terminalreporter):
    from tests import test_properties

    tried = test_properties.CASES["tried"]
    if tried:
        terminalreporter.write_line(f"property-based cases tried: {tried}")
