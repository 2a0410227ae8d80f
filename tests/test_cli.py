"""The contract's command, as an operator runs it: `dagster job execute` from the repo root."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import REPO


def test_radar_refresh_from_the_command_line(fixture_exports):
    env = {**os.environ, **fixture_exports.env()}
    env.pop("DAGSTER_HOME", None)
    proc = subprocess.run(
        [str(REPO / ".venv" / "bin" / "dagster"), "job", "execute", "-m",
         "pipelines.definitions", "-j", "radar_refresh"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "RUN_SUCCESS" in proc.stderr + proc.stdout
    assert fixture_exports.query(
        "SELECT count(*), sum(requests_28d) FROM marts.deprecated_model_usage") == [(4, 152)]
    log = proc.stderr + proc.stdout
    assert "sk-live-abcdefghijklmnop" not in log
    assert "TOP SECRET PROMPT TEXT" not in log
