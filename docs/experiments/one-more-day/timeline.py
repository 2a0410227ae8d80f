"""What one more day's refresh is made of: where its seconds go, from the process's start to
its exit (sixty-second session, 2026-12-08).

    RADAR_AS_OF=2026-12-08 .venv/bin/python docs/experiments/one-more-day/timeline.py \
        30000000 5 [--code DIR]

Uses the benchmark's data (``warehouse/bench/N``, made by ``benchmarks/run.py``) and its
command. Refreshes the history (as of the day before ``RADAR_AS_OF``) into a fresh warehouse
once and keeps a copy of it; then, each round, puts that copy back, lands the next day's
files (the benchmark's ``next_day``) and runs ``radar_refresh`` as the benchmark does, with
one difference: a Dagster instance folder of its own (the benchmark's run uses the CLI's
temporary one, which is deleted at its exit), so that the run's event log can be read
afterwards. From it and the wall clock around the command each round prints:

- start: the command's start to the run's first event (Python, the imports, the instance,
  the job's definition, the run's record);
- planned: the first event to the first step's start (the run's ``*_PLANNED`` events, one
  per asset and per check, then the resources);
- steps: the first step's start to the last step's end, with the steps' own seconds (their
  ``STEP_SUCCESS`` durations) and the slowest;
- exit: the last step's end to the command's exit (the run's closing events, the resources'
  teardown, the validation worker's end, the interpreter's);
- CPU seconds of the process tree (user + system, its children included).

``--code DIR`` runs the refreshes (the history's too) with the code and venv of another
checkout (``git worktree add DIR <commit> && (cd DIR && ./scripts/bootstrap.sh)``), on this
checkout's data: ``ab-run57-code.log`` alternates the code of the fifty-seventh run
(30020df) with this one's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "benchmarks"))
import run as bench  # noqa: E402


def _events(home: Path) -> list[tuple[float, str, str | None, bytes]]:
    (db,) = [p for p in (home / "history" / "runs").glob("*.db") if p.name != "index.db"]
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT timestamp, dagster_event_type, step_key, event "
                           "FROM event_logs ORDER BY id").fetchall()
    return [(dt.datetime.fromisoformat(t).replace(tzinfo=dt.UTC).timestamp(),
             kind, step, event) for t, kind, step, event in rows]


def refresh_cmd(code: Path) -> list[str]:
    """The benchmark's command, with ``code``'s venv (run from ``code``: Dagster imports the
    code location from the working directory)."""
    return [str(code / ".venv" / "bin" / "dagster"), *bench.REFRESH_CMD[1:]]


def one_round(workdir: Path, landing: Path, history: Path, code: Path) -> dict:
    from dagster._serdes import deserialize_value  # the project venv's Dagster

    shutil.rmtree(workdir / "wh", ignore_errors=True)
    shutil.copytree(history, workdir / "wh")
    for sub in ("gateway", "usage_api"):
        for f in (workdir / "next_day" / sub).iterdir():
            shutil.copy2(f, landing / sub / f.name)
    home = workdir / "dagster_home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    shutil.copy2(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {**bench.refresh_env(workdir, landing, bench.AS_OF), "DAGSTER_HOME": str(home)}
    os.sync()
    try:
        (cpu0, _), start = bench._children_usage(), time.time()
        proc = subprocess.run(refresh_cmd(code), env=env, cwd=code, capture_output=True,
                              text=True)
        end, cpu = time.time(), bench._children_usage()[0] - cpu0
    finally:
        for stray in landing.rglob(f"*{bench.NEXT_DAY}*"):
            stray.unlink()
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-4000:])
    events = _events(home)
    first = events[0][0]
    step_start = {step: t for t, kind, step, _ in events if kind == "STEP_START"}
    own = {step: deserialize_value(e.decode() if isinstance(e, bytes) else e)
           .dagster_event.event_specific_data.duration_ms / 1000
           for _, kind, step, e in events if kind == "STEP_SUCCESS"}
    first_step = min(step_start.values())
    last_step = max(t for t, kind, _, _ in events if kind == "STEP_SUCCESS")
    return {"wall": end - start, "cpu": cpu, "start": first - start,
            "planned": first_step - first, "steps": last_step - first_step,
            "own": sum(own.values()), "n_steps": len(own), "n_events": len(events),
            "exit": end - last_step, "slowest": sorted(own.items(), key=lambda kv: -kv[1])[:4]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", type=int)
    parser.add_argument("rounds", type=int)
    parser.add_argument("--code", type=Path, default=REPO)
    args = parser.parse_args()
    rows, rounds, code = args.rows, args.rounds, args.code.resolve()
    workdir = REPO / "warehouse" / "bench" / str(rows)
    landing = bench.generate(workdir, rows)
    for stray in landing.rglob(f"*{bench.NEXT_DAY}*"):
        stray.unlink()
    shutil.rmtree(workdir / "wh", ignore_errors=True)
    started = time.time()
    subprocess.run(refresh_cmd(code), env=bench.refresh_env(workdir, landing,
                                                            bench.HISTORY_AS_OF),
                   cwd=code, check=True, capture_output=True)
    print(f"{rows:,} rows: the history's full refresh {time.time() - started:.1f} s "
          f"(the code of {code})", flush=True)
    history = workdir / "history_wh"
    shutil.rmtree(history, ignore_errors=True)
    shutil.copytree(workdir / "wh", history)
    results = []
    for i in range(rounds):
        r = one_round(workdir, landing, history, code)
        results.append(r)
        slow = ", ".join(f"{k} {v:.2f}" for k, v in r["slowest"])
        print(f"round {i + 1}: wall {r['wall']:.2f} s ({r['cpu']:.1f} CPU s) = start "
              f"{r['start']:.2f} + planned {r['planned']:.2f} + steps {r['steps']:.2f} "
              f"({r['n_steps']} steps, their own {r['own']:.2f}; slowest: {slow}) + exit "
              f"{r['exit']:.2f}; {r['n_events']} events", flush=True)
    print("medians: " + ", ".join(
        f"{k} {statistics.median(r[k] for r in results):.2f}"
        for k in ("wall", "cpu", "start", "planned", "steps", "own", "exit")))
    shutil.rmtree(history, ignore_errors=True)


if __name__ == "__main__":
    main()
