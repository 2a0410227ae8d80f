"""The contract's command, as an operator runs it: `dagster job execute` from the repo root."""

from __future__ import annotations

from tests.conftest import run_cli_job


def test_radar_refresh_from_the_command_line(fixture_exports):
    proc = run_cli_job(fixture_exports.env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "RUN_SUCCESS" in proc.stderr + proc.stdout
    assert fixture_exports.query(
        "SELECT count(*), sum(requests_28d) FROM marts.deprecated_model_usage") == [(4, 152)]
    log = proc.stderr + proc.stdout
    assert "sk-live-abcdefghijklmnop" not in log
    assert "TOP SECRET PROMPT TEXT" not in log
