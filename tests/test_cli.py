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


def test_the_demo_summary_says_how_old_the_catalog_is(fixture_refresh):
    """The end of `make demo`: the top deprecated-model users, and the catalog's age, with
    a warning once it is older than RADAR_CATALOG_MAX_AGE_DAYS."""
    import datetime as dt
    import subprocess
    import sys

    from tests.conftest import REPO
    from tests.test_report import catalog_known_through

    fixture_exports, _ = fixture_refresh
    known = catalog_known_through()
    env = fixture_exports.env()

    def summary(max_age: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "pipelines.demo.summary"], cwd=REPO,
                              env={**env, "RADAR_CATALOG_MAX_AGE_DAYS": max_age},
                              capture_output=True, text=True, check=True)
        return proc.stdout

    age = (dt.date.fromisoformat(env["RADAR_AS_OF"]) - known).days
    out = summary(str(age))
    assert "| alpha | completions | gpt-4o-2024-08-06 | deprecated | 50 | 100 |" in out
    # which DuckDB releases open the BI copy, read from the file
    assert (f"  BI copy (read-only):      {fixture_exports.publish / 'radar.duckdb'}, DuckDB "
            "storage v1.0.0+: DuckDB 1.0.0 or later opens it\n") in out
    assert "\nCallers behind them: 4 (source, project, API key, user and route; see " in out
    assert "Unpriced usage: 1 model/endpoint pair, 1 request (see" in out
    assert (f"Catalog: knows of retirements announced up to {known} ({age} days before "
            "as-of") in out
    assert "more than RADAR_CATALOG_MAX_AGE_DAYS" not in out
    assert f"That is more than RADAR_CATALOG_MAX_AGE_DAYS ({age - 1})" in summary(str(age - 1))
