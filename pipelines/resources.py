"""Resources, defined once: the run's settings, the DuckDB warehouse and great-expectations."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from pipelines.lib.duck import prepare, run
from pipelines.quality import gx
from pipelines.settings import RadarSettings

#: every asset that writes the working DuckDB file declares this pool (see dagster.yaml)
WAREHOUSE_POOL = "radar_warehouse"


def run_start_day(start_time: float | None, created: dt.datetime | None) -> dt.date | None:
    """The UTC day a run started (``start_time``, seconds since the epoch, as Dagster's run
    storage records it), else the day it was created; None for neither (no run)."""
    if start_time is not None:
        return dt.datetime.fromtimestamp(start_time, dt.UTC).date()
    return created.astimezone(dt.UTC).date() if created is not None else None


class RadarConfig(dg.ConfigurableResource):
    """The contract's RADAR_* settings. Empty fields fall back to the environment variable of
    the same name, then to the default. The default as-of (today, UTC) is the day the run
    started, the same for every step and check of the run: a run started before midnight
    whose last steps run after it reports one day throughout (until 2026-12-07 each call read
    the clock), and a long-lived `dagster dev` never reports against the day it was started."""

    as_of: str = ""
    _run_day: dt.date | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        record = (context.instance.get_run_record_by_id(context.run_id)
                  if context.instance is not None and context.run_id else None)
        self._run_day = (run_start_day(record.start_time, record.create_timestamp)
                         if record is not None else None)

    def settings(self) -> RadarSettings:
        return RadarSettings.from_env(as_of=self.as_of or None, today=self._run_day)


class WarehouseResource(DuckDBResource):
    """dagster-duckdb's resource, with our session settings (UTC) and the folder created.

    For the length of a run it keeps one connection open, so the short-lived connection of
    every step attaches to the same open database instead of opening the file again (and
    checkpointing it on every close): on a large warehouse that is most of a step's fixed
    cost. Writes are still one transaction each; nothing else changes for a crash.
    """

    _anchor: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self.database != ":memory:":
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
            self._anchor = duckdb.connect(self.database, config=self._config())

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._anchor is not None:
            self._anchor.close()
            self._anchor = None

    def _config(self) -> dict:
        return {"custom_user_agent": "dagster", **self.connection_config}

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one step. When the step leaves DuckDB's buffer pool holding
        `KEEP_CACHED_BYTES` or more, its writes (if any) are checkpointed into the file and
        the pool released before the next step starts: rows waiting for a checkpoint stay in
        the buffer pool, and at 10M requests the marts left there made the publish read them
        back from spill (2.3 s -> 1.5 s) and the one checkpoint at the end take 1.35 s (one
        per writing step: ~0.5 s in all)."""
        if self.database != ":memory:":
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        with super().get_connection() as con:
            yield prepare(con)
            if self.database != ":memory:" and _cached_bytes(con) >= KEEP_CACHED_BYTES:
                if _wal_bytes(self.database):
                    with suppress(duckdb.Error):  # another connection's transaction is open:
                        run(con, "CHECKPOINT")    # DuckDB checkpoints later by itself
                self._release_buffer_pool(con)

    def _release_buffer_pool(self, con: duckdb.DuckDBPyConnection) -> None:
        """Hand the blocks the step left cached in DuckDB's buffer pool back to the OS. The
        run keeps the database open from step to step, and without this the next step would
        add its working memory on top of everything the earlier ones read (the peak of a
        10M-request refresh came at the marts and the publish, not at the ingest). Lowering
        the memory limit evicts the unpinned blocks, which are all in the file once
        checkpointed: 53 ms for 300 MB of them, under 1 ms for a few; the next step reads
        what it needs from the file again."""
        (limit,) = run(con, "SELECT current_setting('memory_limit')")[0]
        limit = str(self.connection_config.get("memory_limit", limit)).replace("'", "''")
        try:
            run(con, "SET memory_limit = '16MB'")
        except duckdb.Error:  # blocks still pinned or not yet written: they stay cached
            pass
        finally:
            run(con, f"SET memory_limit = '{limit}'")


#: what the steps of a run may leave in DuckDB's buffer pool for the next ones: below it, a
#: step's writes wait in the write-ahead log for a later checkpoint (DuckDB's own, a later
#: step's or the run's end) and its cached blocks stay. A small refresh then skips the
#: checkpoint and the release of ~40 steps (~8 ms each here); a large one (tens of MB a step
#: from ~1M requests) does both after every step that reaches it. What it costs there: the
#: 10M-request refresh peaked at 1,048-1,050 MB, against 1,024-1,031 MB with both after
#: every step (two runs each, alternating)
KEEP_CACHED_BYTES = 64 << 20


def _cached_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """The bytes DuckDB's buffer pool holds now (the whole database's, every connection's)."""
    (cached,) = run(con, "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()")[0]
    return int(cached)


def _wal_bytes(database: str) -> int:
    try:
        return os.path.getsize(f"{database}.wal")
    except OSError:
        return 0


#: new landing bytes from which an ingest is "long" (~1M gateway requests, several seconds)
LONG_INGEST_BYTES = 256 << 20


class GreatExpectationsResource(dg.ConfigurableResource):
    """great-expectations for the asset checks. When a run that has checks starts, it starts
    the validation worker (`pipelines.quality.gx`): GX's multi-second import then happens in
    another process, on the other core, while the catalog and the ingest run. With
    `in_worker: false` the suites run in the run's own process."""

    in_worker: bool = True

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self.in_worker:
            gx.start_worker()

    def ingest_ahead(self, bytes_to_read: int) -> bool:
        """An ingest of ``bytes_to_read`` is about to start. A long one (over
        `LONG_INGEST_BYTES`) outlasts GX's import by far, so the worker yields the CPU to it:
        the import then uses the time the ingest leaves idle instead of taking a core from
        DuckDB (10M requests: ingest 16.5 -> 15.7 s). A short one leaves the worker as it is:
        the run will soon wait for it. Whether the worker was deprioritised."""
        return (self.in_worker and bytes_to_read >= LONG_INGEST_BYTES
                and gx.lower_worker_priority())

    def run_suite(self, name: str, frame: pl.DataFrame,
                  expectations: Sequence[gx.ExpectationSpec]) -> gx.SuiteOutcome:
        """Run the suite (see `pipelines.quality.gx.validate`)."""
        if self.in_worker:
            return gx.validate(name, frame, expectations)
        return gx.validate_here(name, frame, expectations)


def default_resources(settings: RadarSettings) -> dict[str, object]:
    return {
        "radar": RadarConfig(),
        "gx": GreatExpectationsResource(),
        # DuckDB spills to `<warehouse>.tmp/` beyond the memory limit instead of growing: a
        # refresh of tens of millions of gateway rows stays within a fixed footprint
        "warehouse": WarehouseResource(
            database=str(settings.warehouse),
            connection_config={"memory_limit": settings.duckdb_memory_limit,
                               "preserve_insertion_order": False, "threads": os.cpu_count() or 2},
        ),
    }
