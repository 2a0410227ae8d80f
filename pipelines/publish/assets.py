"""Publish layer: the read-only copy BI tools open, replaced atomically at the end of a refresh."""

import datetime as dt
import os
import queue
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.lib.duck import file_format, run, table_exists
from pipelines.lib.incremental import changed_days, replace_days
from pipelines.marts.assets import DAY_OF_ROW
from pipelines.resources import WAREHOUSE_POOL, RadarConfig, WarehouseResource
from pipelines.settings import PUBLISH_STORAGE_VERSION, today_utc

#: what BI sees: every catalog and mart table, and the data-health history
PUBLISHED_SCHEMAS = ("catalog", "marts", "quality")
#: and, of the other layers, what the weekly report sends readers to: the usage and billed
#: rows another export counts at a finer grouping (small: rows exist only where it happens);
#: and the bill counted once, by line item with its quantity (small: a row a day per project,
#: key and line item), which the reconciliation marts sum by day and project
PUBLISHED_TABLES = (("intermediate", "usage_set_aside"), ("intermediate", "billed_set_aside"),
                    ("intermediate", "billed_costs"))
MARTS = ("usage_cost_daily", "deprecated_model_usage", "deprecated_model_callers",
         "replacement_options", "migration_status_weekly", "unpriced_usage",
         "cost_reconciliation", "focus_costs", "accounts")
MART_KEYS = [dg.AssetKey(["marts", m]) for m in MARTS]
#: the order the Parquet files are written in: the largest first (``write_parquet_files``)
PARQUET_ORDER = ("focus_costs", "usage_cost_daily", "deprecated_model_callers",
                 "deprecated_model_usage", "replacement_options", "migration_status_weekly",
                 "unpriced_usage", "cost_reconciliation", "accounts")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: published tables kept up to date day by day, as the warehouse builds them: the day of a row
BY_DAY = {table: day for table, day in DAY_OF_ROW.items() if table.startswith("marts.")}


def _builds(con) -> dict[str, str]:
    """``version:change_seq`` of each day-by-day table as built in the warehouse now."""
    if not table_exists(con, "intermediate.model_builds"):
        return {}
    return {m: f"{v}:{seq}" for m, v, seq in run(
        con, "SELECT model, version, change_seq FROM intermediate.model_builds")}


def _published_builds(con) -> dict[str, str]:
    """The builds the copy attached as ``bi_copy`` was published from ({} if unknown)."""
    try:
        rows = run(con, "SELECT builds FROM bi_copy.main.publish_info")
    except duckdb.Error:  # no copy yet, or one published before builds were recorded
        return {}
    return dict(rows[0][0]) if rows and rows[0][0] else {}


def _update_by_day(con, name: str, published: str, current: str) -> bool:
    """Bring ``bi_copy.<name>`` from the build it was published from to the current one by
    replacing only the days changed in between; False when that is not possible."""
    (old_version, old_seq), (version, seq) = (published.split(":"), current.split(":"))
    if old_version != version:
        return False  # rebuilt in full since: copy it whole
    days = changed_days(con, int(old_seq), int(seq))
    if days:
        replace_days(con, f"bi_copy.{name}", BY_DAY[name], name, days)
    # the copy must now hold exactly the warehouse's rows: else copy the table whole
    return run(con, f"SELECT (SELECT count(*) FROM bi_copy.{name}) = "
                    f"(SELECT count(*) FROM {name})")[0][0]


def published_as_of(publish_dir: Path) -> dt.date | None:
    """The as-of date of the BI copy in ``publish_dir`` (None: none, or unreadable)."""
    path = publish_dir / "radar.duckdb"
    if not path.is_file():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute("SELECT max(as_of) FROM publish_info").fetchall()[0][0]
    except duckdb.Error:
        return None  # damaged or from before publish_info: the publish replaces it


def publish(con, publish_dir: Path, run_id: str, as_of: dt.date,
            storage_version: str = PUBLISH_STORAGE_VERSION) -> dict[str, int]:
    """Write the BI copy under a temporary name, then rename it over the old one.

    A reader that opens ``radar.duckdb`` sees either the previous publish or this one, never a
    mix: the new file is complete (checkpointed, fsynced) before the rename, and a rename within
    one folder is atomic; one that connects across the rename (DuckDB opens the path more than
    once as it connects) reads the previous publish, which the new file keeps whole
    (:func:`_keep_previous_blocks`). Readers holding the old file keep their snapshot until
    they reconnect.

    The new file starts as a byte copy of the previous publish: the small tables are replaced
    whole, the day-by-day marts (``BY_DAY``) get only the days that changed since, when the
    warehouse built them incrementally from the same full build. Then the Parquet files.

    The copy is written in the DuckDB storage format of release ``storage_version``
    (``RADAR_PUBLISH_STORAGE_VERSION``; by default ``v1.0.0``, which every DuckDB from 1.0 on
    reads, not only the 2.0 this project runs). A previous copy in a newer format is not
    reused (DuckDB never lowers a file's format): the copy starts anew.
    """
    publish_dir.mkdir(parents=True, exist_ok=True)
    (publish_dir / "parquet").mkdir(exist_ok=True)
    final_db = publish_dir / "radar.duckdb"
    tmp = publish_dir / f".radar.duckdb.{run_id}.tmp"
    for leftover in publish_dir.glob(".radar.duckdb.*.tmp*"):
        leftover.unlink()  # a crashed publish's partial file; never visible to readers
    if final_db.exists():
        shutil.copyfile(final_db, tmp)
    tables = [(s, t) for s, t in run(con, (
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_type = 'BASE TABLE' "
        "ORDER BY ALL")) if s in PUBLISHED_SCHEMAS or (s, t) in PUBLISHED_TABLES]
    views = [(sc, v, sql) for sc, v, sql in run(con, (
        "SELECT schema_name, view_name, sql FROM duckdb_views() "
        "WHERE database_name = current_database() AND NOT internal ORDER BY ALL"))
        if sc in PUBLISHED_SCHEMAS]
    builds = _builds(con)
    counts: dict[str, int] = {}
    # the version is checked by RadarSettings (vX.Y.Z or latest): safe to write into the SQL.
    # A previous copy in an older format is raised to it; one in a newer format is refused
    attach = f"ATTACH $path AS bi_copy (STORAGE_VERSION '{storage_version}')"
    try:
        run(con, attach, {"path": str(tmp)})
    except duckdb.Error:  # the previous copy is unreadable (truncated, not DuckDB) or in a
        tmp.unlink(missing_ok=True)  # newer format than asked (never lowered): start anew
        run(con, attach, {"path": str(tmp)})
    try:
        published = _published_builds(con)
        for schema, table, kind in run(con, (
                "SELECT table_schema, table_name, table_type FROM information_schema.tables "
                "WHERE table_catalog = 'bi_copy'")):
            # dropped from the warehouse since the last publish, or now a view (a table)
            if kind == "VIEW" or (schema, table) not in tables:
                word = "VIEW" if kind == "VIEW" else "TABLE"
                run(con, f'DROP {word} bi_copy.{schema}."{table}"')
        for schema in sorted({*PUBLISHED_SCHEMAS, *(sc for sc, _ in tables)}):
            run(con, f"CREATE SCHEMA IF NOT EXISTS bi_copy.{schema}")
        for schema, table in tables:  # identifiers come from the catalog, not from input data
            name = f"{schema}.{table}"
            if not (name in BY_DAY and name in published and name in builds
                    and _update_by_day(con, name, published[name], builds[name])):
                run(con, f'CREATE OR REPLACE TABLE bi_copy.{schema}."{table}" AS '
                         f'SELECT * FROM {schema}."{table}"')
            counts[name] = run(con, f'SELECT count(*) FROM {schema}."{table}"')[0][0]
        # views last, over the copied tables: created with the copy as the default database,
        # they read the copy's tables (a view binds in its own database when queried)
        current = run(con, "SELECT current_database()")[0][0]
        run(con, "USE bi_copy")
        try:
            for schema, view, sql in views:
                run(con, sql)  # `CREATE VIEW <schema>.<view> AS ...`, from the catalog
                counts[f"{schema}.{view}"] = run(
                    con, f'SELECT count(*) FROM {schema}."{view}"')[0][0]
        finally:
            run(con, f'USE "{current}"')
        run(con, "CREATE OR REPLACE TABLE bi_copy.main.publish_info AS SELECT $run AS run_id, "
                 "CAST($as_of AS DATE) AS as_of, now() AS published_at, "
                 "$counts::MAP(VARCHAR, BIGINT) AS row_counts, "
                 "$builds::MAP(VARCHAR, VARCHAR) AS builds",
            {"run": run_id, "as_of": as_of, "counts": counts,
             "builds": {k: v for k, v in builds.items() if k in BY_DAY}})
        run(con, "CHECKPOINT bi_copy")
    finally:
        run(con, "DETACH bi_copy")
    _keep_previous_blocks(final_db, tmp)
    _fsync(tmp)
    os.replace(tmp, final_db)
    write_parquet_files(con, publish_dir / "parquet", run_id)
    return counts


#: DuckDB's main header and its two database headers, at the start of a database file
DUCKDB_HEADERS_BYTES = 3 * 4096


def _keep_previous_blocks(previous: Path, new: Path) -> int:
    """Pad ``new`` with ``previous``'s bytes past its end, when it is shorter; return how many.

    A reader connecting as the new copy is renamed over the old can read the old copy's
    headers and then the new copy's blocks: DuckDB opens the path once for the headers and
    again for the blocks (docs/experiments/bi-copy-swap/). The new copy starts as a byte copy
    of the old, and DuckDB writes only into blocks the old headers do not use, so the old
    publish is still whole inside the new file, except where the checkpoint truncated the
    file's free tail: the bytes put back here. Such a reader then sees the previous publish,
    whole, as one that connected a moment earlier. DuckDB ignores the bytes past its own
    blocks, and the next publish's checkpoint truncates them again."""
    try:
        old_size = previous.stat().st_size
    except FileNotFoundError:
        return 0
    new_size = new.stat().st_size
    if new_size >= old_size:
        return 0
    with previous.open("rb") as src, new.open("ab") as dst:
        src.seek(new_size)
        shutil.copyfileobj(src, dst)
    return old_size - new_size


def _write_parquet(con, mart: str, folder: Path, run_id: str) -> None:
    final = folder / f"{mart}.parquet"
    part = final.with_name(f".{mart}.{run_id}.parquet.tmp")
    con.table(f"marts.{mart}").write_parquet(str(part))  # no path text inside SQL
    _fsync(part)
    os.replace(part, final)


def write_parquet_files(con, folder: Path, run_id: str) -> None:
    """One Parquet file per mart, each written under a temporary name and renamed over the
    previous one. Two at a time, each on its own cursor: one write gains little from DuckDB's
    second thread (``focus_costs``, a view computed as it is written: 1.17 s with one thread,
    1.55 s with two, in one measurement); side by side, the two large files took 1.29 s where
    one after the other took 1.81 s, and the whole publish 1.71 s against 1.91 s (medians of
    six; 30M benchmark warehouse). The largest marts go first."""
    cursors = [con.cursor() for _ in range(2)]
    try:
        with ThreadPoolExecutor(max_workers=len(cursors)) as pool:
            free: queue.SimpleQueue = queue.SimpleQueue()
            for cursor in cursors:
                free.put(cursor)

            def write(mart: str) -> None:
                cursor = free.get()
                try:
                    _write_parquet(cursor, mart, folder, run_id)
                finally:
                    free.put(cursor)

            for future in [pool.submit(write, m) for m in PARQUET_ORDER]:
                future.result()  # the first error, after all writes have ended
    finally:
        for cursor in cursors:
            cursor.close()


@dg.asset(
    key=["publish", "bi_copy"], group_name="publish", owners=["team:platform-finops"],
    kinds={"duckdb", "parquet"}, pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["catalog", "model_prices"]), dg.AssetKey(["catalog", "model_price_bands"]),
          dg.AssetKey(["catalog", "model_unit_prices"]),
          dg.AssetKey(["catalog", "model_lifecycle"]), *MART_KEYS],
    output_required=False,
)
def bi_copy(
    context: dg.AssetExecutionContext, radar: RadarConfig, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    """The copy BI tools connect to: `RADAR_PUBLISH_DIR/radar.duckdb` (the catalog, marts and
    quality schemas, the set-aside tables, plus `publish_info`) and
    `RADAR_PUBLISH_DIR/parquet/<mart>.parquet`, each written under a temporary name and
    atomically renamed over the previous copy. Open it read-only; reconnect to see the next
    publish. The DuckDB file is in DuckDB's v1.0.0 storage format unless
    `RADAR_PUBLISH_STORAGE_VERSION` says otherwise: BI tools with a DuckDB 1.x inside open it. It
    never goes back in time: a run as of an earlier day than the copy's (the Monday report of
    the week that ended, a backfill) leaves it as it is. A copy dated after today (a mistyped
    `RADAR_AS_OF`) does not hold the next publishes back."""
    settings = radar.settings()
    newer = published_as_of(settings.publish_dir)
    if newer is not None and settings.as_of < newer <= today_utc():
        context.log.warning(
            f"The BI copy is as of {newer}, after this run's as-of {settings.as_of}: it is kept "
            f"as it is (delete {settings.publish_dir} to publish an earlier day)")
        return
    with warehouse.get_connection() as con:
        counts = publish(con, settings.publish_dir, context.run.run_id, settings.as_of,
                         settings.publish_storage_version)
        storage = file_format(con, settings.publish_dir / "radar.duckdb")
    yield dg.MaterializeResult(metadata={
        "dagster/row_count": sum(counts.values()),
        "path": dg.MetadataValue.path(str(settings.publish_dir / "radar.duckdb")),
        # which DuckDB releases open the copy: "v1.0.0+", every one from 1.0 on
        "duckdb_storage_format": storage or "unknown",
        "parquet_dir": dg.MetadataValue.path(str(settings.publish_dir / "parquet")),
        "tables": dg.MetadataValue.json(counts),
    })


assets = [bi_copy]
