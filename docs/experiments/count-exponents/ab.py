"""A/B: what the gateway reader's test for a plainly written integer costs, the old one (no
point: one strpos) against the present one (no point and no '-' past the first character:
two), on one spend log of the benchmark's data, alternating which goes first.

Each round times ``CREATE TEMP TABLE ... AS`` the file's roll-up (``litellm_csv.rollup_sql``,
what the ingest runs on a first read) in a fresh in-memory DuckDB, in wall and CPU seconds.

    .venv/bin/python docs/experiments/count-exponents/ab.py \
        warehouse/bench/10000000/landing/gateway/spend_logs_2026_01.csv 10
"""
from __future__ import annotations

import resource
import statistics
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from pipelines.lib import litellm_csv  # noqa: E402
from pipelines.lib.duck import prepare  # noqa: E402

PRESENT = litellm_csv._plain_integer_sql


def old(text: str) -> str:
    return f"(strpos({text}, '.') = 0)"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    path, rounds = Path(sys.argv[1]), int(sys.argv[2])
    columns = litellm_csv.csv_columns(path)
    seen: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    for i in range(rounds):
        for name in ("old", "new") if i % 2 == 0 else ("new", "old"):
            litellm_csv._plain_integer_sql = old if name == "old" else PRESENT
            sql = "CREATE OR REPLACE TEMP TABLE g AS " + litellm_csv.rollup_sql(columns)
            con = prepare(duckdb.connect(":memory:"))
            cpu0, wall0 = cpu_seconds(), time.perf_counter()
            con.execute(sql, {"path": str(path)})
            wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
            totals = con.execute("SELECT count(*), sum(input_tokens) FROM g").fetchone()
            con.close()
            seen[name].append((wall, cpu))
            print(f"round {i + 1} {name}: {wall:.2f} s wall, {cpu:.2f} CPU s, {totals}",
                  flush=True)
    for name, figures in seen.items():
        print(f"{name}: median {statistics.median(w for w, _ in figures):.2f} s wall, "
              f"{statistics.median(c for _, c in figures):.2f} CPU s")


if __name__ == "__main__":
    main()
