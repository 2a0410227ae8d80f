"""Where one gateway file's time goes: the refresh's stages for it against the floor's.

    .venv/bin/python benchmarks/gap.py --rows 30000000 [--repeat 3]
    .venv/bin/python benchmarks/gap.py --file PATH [--repeat 3]

Issue 6's marginal target compares the seconds the refresh adds as the gateway data grows
with the seconds the floor adds (``benchmarks/run.py``). Nearly all that the refresh adds
per row is the ingest of gateway files (docs/benchmarks.md), so the gap can be taken apart
on one file. On one LiteLLM spend-log file (with ``--rows N``, the largest of
``run.py``'s data for N rows, generated if missing), each stage in a process of its own,
after the file has been read once so that it comes from the page cache:

- ``floor-duckdb`` and ``floor-polars``: ``run.py``'s two floors over this file alone (no
  Usage API pages): a typed read, three metadata paths, priced by date range, summed to the
  daily grain of ``marts.usage_cost_daily`` (until 2026-12-04: to the day, team and model,
  with one metadata path). The floor is the faster of the two;
- ``read``: the ingest's read of the file and nothing else: the columns it reads
  (``litellm_csv.read_sql``, all as text), each value touched once (its length), no check,
  no grouping. What the ingest cannot do without, whatever it computes;
- ``rollup-no-keys``: the ingest's roll-up of the file (``litellm_csv.rollup_sql``: every
  value checked, with a reason when it fails, and the dimensions every mart uses) without the
  request keys, kept in a temporary table as the ingest keeps it;
- ``rollup``: the same with the request keys (the digest of every request id);
- ``sha256``: the file's digest, which tells a new export from one already loaded;
- ``ingest``: ``ingest_landing`` of the file alone into a new warehouse file, with a run's
  DuckDB settings: the file's sha256, the roll-up, the request ledger and its uniqueness
  check, the staged rows, the commit and the checkpoint. A lone file waits for its sha256;
  in a run of several files each is hashed while DuckDB parses the one before (on two cores
  the hashing thread shares them with DuckDB's two threads).

Each stage is timed inside its process, from its DuckDB connection to the end of its work
(the process's start and imports are not counted), in wall seconds and in the CPU seconds of
all the process's threads over the same span, and reports its token totals, which must
agree (``** THEY DIFFER **`` otherwise). With ``--repeat K`` the stages run K times,
interleaved, and each figure is the fastest (the CPU seconds are those of the fastest round).
Prints a table (seconds, CPU seconds and their ratios to the floor), what the gap is made of,
then one JSON line: file, rows, repeat, the fastest seconds of every stage and their CPU
seconds (``*_cpu_s``), floor_s, ratio (the ingest over the floor: the marginal target asks
for at most 1.5 per row), cpu_ratio (the same in CPU seconds) and the totals.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

STAGES = ("floor-duckdb", "floor-polars", "read", "rollup-no-keys", "rollup", "sha256",
          "ingest")
#: the marginal target: the refresh's added seconds at most this many times the floor's
TARGET = 1.5


def _bench() -> ModuleType:
    """``benchmarks/run.py``, imported as a module (it is a script, not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("radar_benchmark", REPO / "benchmarks" /
                                                  "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- the stages

def _connector() -> Callable[[], duckdb.DuckDBPyConnection]:
    """What opens an in-memory database with the settings a run's warehouse connection has.
    The settings are read (which imports Dagster) before a stage starts its clock; the
    connection is opened after."""
    import duckdb

    from pipelines.lib.duck import prepare
    from pipelines.resources import WarehouseResource, default_resources
    from pipelines.settings import RadarSettings

    warehouse = default_resources(RadarSettings.from_env())["warehouse"]
    assert isinstance(warehouse, WarehouseResource)
    config = dict(warehouse.connection_config)
    return lambda: prepare(duckdb.connect(config=config))


class _Clock:
    """Wall and CPU seconds (all the process's threads: DuckDB's and the hashing one) since
    it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def elapsed(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def _read(path: Path) -> tuple[tuple[float, float], int]:
    """The ingest's read of the file alone: every column it reads, every value touched."""
    from pipelines.lib.litellm_csv import USED_COLUMNS, csv_columns, read_sql

    touched = ", ".join(f'max(length("{c}"))' for c in USED_COLUMNS)
    connect = _connector()
    clock = _Clock()
    con = connect()
    (rows, *_) = con.execute(f"SELECT count(*), {touched} FROM ({read_sql(csv_columns(path))})",
                             {"path": str(path)}).fetchall()[0]
    return clock.elapsed(), int(rows)


def _rollup(path: Path, request_keys: bool) -> tuple[tuple[float, float], int, int, int]:
    from pipelines.lib.litellm_csv import csv_columns, rollup_sql

    connect = _connector()
    clock = _Clock()
    con = connect()
    con.execute("CREATE TEMP TABLE gateway_groups AS "
                + rollup_sql(csv_columns(path), request_keys=request_keys), {"path": str(path)})
    seconds = clock.elapsed()
    rows, input_tokens, output_tokens = con.execute(
        "SELECT sum(rows_read), sum(input_tokens), sum(output_tokens) FROM gateway_groups"
    ).fetchall()[0]
    return seconds, int(rows), int(input_tokens), int(output_tokens)


def _ingest(path: Path) -> tuple[tuple[float, float], int, int, int]:
    """The file alone through ``ingest_landing``, on the warehouse resource a run uses."""
    with tempfile.TemporaryDirectory(prefix="radar-gap-") as tmp:
        landing = Path(tmp) / "landing" / "gateway"
        landing.mkdir(parents=True)
        (landing / path.name).symlink_to(path.resolve())
        os.environ["RADAR_WAREHOUSE"] = str(Path(tmp) / "wh" / "radar.duckdb")
        from pipelines.lib.ingest import ingest_landing
        from pipelines.resources import WarehouseResource, default_resources
        from pipelines.settings import RadarSettings

        warehouse = default_resources(RadarSettings.from_env())["warehouse"]
        assert isinstance(warehouse, WarehouseResource)
        clock = _Clock()
        with warehouse.get_connection() as con:
            (outcome,) = ingest_landing(con, landing.parent)
            seconds = clock.elapsed()
            input_tokens, output_tokens = con.execute(
                "SELECT sum(input_tokens), sum(output_tokens) FROM staging.usage").fetchall()[0]
        if outcome.status != "loaded":
            raise SystemExit(f"the file did not load: {outcome}")
        return seconds, outcome.rows_read, int(input_tokens), int(output_tokens)


def stage_cmd(stage: str, path: Path) -> list[str]:
    """This script, run as one stage over the gateway file ``path``, in a process of its own."""
    return [sys.executable, str(Path(__file__).resolve()), "--file", str(path), "--stage", stage]


def run_stage(stage: str, path: Path) -> dict:
    """One stage over ``path``: its wall and CPU seconds (the work alone), rows read and
    token totals (None where the stage does not count them)."""
    rows = None
    if stage.startswith("floor-"):
        bench = _bench()
        clock = _Clock()
        if stage == "floor-duckdb":
            _, input_tokens, output_tokens, _ = bench.floor_duckdb(str(path), None)
        else:
            _, input_tokens, output_tokens, _ = bench.floor_polars(str(path), [])
        seconds = clock.elapsed()
    elif stage == "ingest":
        seconds, rows, input_tokens, output_tokens = _ingest(path)
    elif stage == "read":
        seconds, rows = _read(path)
        input_tokens = output_tokens = None
    elif stage == "sha256":
        from pipelines.lib.ingest import sha256_of

        clock = _Clock()
        sha256_of(path)
        seconds = clock.elapsed()
        input_tokens = output_tokens = None
    else:
        seconds, rows, input_tokens, output_tokens = _rollup(path, stage == "rollup")
    return {"stage": stage, "seconds": seconds[0], "cpu_s": seconds[1], "rows": rows,
            "input_tokens": None if input_tokens is None else int(input_tokens),
            "output_tokens": None if output_tokens is None else int(output_tokens)}


# ----------------------------------------------------------------------------- main

def largest_gateway_file(rows: int) -> Path:
    """The largest gateway file of ``run.py``'s data for ``rows`` rows (generated if missing)."""
    landing = _bench().generate(REPO / "warehouse" / "bench" / str(rows), rows)
    return max((landing / "gateway").glob("*.csv"), key=lambda p: p.stat().st_size)


def summarize(path: Path, rounds: list[dict[str, dict]]) -> dict:
    """The fastest seconds of every stage (and that round's CPU seconds), the floor, the
    ratios and the totals."""
    # rounded once: the ratio is that of the figures printed
    fastest = {s: min((r[s] for r in rounds), key=lambda m: m["seconds"]) for s in STAGES}
    best = {s: round(m["seconds"], 3) for s, m in fastest.items()}
    cpu = {s: round(m["cpu_s"], 3) for s, m in fastest.items()}
    floor_stage = min(("floor-duckdb", "floor-polars"), key=lambda s: best[s])
    floor_s = best[floor_stage]
    totals = {(r[s]["input_tokens"], r[s]["output_tokens"]) for r in rounds for s in STAGES
              if r[s]["input_tokens"] is not None}
    rows = {r[s]["rows"] for r in rounds for s in STAGES if r[s]["rows"] is not None}
    return {
        "file": str(path), "rows": rows.pop() if len(rows) == 1 else sorted(rows),
        "repeat": len(rounds),
        **{f"{s.replace('-', '_')}_s": best[s] for s in STAGES},
        **{f"{s.replace('-', '_')}_cpu_s": cpu[s] for s in STAGES},
        "floor_s": floor_s, "floor_cpu_s": cpu[floor_stage],
        "ratio": round(best["ingest"] / floor_s, 2),
        "cpu_ratio": round(cpu["ingest"] / cpu[floor_stage], 2) if cpu[floor_stage] else None,
        "totals_agree": len(totals) == 1,
        "input_tokens": sorted(totals)[0][0], "output_tokens": sorted(totals)[0][1],
    }


def report(result: dict) -> None:
    floor = result["floor_s"]
    rows = result["rows"]
    print(f"\n{result['file']}: {rows:,} requests, fastest of {result['repeat']} round(s)\n")
    floor_cpu = result["floor_cpu_s"] or float("nan")
    print("| stage | seconds | x floor | µs per request | CPU s | x floor's CPU s | cores |\n"
          "|---|---:|---:|---:|---:|---:|---:|")
    for stage in STAGES:
        s = result[f"{stage.replace('-', '_')}_s"]
        c = result[f"{stage.replace('-', '_')}_cpu_s"]
        print(f"| {stage} | {s:.2f} | {s / floor:.2f} | {s / rows * 1e6:.2f} | {c:.2f} "
              f"| {c / floor_cpu:.2f} | {c / s if s else float('nan'):.2f} |")
    parts = [
        ("reading the columns the ingest reads, as text (read - floor)",
         result["read_s"] - floor),
        ("checks and dimensions (rollup-no-keys - read)",
         result["rollup_no_keys_s"] - result["read_s"]),
        ("request keys (rollup - rollup-no-keys)",
         result["rollup_s"] - result["rollup_no_keys_s"]),
        ("the file's sha256 (sha256)", result["sha256_s"]),
        ("ledger, staged rows, commit, checkpoint (ingest - rollup - sha256)",
         result["ingest_s"] - result["rollup_s"] - result["sha256_s"]),
    ]
    print(f"\nthe ingest costs {result['ratio']:.2f}x the floor "
          f"(the marginal target: at most {TARGET}x; in CPU seconds "
          f"{result['ingest_cpu_s'] / floor_cpu:.2f}x); over the floor's {floor:.2f} s:")
    for name, seconds in parts:
        print(f"  {seconds:+.2f} s  {name}")
    room = TARGET * floor
    print(f"at {TARGET}x the ingest would have {room:.2f} s for this file; reading its "
          f"columns alone takes {result['read_s']:.2f} s, the roll-up without request keys "
          f"{result['rollup_no_keys_s']:.2f} s")
    if not result["totals_agree"]:
        print("** THEY DIFFER **: the stages' token totals do not agree")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="a LiteLLM spend-log CSV file")
    source.add_argument("--rows", type=int,
                        help="use the largest gateway file of run.py's data for this size")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of all the stages; each figure is the fastest round's")
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = args.file if args.file is not None else largest_gateway_file(args.rows)
    if args.stage:
        print(json.dumps(run_stage(args.stage, path)))
        return

    _bench().warm_page_cache(path)  # into the page cache, for every stage alike
    rounds = []
    for number in range(1, args.repeat + 1):
        measured = {}
        for stage in STAGES:
            os.sync()  # what the previous stage wrote is not flushed during this one
            out = subprocess.run(stage_cmd(stage, path), capture_output=True, text=True,
                                 check=True, cwd=REPO)
            measured[stage] = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"round {number}: {stage} {measured[stage]['seconds']:.2f} s", flush=True)
        rounds.append(measured)
    result = summarize(path, rounds)
    report(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
