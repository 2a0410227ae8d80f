"""What a refresh computes as of a day does not depend on usage after that day.

A past `RADAR_AS_OF` (a report re-run for an earlier week, a backfill) over a landing folder
that also holds later usage must give what the same day gave when that usage had not come
yet. `marts.unpriced_usage` once counted the later usage (fixed in the thirty-ninth
session); `docs/experiments/fuzz-exports/fuzz.py --as-of` checks 30 random days through the
command line. This keeps one such day in the suite, with the fuzz script's own cut and
queries, so a mart added later is held to it too.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import shutil
from typing import Any

from pipelines.demo.generate import generate
from tests.conftest import REPO, radar_environment, run_job, run_refresh
from tests.exports import AS_OF

_spec = importlib.util.spec_from_file_location(
    "radar_fuzz", REPO / "docs" / "experiments" / "fuzz-exports" / "fuzz.py")
assert _spec is not None and _spec.loader is not None
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)

#: a Wednesday a week before the fixture's as-of: its week, its 28-day window and the
#: demo's retirements all have usage after it in the whole exports
DAY = dt.date.fromisoformat(AS_OF) - dt.timedelta(days=7)


def _as_of_view(root, source, cut: bool) -> dict[str, Any]:
    root.mkdir()
    with radar_environment(root) as env:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            data = path.read_bytes()
            (env.landing / path.name).write_bytes(
                fuzz.cut_at(data, path.suffix, DAY) if cut else data)
        os.environ["RADAR_AS_OF"] = DAY.isoformat()
        os.environ.pop("RADAR_TEAMS_FILE")  # the shipped sample directory, as the demo has
        run_refresh()
        assert run_job("weekly_migration_report").success
        view: dict[str, Any] = {
            name: env.query(f"{q} ORDER BY ALL", {"d": DAY} if "$d" in q else {})
            for name, q in fuzz.AS_OF_QUERIES.items()}
        (report,) = env.reports.glob("*.md")
        view["report"] = report.read_text().split("## 5. Data health")[0]
        view["last_day"] = env.query("SELECT max(usage_date) FROM staging.usage")[0][0]
        return view


def test_nothing_computed_as_of_a_day_depends_on_later_usage(tmp_path):
    demo = tmp_path / "demo"
    generate(demo, dt.date.fromisoformat(AS_OF))
    whole = _as_of_view(tmp_path / "whole", demo, cut=False)
    cut = _as_of_view(tmp_path / "cut", demo, cut=True)
    shutil.rmtree(demo)
    # the whole exports do hold later usage, the cut ones none
    assert whole.pop("last_day") > DAY >= cut.pop("last_day")
    assert whole["deprecated_model_usage"] and whole["migration_status_weekly"]
    assert whole["replacement_options"]
    assert f"As of {DAY.isoformat()}" in whole["report"]
    assert whole == cut
