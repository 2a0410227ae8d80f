"""The Dagster UI's server, started for real on 127.0.0.1: what an operator will see."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import httpx
import pytest

from tests.conftest import REPO, stop_process_group

QUERY = """
{
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        name
        jobs { name }
        schedules { name cronSchedule executionTimezone }
        sensors { name }
        assetNodes {
          assetKey { path }
          groupName
          description
          assetChecksOrError { ... on AssetChecks { checks { name blocking } } }
        }
      }
    }
  }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home),
           "RADAR_WAREHOUSE": str(home / "radar.duckdb")}
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "dagster-webserver"), "-m", "pipelines.definitions",
         "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("dagster-webserver did not start in 90 s")
        yield url
    finally:
        stop_process_group(proc, timeout=20)


def test_ui_lists_jobs_schedules_sensor_and_checks(webserver):
    response = httpx.post(f"{webserver}/graphql", json={"query": QUERY}, timeout=60)
    response.raise_for_status()
    (repo,) = response.json()["data"]["repositoriesOrError"]["nodes"]
    assert {"radar_refresh", "weekly_migration_report", "openai_api_sync"} <= {
        j["name"] for j in repo["jobs"]}
    schedules = {s["name"]: (s["cronSchedule"], s["executionTimezone"])
                 for s in repo["schedules"]}
    assert schedules["daily_refresh_schedule"] == ("0 6 * * *", "UTC")
    assert schedules["weekly_report_schedule"] == ("0 7 * * 1", "UTC")
    assert schedules["daily_sync_schedule"] == ("30 5 * * *", "UTC")
    assert "landing_folder_sensor" in {s["name"] for s in repo["sensors"]}
    nodes = {"/".join(a["assetKey"]["path"]): a for a in repo["assetNodes"]}
    assert nodes["marts/deprecated_model_usage"]["groupName"] == "marts"
    assert all(a["description"] for a in nodes.values())
    checks = {c["name"]: c["blocking"] for a in nodes.values()
              for c in (a["assetChecksOrError"].get("checks") or [])}
    assert checks["staging_usage_is_valid"] is True
    assert checks["unpriced_share_is_small"] is False
    assert len(checks) >= 9
