"""Publish layer: the read-only copy BI tools open, replaced atomically at the end of a refresh."""

import datetime as dt
import os
from pathlib import Path

import dagster as dg

from pipelines.lib.duck import run
from pipelines.resources import WAREHOUSE_POOL, RadarConfig, WarehouseResource

#: what BI sees: every catalog and mart table, and the data-health history
PUBLISHED_SCHEMAS = ("catalog", "marts", "quality")
MARTS = ("usage_cost_daily", "deprecated_model_usage", "migration_status_weekly",
         "unpriced_usage", "cost_reconciliation", "focus_costs")
MART_KEYS = [dg.AssetKey(["marts", m]) for m in MARTS]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(con, publish_dir: Path, run_id: str, as_of: dt.date) -> dict[str, int]:
    """Write the BI copy under temporary names, then rename each file over the old one.

    A reader that opens ``radar.duckdb`` sees either the previous publish or this one, never a
    mix: the new file is complete (checkpointed, fsynced) before the rename, and a rename within
    one folder is atomic. Readers holding the old file keep their snapshot until they reconnect.
    """
    publish_dir.mkdir(parents=True, exist_ok=True)
    (publish_dir / "parquet").mkdir(exist_ok=True)
    tmp = publish_dir / f".radar.duckdb.{run_id}.tmp"
    for leftover in publish_dir.glob(".radar.duckdb.*.tmp*"):
        leftover.unlink()  # a crashed publish's partial file; never visible to readers
    tables = [(s, t) for s, t in run(con, (
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_type = 'BASE TABLE' "
        "ORDER BY ALL")) if s in PUBLISHED_SCHEMAS]
    counts: dict[str, int] = {}
    run(con, "ATTACH $path AS bi_copy", {"path": str(tmp)})
    try:
        for schema in PUBLISHED_SCHEMAS:
            run(con, f"CREATE SCHEMA IF NOT EXISTS bi_copy.{schema}")
        for schema, table in tables:  # identifiers come from the catalog, not from input data
            run(con, f'CREATE TABLE bi_copy.{schema}."{table}" AS SELECT * FROM {schema}."{table}"')
            counts[f"{schema}.{table}"] = run(con, f'SELECT count(*) FROM {schema}."{table}"')[0][0]
        run(con, "CREATE TABLE bi_copy.main.publish_info AS SELECT $run AS run_id, "
                 "CAST($as_of AS DATE) AS as_of, now() AS published_at, "
                 "$counts::MAP(VARCHAR, BIGINT) AS row_counts",
            {"run": run_id, "as_of": as_of, "counts": counts})
        run(con, "CHECKPOINT bi_copy")
    finally:
        run(con, "DETACH bi_copy")
    _fsync(tmp)
    os.replace(tmp, publish_dir / "radar.duckdb")
    for mart in MARTS:
        final = publish_dir / "parquet" / f"{mart}.parquet"
        part = final.with_name(f".{mart}.{run_id}.parquet.tmp")
        con.table(f"marts.{mart}").write_parquet(str(part))  # no path text inside SQL
        _fsync(part)
        os.replace(part, final)
    return counts


@dg.asset(
    key=["publish", "bi_copy"], group_name="publish", owners=["team:platform-finops"],
    kinds={"duckdb", "parquet"}, pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["catalog", "model_prices"]), dg.AssetKey(["catalog", "model_lifecycle"]),
          *MART_KEYS],
)
def bi_copy(
    context: dg.AssetExecutionContext, radar: RadarConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The copy BI tools connect to: `RADAR_PUBLISH_DIR/radar.duckdb` (the catalog, marts and
    quality schemas, plus `publish_info`) and `RADAR_PUBLISH_DIR/parquet/<mart>.parquet`, each
    written under a temporary name and atomically renamed over the previous copy. Open it
    read-only; reconnect to see the next publish."""
    settings = radar.settings()
    with warehouse.get_connection() as con:
        counts = publish(con, settings.publish_dir, context.run.run_id, settings.as_of)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": sum(counts.values()),
        "path": dg.MetadataValue.path(str(settings.publish_dir / "radar.duckdb")),
        "parquet_dir": dg.MetadataValue.path(str(settings.publish_dir / "parquet")),
        "tables": dg.MetadataValue.json(counts),
    })


assets = [bi_copy]
