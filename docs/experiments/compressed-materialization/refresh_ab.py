"""The 10M refresh as benchmarks/run.py measures it, from two checkouts of the code taken in
turn: one as committed (compressed materialization off) and one with
``DISABLED_OPTIMIZERS = ""`` in pipelines/lib/duck.py (on). Fifty-fourth session:

    git worktree add /tmp/wt_off HEAD && git worktree add /tmp/wt_on HEAD
    sed -i 's/^DISABLED_OPTIMIZERS = .*/DISABLED_OPTIMIZERS = ""/' /tmp/wt_on/pipelines/lib/duck.py
    RADAR_AS_OF=2026-12-07 .venv/bin/python \
        docs/experiments/compressed-materialization/refresh_ab.py /tmp/wt_off /tmp/wt_on 3
"""
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))
from benchmarks import run as b  # noqa: E402

landing = REPO / "warehouse" / "bench" / "10000000" / "landing"
trees = {"off": Path(sys.argv[1]), "on": Path(sys.argv[2])}
rounds = int(sys.argv[3])
scratch = Path(tempfile.mkdtemp(prefix="refresh-ab-"))
for i in range(rounds):
    for name in ("off", "on") if i % 2 == 0 else ("on", "off"):
        work = scratch / name
        shutil.rmtree(work, ignore_errors=True)
        (work / "wh").mkdir(parents=True)
        here = os.getcwd()
        os.chdir(trees[name])  # `dagster job execute -m pipelines.definitions` imports from it
        try:
            m = b.measure(b.REFRESH_CMD, b.refresh_env(work, landing, b.HISTORY_AS_OF))
        finally:
            os.chdir(here)
        print(f"{name}: {m.seconds:.2f} s, peak {m.peak_mb:.0f} MB, {m.cpu_s:.1f} CPU s, "
              f"steal {m.steal_s:.2f} s, success {'RUN_SUCCESS' in m.output}", flush=True)
shutil.rmtree(scratch, ignore_errors=True)
