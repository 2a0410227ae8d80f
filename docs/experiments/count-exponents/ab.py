"""A/B/C: what the gateway reader's test for a plainly written integer costs, on one spend
log of the benchmark's data: the old test (no point: one strpos), two strpos (no point, no
'-' past the first character: commit 976f3b6) and the present regular expression
(``litellm_csv._plain_integer_sql``: digits alone), the order rotating round by round.

Each round times ``CREATE TEMP TABLE ... AS`` the file's roll-up (``litellm_csv.rollup_sql``,
what the ingest runs on a first read) in a fresh in-memory DuckDB, in wall and CPU seconds.

    .venv/bin/python docs/experiments/count-exponents/ab.py \
        warehouse/bench/10000000/landing/gateway/spend_logs_2026_01.csv 12
"""
from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from pipelines.lib import litellm_csv  # noqa: E402
from pipelines.lib.duck import prepare  # noqa: E402

VARIANTS: dict[str, Callable[[str], str]] = {
    "one strpos": lambda t: f"(strpos({t}, '.') = 0)",
    "two strpos": lambda t: f"(strpos({t}, '.') = 0 AND strpos({t}, '-') < 2)",
    "present": litellm_csv._plain_integer_sql,
}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    path, rounds = Path(sys.argv[1]), int(sys.argv[2])
    columns = litellm_csv.csv_columns(path)
    names = list(VARIANTS)
    seen: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for i in range(rounds):
        for name in names[i % len(names):] + names[:i % len(names)]:
            litellm_csv._plain_integer_sql = VARIANTS[name]
            sql = "CREATE OR REPLACE TEMP TABLE g AS " + litellm_csv.rollup_sql(columns)
            con = prepare(duckdb.connect(":memory:"))
            cpu0, wall0 = cpu_seconds(), time.perf_counter()
            con.execute(sql, {"path": str(path)})
            wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
            totals = con.execute("SELECT count(*), sum(input_tokens) FROM g").fetchone()
            con.close()
            seen[name].append((wall, cpu))
            print(f"round {i + 1} {name}: {wall:.3f} s wall, {cpu:.3f} CPU s, {totals}",
                  flush=True)
    for name, figures in seen.items():
        print(f"{name}: median {statistics.median(w for w, _ in figures):.3f} s wall, "
              f"{statistics.median(c for _, c in figures):.3f} CPU s, "
              f"fastest {min(w for w, _ in figures):.3f} s")


if __name__ == "__main__":
    main()
