"""Is the polars floor at the daily grain written fairly? ``run.py`` takes its three metadata
fields from one ``json_decode`` into a struct; the (day, team, model) floor used one
``json_path_match``.

    .venv/bin/python docs/experiments/daily-grain-floor/polars_paths.py path|struct LANDING

``path``: three ``json_path_match`` calls instead of the struct; ``struct``: the floor as
``run.py`` has it. Prints the floor's result and its seconds (peak RSS: run it under
``/usr/bin/time -f %M``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "benchmarks"))

import polars as pl  # noqa: E402
import run  # noqa: E402  (benchmarks/run.py)

_struct_columns = run._polars_gateway


def _field(name: str) -> pl.Expr:
    return pl.col("metadata").str.json_path_match(f"$.{name}")


def _or_field(column: str, name: str) -> pl.Expr:
    """The column when it is not empty, else the metadata field ``name``."""
    return (pl.when(pl.col(column).fill_null("") != "").then(pl.col(column))
            .otherwise(_field(name)))


def _path_columns(grain: str) -> list[pl.Expr]:
    """run.py's daily-grain gateway columns, the metadata fields by path."""
    cols = _struct_columns(grain)
    if grain != "daily":
        return cols
    # run.py's order: usage_date, source, team, project_id, user_id, then the rest
    return [cols[0], cols[1], _or_field("team_id", "user_api_key_team_alias").alias("team"),
            _field("user_api_key_project_id").alias("project_id"),
            _or_field("user", "user_api_key_user_id").alias("user_id"), *cols[5:]]


def main() -> None:
    variant, landing = sys.argv[1], Path(sys.argv[2])
    if variant == "path":
        run._polars_gateway = _path_columns
    started = time.perf_counter()
    run.run_floor_polars(landing, "daily")
    print(variant, round(time.perf_counter() - started, 2))


if __name__ == "__main__":
    main()
