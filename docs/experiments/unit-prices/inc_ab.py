"""A/B: full refresh then one more day, code at 5fee603 (a worktree at /tmp/s44/old, made with
`git worktree add /tmp/s44/old 5fee603` and its .venv linked to the project's) vs /work/main."""
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, "/work/main")
from benchmarks.run import AS_OF, HISTORY_AS_OF, NEXT_DAY, measure, refresh_env, step_seconds

rows = sys.argv[1] if len(sys.argv) > 1 else "10000000"
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
work = Path(f"/work/main/warehouse/bench/{rows}")
landing = work / "landing"
STEPS = ("intermediate__usage_daily", "intermediate__usage_priced", "marts__usage_cost_daily",
         "ingest_landing_folder", "publish__bi_copy")
for r in range(rounds):
    order = (("old", "/tmp/s44/old"), ("new", "/work/main"))
    for name, repo in (order if r % 2 == 0 else order[::-1]):
        wd = Path("/tmp/s44/ab_wh")
        shutil.rmtree(wd, ignore_errors=True)
        cmd = [f"{repo}/.venv/bin/dagster", "job", "execute", "-m", "pipelines.definitions",
               "-j", "radar_refresh"]
        cwd = os.getcwd()
        os.chdir(repo)
        try:
            full = measure(cmd, refresh_env(wd, landing, HISTORY_AS_OF))
            for sub in ("gateway", "usage_api"):
                for f in (work / "next_day" / sub).iterdir():
                    shutil.copy2(f, landing / sub / f.name)
            try:
                inc = measure(cmd, refresh_env(wd, landing, AS_OF))
            finally:
                for stray in landing.rglob(f"*{NEXT_DAY}*"):
                    stray.unlink()
        finally:
            os.chdir(cwd)
        fs, ins = step_seconds(full.output), step_seconds(inc.output)
        print(f"{name} full {full.seconds:.1f}s ({full.cpu_s:.1f} cpu) inc {inc.seconds:.2f}s "
              f"({inc.cpu_s:.1f} cpu) | full " +
              " ".join(f"{s.split('__')[-1]}={fs.get(s, 0):.2f}" for s in STEPS) + " | inc " +
              " ".join(f"{s.split('__')[-1]}={ins.get(s, 0):.2f}" for s in STEPS), flush=True)
