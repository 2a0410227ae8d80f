"""Is the floor as fast as it could be written? The price join before the aggregation (as
``benchmarks/run.py`` writes both floors) against after it (twenty-second session,
2026-12-04; ``floor-order.log``).

    .venv/bin/python docs/experiments/daily-grain-floor/floor_order.py \
        'warehouse/bench/10000000/landing/gateway/*.csv' [ROUNDS]

A day's usage of one model has one price, so the cost can be computed per group after the
aggregation as well as per request before it. Over the gateway files only (no Usage API
pages), each way reports its groups, token totals and cost, which must agree: the DuckDB
floor (``FLOOR_PRICED`` against the aggregate first), then the polars floor (``_polars_gateway``
joined then grouped, against grouped then joined). Wall and CPU seconds (all threads).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
import run as bench  # noqa: E402

KEYS = list(bench.GRAINS["daily"])


def _duckdb(query: str, gateway: str) -> tuple:
    con = bench.floor_connection()
    con.execute(f"CREATE TEMP TABLE result AS {query}", {"gateway": gateway})
    return con.execute("SELECT count(*), sum(input_tokens), sum(output_tokens), "
                       "round(sum(cost_usd), 2) FROM result").fetchone()


def duckdb_ways() -> dict[str, Callable[[str], tuple]]:
    keys = ", ".join(f"u.{k}" for k in KEYS)
    requests = bench.FLOOR_REQUESTS["daily"]
    grouped = f"""
    WITH g AS (SELECT {', '.join(KEYS)}, sum(input_tokens) AS input_tokens,
                      sum(output_tokens) AS output_tokens FROM ({requests}) GROUP BY ALL)
    SELECT {keys}, u.input_tokens, u.output_tokens,
           (u.input_tokens * p.input_usd_per_1m + u.output_tokens * p.output_usd_per_1m) / 1e6
               AS cost_usd
    FROM g u LEFT JOIN prices p ON p.model = u.model AND u.usage_date >= p.valid_from
         AND (p.valid_to IS NULL OR u.usage_date < p.valid_to)
    """
    joined = bench.FLOOR_PRICED.format(keys=keys, usage=requests)
    return {"duckdb join-then-agg": lambda g: _duckdb(joined, g),
            "duckdb agg-then-join": lambda g: _duckdb(grouped, g)}


def _prices() -> pl.LazyFrame:
    return pl.read_csv(bench._prices_csv(), infer_schema=False).filter(
        pl.col("service_tier").is_null()).select(
        "model", pl.col("valid_from").str.to_date(), pl.col("valid_to").str.to_date(),
        pl.col("input_usd_per_1m").cast(pl.Float64),
        pl.col("output_usd_per_1m").cast(pl.Float64)).lazy()


IN_RANGE = pl.col("valid_from").is_null() | (
    (pl.col("usage_date") >= pl.col("valid_from"))
    & (pl.col("valid_to").is_null() | (pl.col("usage_date") < pl.col("valid_to"))))
COST = (pl.col("input_tokens") * pl.col("input_usd_per_1m")
        + pl.col("output_tokens") * pl.col("output_usd_per_1m")) / 1e6


def _polars(gateway: str, aggregate_first: bool) -> tuple:
    usage = pl.scan_csv(gateway, infer_schema=False).select(
        bench._polars_gateway("daily")).select([*KEYS, "input_tokens", "output_tokens"])
    sums = [pl.col("input_tokens").sum(), pl.col("output_tokens").sum()]
    if aggregate_first:
        query = (usage.group_by(KEYS).agg(sums).join(_prices(), on="model", how="left")
                 .filter(IN_RANGE).with_columns(COST.alias("cost_usd")))
    else:
        query = (usage.join(_prices(), on="model", how="left").filter(IN_RANGE)
                 .group_by(KEYS).agg(*sums, COST.sum().alias("cost_usd")))
    out = query.collect(engine="streaming")
    return (len(out), out["input_tokens"].sum(), out["output_tokens"].sum(),
            round(out["cost_usd"].sum(), 2))


def main() -> None:
    gateway = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    ways = {**duckdb_ways(),
            "polars join-then-agg": lambda g: _polars(g, False),
            "polars agg-then-join": lambda g: _polars(g, True)}
    for number in range(rounds):
        for name, way in ways.items():
            wall, cpu = time.perf_counter(), time.process_time()
            result = way(gateway)
            print(f"r{number} {name:22} {time.perf_counter() - wall:6.2f}s cpu "
                  f"{time.process_time() - cpu:6.2f}  {result}", flush=True)


if __name__ == "__main__":
    main()
