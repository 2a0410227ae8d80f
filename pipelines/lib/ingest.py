"""Load the landing folder into staging, file by file, exactly once.

Pure of Dagster: takes a DuckDB connection and a folder, returns what happened to each file.

Rules
* A file is identified by (path, sha256). A file already in ``staging.ingested_files`` is
  skipped; the same content at a second path is recorded as ``duplicate`` and not read.
* Every file is loaded in **one transaction**: its usage and cost rows, its rejected rows and
  its manifest row commit together or not at all, so a crash never leaves half a file.
* OpenAI rows are keyed by the contract's bucket identity. A key that is already loaded with
  exactly the same values is an exact duplicate (counted, not loaded); a key loaded with other
  values is replaced: the newest file wins. A bucket of the same dimensions over the same time
  with another start or width (``_resolve_spans``) gives way to the bucket that covers it.
* Gateway requests are rolled up to the day as they are parsed (one pass over the file); their
  identity is kept in the request ledger ``staging.gateway_requests`` (see ``_load_gateway``).
  The ledger may be kept to its last N days (``trim_request_ledger``); a request from before
  that horizon arriving later is quarantined, since it cannot be told from one already counted.
* Accounting: for every file, ``rows_read = rows_loaded + rows_rejected + rows_duplicate``.
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import hashlib
import lzma
import shutil
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import polars as pl

from pipelines.lib import dashboard_csv, litellm_csv, openai_directory, openai_pages
from pipelines.lib.duck import column_names, memory_limit_bytes, run_script, transaction
from pipelines.lib.duck import run as _x
from pipelines.lib.formats import (
    DASHBOARD_CSV,
    LITELLM_CSV,
    OPENAI_JSON,
    OPENAI_KEYS,
    OPENAI_PROJECTS,
    OPENAI_USERS,
    SHEET_ENCODING,
    StrayQuote,
    check_row_widths,
    compression_of,
    csv_error_text,
    detect_format,
    repair_text,
    text_repairs,
)
from pipelines.lib.redact import redact, sql_mask, sql_redact
from pipelines.lib.schema import (
    AUDIO_TOKENS,
    CACHE_WRITE_1H_TOKENS,
    CACHE_WRITE_TOKENS,
    IMAGE_TOKENS,
    NOT_MODEL_USAGE,
    PROMPT_BAND,
    SURPLUS_REASON,
    TOKEN_PARTS,
)

SKIP_SUFFIXES = (".tmp", ".part", ".crdownload", ".swp")
#: what operating systems and office programs leave beside files: a spreadsheet's lock file
#: (``~$activity.csv`` while Excel has it open), folder thumbnails and settings
SKIP_PREFIXES = ("~$",)
SKIP_NAMES = frozenset({"Thumbs.db", "desktop.ini"})

#: columns of ``staging.usage`` that make two rows with the same key "the same usage"
USAGE_VALUE_COLUMNS = (
    "endpoint", "route", "bucket_start", "bucket_end", "project_id", "user_id", "api_key_id",
    "model", "is_batch", "service_tier", "extra_dims", "litellm_team_id", "team_alias",
    "requests", "failed_requests", "input_tokens", "cached_input_tokens", "output_tokens",
    *TOKEN_PARTS, "units", "unit",
)
USAGE_COLUMNS = (
    "dedupe_key", "file_id", "position", "source", "endpoint", "route", "bucket_start",
    "bucket_end", "usage_date", "project_id", "user_id", "api_key_id", "model", "is_batch",
    "service_tier", "extra_dims", "litellm_team_id", "team_alias", "requests",
    "failed_requests", "input_tokens", "cached_input_tokens", "output_tokens", *TOKEN_PARTS,
    "units", "unit",
)
#: identifiers that could hold a pasted credential: masked on the way in
MASKED_COLUMNS = {"project_id", "user_id", "api_key_id", "litellm_team_id", "team_alias",
                  "model", "route", "line_item", "service_tier", "extra_dims", "key_alias",
                  "key_owner", "project_name", "user_name", "model_map_key"}
#: the bucket identity without its start: two buckets of the same dimensions whose time spans
#: overlap describe the same usage (see ``_resolve_spans``)
USAGE_DIMENSIONS = ("endpoint", "project_id", "user_id", "api_key_id", "model", "is_batch",
                    "service_tier", "extra_dims")
COST_DIMENSIONS = ("project_id", "api_key_id", "line_item")
COST_VALUE_COLUMNS = ("bucket_start", "bucket_end", "project_id", "api_key_id", "line_item",
                      "amount_usd", "currency", "quantity", "quantity_unit")
COST_COLUMNS = ("dedupe_key", "file_id", "position", "source", "bucket_start", "bucket_end",
                "usage_date", "project_id", "api_key_id", "line_item", "amount_usd", "currency",
                "quantity", "quantity_unit")


#: the OpenAI organisations the loaded exports name (the dashboard's, in
#: ``staging.openai_organizations``), each with how many files name it and the first of them
#: by path. More than one in a landing folder and their usage may be counted once where it
#: is two (the bucket key has no organisation): the check
#: ``one_organisation_per_landing_folder`` and the weekly report say so.
ORGANISATIONS_SQL = """
    SELECT o.organization_id, count(*) AS files, min(f.path) AS first_file
    FROM staging.openai_organizations AS o
    JOIN staging.ingested_files AS f USING (file_id)
    WHERE f.status = 'loaded'
    GROUP BY o.organization_id ORDER BY o.organization_id"""


@dataclass(frozen=True)
class FileOutcome:
    path: str
    sha256: str
    format: str | None
    status: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rows_duplicate: int
    error: str | None
    usage_dates: tuple[dt.date, ...] = ()
    #: of rows_rejected, the rows that are not model usage (no data problem): gateway calls
    #: to rerank or to manage files, a CSV's repeated header line
    rows_not_usage: int = 0
    #: read again because older readers rejected it whole (:func:`retry_rejected_files`)
    retried: bool = False
    #: how the file's text was read when it was not plain UTF-8 (decompressed, decoded from
    #: UTF-16 or Windows-1252, line ends repaired); in the manifest's ``note`` too
    note: str | None = None


@dataclass
class _Counts:
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    duplicate: int = 0
    not_usage: int = 0  # of rejected: calls that are not model usage


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def discover(landing_dir: Path) -> list[Path]:
    """Candidate export files under ``landing_dir``, oldest modification first.

    Hidden files, partial downloads, office lock files, folder thumbnails and settings
    (``SKIP_*``) are skipped; processing oldest first means that when two files carry the
    same bucket, the newest file is applied last and wins.
    """
    if not landing_dir.is_dir():
        return []
    files = [
        p for p in landing_dir.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(landing_dir).parts)
        and not p.name.endswith(SKIP_SUFFIXES)
        and not p.name.startswith(SKIP_PREFIXES)
        and p.name not in SKIP_NAMES
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, str(p)))


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    run_script(con, "staging/create_staging_tables")
    _move_manifest_organisations(con)


def _move_manifest_organisations(con: duckdb.DuckDBPyConnection) -> None:
    """For a while on 2026-12-07 the manifest kept the organisations a dashboard export names
    in a list column, ``organization_ids``, and the files loaded before their names were kept
    (``staging.openai_organizations``) have them only there: move them there (name not
    known: NULL), then drop the column. A working file without the column is left as is."""
    if "organization_ids" not in column_names(con, "staging.ingested_files"):
        return
    with transaction(con):
        _x(con, """
            INSERT INTO staging.openai_organizations
            SELECT DISTINCT unnest(organization_ids), NULL, file_id
            FROM staging.ingested_files
            WHERE status = 'loaded' AND organization_ids IS NOT NULL
              AND file_id NOT IN (SELECT file_id FROM staging.openai_organizations)""")
        _x(con, "ALTER TABLE staging.ingested_files DROP COLUMN organization_ids")


#: Raised when a reader learns to read files it rejected whole: the first ingest of the new
#: version reads such files again (:func:`retry_rejected_files`). 1: until 2026-12-05;
#: 2: UTF-16 and doubled carriage returns, line breaks inside a spend log's quoted values,
#: Usage API pages appended one after another. 3: dashboard sheets in Windows-1252.
READER_VERSION = 3

#: the manifest note for each way a file's text is made readable (:func:`_plain_content`)
READ_NOTES = {"gzip": "decompressed (gzip)", "bz2": "decompressed (bz2)",
              "xz": "decompressed (xz)", "utf-16": "decoded from UTF-16",
              "cr-cr-lf": "doubled carriage returns read as one line end",
              SHEET_ENCODING: "decoded from Windows-1252 (not UTF-8)"}

#: the manifest note of a file read again after an upgrade of the readers (followed by when
#: an older version rejected it): the weekly report tells these rejections from new ones
RETRY_NOTE = "read again after an upgrade of the readers"


def retry_rejected_files(con: duckdb.DuckDBPyConnection, present: set[str],
                         now: dt.datetime) -> dict[str, dt.datetime]:
    """When this warehouse was last ingested into by older readers, forget the files they
    rejected whole that are still in the landing folder (``present``: resolved paths), so
    this ingest reads them again; return their paths, each with when it was rejected.
    Nothing of such a file was loaded, so reading it again cannot count anything twice. A
    warehouse without a recorded version was last written by version 1."""
    (last,) = _x(con, "SELECT max(reader_version) FROM staging.reader_versions")[0]
    if last is not None and last >= READER_VERSION:
        return {}
    with transaction(con):
        retried = [(file_id, path, at) for file_id, path, at in _x(
            con, "SELECT file_id, path, ingested_at FROM staging.ingested_files "
                 "WHERE status = 'rejected' ORDER BY file_id") if path in present]
        ids = [file_id for file_id, _, _ in retried]
        if ids:
            _x(con, "DELETE FROM staging.rejected_rows WHERE file_id IN (SELECT unnest($ids))",
               {"ids": ids})
            _x(con, "DELETE FROM staging.ingested_files WHERE file_id IN "
                    "(SELECT unnest($ids))", {"ids": ids})
        _x(con, "INSERT INTO staging.reader_versions VALUES ($v, $now)",
           {"v": READER_VERSION, "now": now})
    return {path: at for _, path, at in retried}


class FileRejected(Exception):
    """A whole file that cannot be loaded, for the reason given (recorded as it is)."""


class FileChanged(Exception):
    """The file changed between the listing and the end of its ingest (a copy still being
    written): nothing of it is kept, and the next run reads it."""


@dataclass(frozen=True)
class LedgerTrim:
    kept_from: dt.date | None  # the request ledger's horizon in force (None: never trimmed)
    removed: int               # request keys this trim removed


def ledger_horizon(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The first day the request ledger still has every key of (None: it was never
    trimmed). Only ever moves forward."""
    return _x(con, "SELECT max(kept_from) FROM staging.request_ledger_trims")[0][0]


def trim_request_ledger(con: duckdb.DuckDBPyConnection, kept_from: dt.date | None,
                        now: dt.datetime | None = None) -> LedgerTrim:
    """Remove the request keys of the days before ``kept_from`` (``RADAR_REQUEST_LEDGER_DAYS``:
    the ledger is ~17 bytes a request, nine tenths of a warehouse of gateway logs). The staged
    usage of those days stays as it is. The horizon never moves back, whatever ``kept_from``
    a later run asks for (an earlier as-of): keys once removed are gone."""
    ensure_tables(con)
    current = ledger_horizon(con)
    if kept_from is None or (current is not None and kept_from <= current):
        return LedgerTrim(current, 0)
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with transaction(con):
        (removed,) = _x(con, "DELETE FROM staging.gateway_requests WHERE usage_date < $d",
                        {"d": kept_from})[0]
        _x(con, "INSERT INTO staging.request_ledger_trims VALUES ($d, $n, $now)",
           {"d": kept_from, "n": removed, "now": now})
    return LedgerTrim(kept_from, removed)


def ingest_landing(
    con: duckdb.DuckDBPyConnection, landing_dir: Path, now: dt.datetime | None = None,
    run_id: str | None = None, on_start: Callable[[int], object] | None = None,
) -> list[FileOutcome]:
    """Ingest every new file under ``landing_dir``; return one outcome per file looked at.

    A file whose path, size and modification time match its manifest row is not read again
    (not even hashed). The others are hashed one file ahead, in a thread, while DuckDB parses
    the current one (hashlib and DuckDB both release the GIL). ``on_start`` is told how many
    bytes are to be read before the first one is. Gateway requests from before the request
    ledger's horizon (``trim_request_ledger``) are quarantined. After an upgrade of the readers
    the files older ones rejected whole are read again (:func:`retry_rejected_files`).
    """
    ensure_tables(con)
    clear_scratch(con)
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    paths = [(path, str(path.resolve())) for path in discover(landing_dir)]
    retried = retry_rejected_files(con, {key for _, key in paths}, now)
    seen = {
        (p, s) for p, s in _x(con, "SELECT path, sha256 FROM staging.ingested_files")
    }
    unchanged = {
        (p, size, mtime) for p, size, mtime in _x(
            con, "SELECT path, size_bytes, modified_at FROM staging.ingested_files")
    }
    first_path = dict(
        _x(con,
            "SELECT sha256, arg_min(path, file_id) FROM staging.ingested_files "
            "WHERE status <> 'duplicate' GROUP BY sha256"
        )
    )
    todo = []
    to_read = 0
    for path, key in paths:
        try:
            size, mtime = _file_meta(path)
        except OSError:
            continue  # vanished since the listing
        if (key, size, mtime) not in unchanged:
            todo.append((path, key, (size, mtime)))
            to_read += size
    if on_start is not None and todo:
        on_start(to_read)
    outcomes: list[FileOutcome] = []
    # each file commits to the write-ahead log (durable, replayed after a crash). Rows not
    # yet checkpointed stay in DuckDB's buffer pool, so the threshold is a quarter of the
    # memory limit: a small file does not pay a checkpoint of its own (at 1M requests a
    # checkpoint per file cost 1.3 s in all), and a year of large files never fills the pool
    # with the request ledger (a 4 GB threshold made the parse of the last files spill:
    # 44.9 s -> 38.9 s for the 30M benchmark's ingest, docs/benchmarks-history.md)
    (threshold,) = _x(con, "SELECT current_setting('checkpoint_threshold')")[0]
    batch = max(16 << 20, memory_limit_bytes(con) // 4)
    _x(con, f"SET checkpoint_threshold = '{batch // (1 << 20)}MiB'")
    # where this ingest's manifest rows start: only a run after an upgrade needs it
    first_new = _next_file_id(con) if retried else 0
    try:
        _ingest_files(con, todo, seen, first_path, now, run_id, outcomes)
    finally:
        _x(con, f"SET checkpoint_threshold = '{threshold}'")
    for retried_key, rejected_at in retried.items():
        # the manifest rows this ingest wrote for a file read again say so, and when an
        # older version rejected it (its first rejection is no longer in the manifest)
        _x(con, "UPDATE staging.ingested_files SET note = concat_ws('; ', note, $note) "
                "WHERE file_id >= $first AND path = $path",
           {"note": f"{RETRY_NOTE} (rejected whole on {rejected_at:%Y-%m-%d} by an older "
                    "version)", "first": first_new, "path": retried_key})
    if outcomes:
        _x(con, "CHECKPOINT")
    return [replace(o, retried=True) if o.path in retried else o for o in outcomes]


def _ingest_files(con, todo, seen, first_path, now, run_id, outcomes) -> None:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as hasher:
        digests = [hasher.submit(sha256_of, path) for path, _, _ in todo]
        for (path, key, meta), digest in zip(todo, digests, strict=True):
            try:
                sha = digest.result()
            except OSError as exc:  # vanished or unreadable: try again next run
                outcomes.append(FileOutcome(key, "", None, "skipped", 0, 0, 0, 0, str(exc)))
                continue
            if (key, sha) in seen:
                continue
            try:
                if sha in first_path:
                    outcome = _record_duplicate(con, path, key, sha, first_path[sha], now,
                                                run_id, meta)
                else:
                    outcome = ingest_file(con, path, key, sha, now, run_id, meta)
            except FileChanged as exc:  # nothing of it was kept: the next run reads it
                outcome = FileOutcome(key, sha, None, "skipped", 0, 0, 0, 0, str(exc))
            outcomes.append(outcome)
            if outcome.status != "skipped":
                first_path.setdefault(sha, key)
                seen.add((key, sha))


def _next_file_id(con: duckdb.DuckDBPyConnection) -> int:
    return _x(con, "SELECT coalesce(max(file_id), 0) + 1 FROM staging.ingested_files")[0][0]


def _file_meta(path: Path) -> tuple[int, dt.datetime]:
    st = path.stat()
    return st.st_size, dt.datetime.fromtimestamp(st.st_mtime, dt.UTC).replace(tzinfo=None)


def _manifest(con, file_id, key, sha, fmt, status, c: _Counts, error, path, now, run_id,
              dup_of=None, meta: tuple[int, dt.datetime] | None = None,
              note: str | None = None):
    """The file's manifest row, written last in the transaction that loads, rejects or
    records it: if the file's size or modification time is no longer ``meta`` (what the
    listing saw), it was being written while it was read, and :class:`FileChanged` rolls the
    transaction back."""
    try:
        size, mtime = _file_meta(path)
    except FileNotFoundError as exc:
        raise FileChanged("removed while it was read: nothing of it was kept") from exc
    if meta is not None and (size, mtime) != meta:
        raise FileChanged(f"changed while it was read (size {meta[0]:,} -> {size:,} bytes, "
                          f"modified {meta[1]} -> {mtime}): still being written? Nothing of "
                          "it was kept; the next run reads it")
    _x(con, 
        "INSERT INTO staging.ingested_files (file_id, path, sha256, format, status, rows_read, "
        "rows_loaded, rows_rejected, rows_duplicate, error, size_bytes, modified_at, "
        "ingested_at, duplicate_of, run_id, note) VALUES "
        "($file_id, $path, $sha, $fmt, $status, $read, $loaded, $rejected, $dup, $error, $size, "
        "$mtime, $now, $dup_of, $run_id, $note)",
        {"file_id": file_id, "path": key, "sha": sha, "fmt": fmt, "status": status,
         "read": c.read, "loaded": c.loaded, "rejected": c.rejected, "dup": c.duplicate,
         "error": error, "size": size, "mtime": mtime, "now": now, "dup_of": dup_of,
         "run_id": run_id, "note": note},
    )


def _record_duplicate(con, path, key, sha, first, now, run_id, meta=None) -> FileOutcome:
    with transaction(con):
        file_id = _next_file_id(con)
        _manifest(con, file_id, key, sha, None, "duplicate", _Counts(), None, path, now, run_id,
                  first, meta)
    return FileOutcome(key, sha, None, "duplicate", 0, 0, 0, 0, None)


def _reject_file(con, path, key, sha, fmt, error: str, now, run_id, meta=None
                 ) -> FileOutcome:
    error = redact(error, 500) or "unreadable file"
    with transaction(con):
        file_id = _next_file_id(con)
        _x(con, 
            "INSERT INTO staging.rejected_rows VALUES ($id, $path, NULL, $reason, NULL, $now)",
            {"id": file_id, "path": key, "reason": error, "now": now},
        )
        _manifest(con, file_id, key, sha, fmt, "rejected", _Counts(), error, path, now, run_id,
                  meta=meta)
    return FileOutcome(key, sha, fmt, "rejected", 0, 0, 0, 0, error)


def _naive_utc(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(pl.col(pl.Datetime("us", "UTC")).dt.replace_time_zone(None))


def ingest_file(
    con: duckdb.DuckDBPyConnection, path: Path, key: str, sha: str, now: dt.datetime,
    run_id: str | None = None, meta: tuple[int, dt.datetime] | None = None,
) -> FileOutcome:
    """Parse one file and load it in a single transaction (or quarantine it whole).

    A gzip, bz2 or xz file is read as the export it holds: decompressed into a scratch folder
    beside the warehouse (DuckDB's parallel CSV reader needs a plain file), parsed, and
    deleted. The manifest keeps the compressed file's path and hash. A UTF-16 file, or one
    whose line ends carry a doubled carriage return, is read from a repaired copy made the
    same way.
    """
    with ExitStack() as scratch:
        try:
            source, read_as = _plain_content(con, path, scratch)
        except UnicodeDecodeError as exc:
            # a byte order mark said UTF-16, the rest is not
            return _reject_file(con, path, key, sha, None,
                                f"not UTF-16 text after its byte order mark ({exc.reason})",
                                now, run_id, meta)
        except (OSError, EOFError, lzma.LZMAError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, OSError) and exc.errno is not None:
                # the machine's doing (disk full, ...), not the file's: not recorded, so the
                # next run tries again
                return FileOutcome(key, sha, None, "skipped", 0, 0, 0, 0,
                                   f"cannot copy it to the scratch folder now (to decompress "
                                   f"or repair it), tried again next run: {error}")
            # a truncated or corrupt stream: the file's doing
            return _reject_file(con, path, key, sha, None, f"cannot decompress: {error}", now,
                                run_id, meta)
        return _ingest_content(con, path, source, key, sha, now, run_id, meta, read_as)


def _scratch(con: duckdb.DuckDBPyConnection) -> tuple[Path | None, str]:
    """Where decompressed copies go: the warehouse file's folder (None, the system's temporary
    folder, in memory), and the name prefix of this warehouse's scratch folders there."""
    (db_path,) = _x(con, "SELECT path FROM duckdb_databases() "
                         "WHERE database_name = current_database()")[0]
    if not db_path:
        return None, ".radar-decompress-"
    db = Path(db_path).resolve()
    return db.parent, f".radar-decompress-{db.name}-"


def clear_scratch(con: duckdb.DuckDBPyConnection) -> int:
    """Remove the scratch folders a killed run left beside this warehouse; how many.

    Safe while the warehouse is open for writing: DuckDB lets one process write a file, so no
    other ingest into it can be decompressing now."""
    folder, prefix = _scratch(con)
    if folder is None:
        return 0
    stale = [d for d in folder.glob(f"{prefix}*") if d.is_dir()]
    for d in stale:
        shutil.rmtree(d, ignore_errors=True)
    return len(stale)


def _plain_content(con: duckdb.DuckDBPyConnection, path: Path, stack: ExitStack
                   ) -> tuple[Path, tuple[str, ...]]:
    """``path`` itself, or a copy of it that ``stack`` deletes on exit (the scratch folder is
    looked up only when a copy is made): decompressed, and then, if its text needs it,
    repaired (:func:`~pipelines.lib.formats.text_repairs`: UTF-16 decoded, doubled carriage
    returns taken out); and what was done (keys of ``READ_NOTES``)."""
    with path.open("rb") as fh:
        kind = compression_of(fh.read(8))
    folder: Path | None = None

    def scratch_file(name: str) -> Path:
        nonlocal folder
        if folder is None:
            scratch_dir, prefix = _scratch(con)
            folder = Path(stack.enter_context(
                tempfile.TemporaryDirectory(prefix=prefix, dir=scratch_dir)))
        return folder / name

    plain = path
    if kind is not None:
        plain = scratch_file(path.name)
        with _OPENERS[kind](path, "rb") as packed, plain.open("wb") as out:
            shutil.copyfileobj(packed, out, 1 << 20)
    with plain.open("rb") as fh:
        repairs = text_repairs(fh.read(4096))
    done = ((kind,) if kind is not None else ()) + repairs
    if not repairs:
        return plain, done
    repaired = scratch_file(f"repaired-{path.name}")
    repair_text(plain, repaired, repairs)
    return repaired, done


_OPENERS: dict[str, Callable] = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}


def _ingest_content(con, path: Path, source: Path, key: str, sha: str, now: dt.datetime,
                    run_id: str | None, meta: tuple[int, dt.datetime] | None = None,
                    read_as: tuple[str, ...] = ()) -> FileOutcome:
    """``ingest_file`` once the content to parse is a plain file, ``source`` (made readable
    from ``path`` in the ways ``read_as`` lists: keys of ``READ_NOTES``)."""
    fmt: str | None = None
    gateway_sql = ""
    usage_df: pl.DataFrame | None = None
    costs_df: pl.DataFrame | None = None
    #: a saved directory list (keys, projects or users): (its rows, their staging table)
    directory: tuple[pl.DataFrame, str] | None = None
    #: the organisations a dashboard export names, each with its name (the other formats
    #: name none)
    organizations: dict[str, str | None] = {}
    try:
        fmt = detect_format(source)
        if fmt == OPENAI_JSON:
            try:
                text = source.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError as exc:
                raise ValueError(f"not UTF-8 text (byte {exc.start}: {exc.reason})") from exc
            documents = openai_pages.iter_pages(text)
            kinds = {openai_directory.list_kind(d) for d in documents}
            if len(kinds) == 1 and (tag := kinds.pop()) in DIRECTORY_LISTS:
                fmt, table = DIRECTORY_LISTS[tag]
                directory = (openai_directory.parse_lists(documents, tag), table)
            else:
                parsed = openai_pages.parse_documents(documents)
                usage_df, costs_df = parsed.usage, parsed.costs
        elif fmt == DASHBOARD_CSV:
            sheet = dashboard_csv.parse_dashboard_csv(source)
            usage_df, costs_df = ((sheet.rows, None) if sheet.kind == "usage"
                                  else (None, sheet.rows))
            if sheet.encoding == SHEET_ENCODING:
                read_as += (SHEET_ENCODING,)
            organizations = sheet.organizations
        elif fmt == LITELLM_CSV:
            check_row_widths(source)
            columns = litellm_csv.csv_columns(source)
            parallel = True
            # one pass over the file: parsed, checked and rolled up to the day
            try:
                _x(con, "CREATE OR REPLACE TEMP TABLE gateway_groups AS "
                        + litellm_csv.rollup_sql(columns), {"path": str(source)})
            except duckdb.Error as exc:
                if (quote := litellm_csv.quote_problem_of(exc, source)) is not None:
                    raise StrayQuote(*quote) from exc
                if not litellm_csv.needs_serial_read(exc):
                    raise
                parallel = False  # line breaks inside quoted values: read with one thread
                _x(con, "CREATE OR REPLACE TEMP TABLE gateway_groups AS "
                        + litellm_csv.rollup_sql(columns, parallel=False), {"path": str(source)})
            # a row of the wrong width may be a stray quote's doing: see that no rows went
            # with it (litellm_csv.file_quote_problem)
            ragged = _x(con, "SELECT count(*) FROM gateway_groups WHERE reason IN ($s, $h)",
                        {"s": SURPLUS_REASON, "h": litellm_csv.SHORT_REASON})[0][0]
            if ragged and (quote := litellm_csv.file_quote_problem(source)) is not None:
                raise StrayQuote(*quote)
            # for a re-read at request grain
            gateway_sql = litellm_csv.parse_sql(columns, parallel)
    except Exception as exc:  # noqa: BLE001 - any parse failure quarantines the file
        why = csv_error_text(str(exc)) or f"{type(exc).__name__}: {exc}"
        return _reject_file(con, path, key, sha, fmt, why, now, run_id, meta)

    counts = _Counts()
    dates: set[dt.date] = set()
    try:
        with transaction(con):
            file_id = _next_file_id(con)
            if usage_df is not None:
                con.register("incoming_usage_df", _naive_utc(usage_df))
                _x(con, "CREATE OR REPLACE TEMP TABLE incoming_usage AS "
                            "SELECT * FROM incoming_usage_df")
                con.unregister("incoming_usage_df")
            if fmt == LITELLM_CSV:
                dates |= _load_gateway(con, gateway_sql, source, file_id, key, sha, now, counts)
            if directory is not None:
                _load_directory(con, *directory, file_id, key, now, counts)
            if usage_df is not None:
                dates |= _apply(con, "incoming_usage", "staging.usage", USAGE_COLUMNS,
                                USAGE_VALUE_COLUMNS, file_id, key, now, counts,
                                USAGE_DIMENSIONS)
            # the days whose daily roll-up must be recomputed (consumed by the
            # intermediate layer in its own transaction)
            if dates:
                con.executemany("INSERT INTO staging.pending_dates VALUES (?)",
                                [(d,) for d in sorted(dates)])
            if costs_df is not None and len(costs_df):
                con.register("incoming_costs_df", _naive_utc(costs_df))
                _x(con, 
                    "CREATE OR REPLACE TEMP TABLE incoming_costs AS SELECT * REPLACE "
                    "(CASE WHEN reason IS NULL THEN amount_usd END AS amount_usd, "
                    "CASE WHEN reason IS NULL THEN quantity END AS quantity) "
                    "FROM incoming_costs_df"
                )
                con.unregister("incoming_costs_df")
                _apply(con, "incoming_costs", "staging.billed_costs", COST_COLUMNS,
                       COST_VALUE_COLUMNS, file_id, key, now, counts, COST_DIMENSIONS)
            # a file of nothing but calls that are not model usage is no bad input
            status = ("rejected" if counts.read and counts.rejected == counts.read
                      and counts.not_usage < counts.read else "loaded")
            error = (f"{counts.rejected} of {counts.read} rows rejected"
                     + (f" ({counts.not_usage} of them not model usage)"
                        if counts.not_usage else "")
                     + ", see staging.rejected_rows" if counts.rejected else None)
            note = "; ".join(READ_NOTES[r] for r in read_as) or None
            if organizations and status == "loaded":
                con.executemany("INSERT INTO staging.openai_organizations VALUES (?, ?, ?)",
                                [(org, name, file_id) for org, name in organizations.items()])
            _manifest(con, file_id, key, sha, fmt, status, counts, error, path, now, run_id,
                      meta=meta, note=note)
    except FileChanged:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. a value DuckDB cannot cast
        error = str(exc) if isinstance(exc, FileRejected) else f"{type(exc).__name__}: {exc}"
        return _reject_file(con, path, key, sha, fmt, error, now, run_id, meta)
    finally:
        for temp in ("incoming_usage", "incoming_costs", "incoming_names", "good",
                     *GATEWAY_TEMPS):
            _x(con, f"DROP TABLE IF EXISTS {temp}")
    return FileOutcome(key, sha, fmt, status, counts.read, counts.loaded, counts.rejected,
                       counts.duplicate, error, tuple(sorted(dates)), counts.not_usage,
                       note=note)


#: the raw text of a row that parsed (parsers keep raw text for rejected rows only)
_RAW_OR_VALUES = ("coalesce(raw, CAST(to_json(struct_pack(dedupe_key, {values})) AS VARCHAR))")


def _same(cols: Iterable[str], a: str, b: str) -> str:
    return " AND ".join(f"{a}.{c} IS NOT DISTINCT FROM {b}.{c}" for c in cols)


def _apply(con, incoming: str, target: str, columns, value_columns, file_id: int, key: str,
           now: dt.datetime, counts: _Counts, dimensions: tuple[str, ...]) -> set[dt.date]:
    """Move the parsed rows of one file from ``incoming`` into ``target``.

    Set-based and sized for tens of millions of gateway rows: every step is one pass of a
    hash aggregate or join, the per-key ranking runs only when a file repeats a key, and the
    comparison with what is loaded only reads the dates the file covers (a bucket key
    includes its start, a gateway request keeps its start time). Identifiers are code
    constants; the file id, path and time are bound parameters.
    """
    p = {"file_id": file_id, "path": key, "now": now}
    _mask_identifiers(con, incoming)
    read, rejected, good_keys, not_usage = _x(con, (
        f"SELECT count(*), count(*) FILTER (WHERE reason IS NOT NULL), "
        f"count(DISTINCT dedupe_key) FILTER (WHERE reason IS NULL), "
        f"count(*) FILTER (WHERE starts_with(reason, $prefix)) FROM {incoming}"),
        {"prefix": NOT_MODEL_USAGE})[0]
    counts.not_usage += not_usage  # a sheet's repeated header line
    if rejected:
        _x(con, f"INSERT INTO staging.rejected_rows SELECT $file_id, $path, position, "
                f"{sql_redact('reason')}, {sql_redact('raw')}, $now "
                f"FROM {incoming} WHERE reason IS NOT NULL", p)
    within_dup = within_conflict = 0
    if good_keys == read - rejected:  # the usual case: every key once in the file
        if rejected:
            _x(con, f"DELETE FROM {incoming} WHERE reason IS NOT NULL")
        _x(con, f"ALTER TABLE {incoming} RENAME TO good")
    else:  # the last occurrence of a key is the file's version of it
        _x(con, f"CREATE OR REPLACE TEMP TABLE ranked AS SELECT *, row_number() OVER "
                f"(PARTITION BY dedupe_key ORDER BY position DESC) AS rn "
                f"FROM {incoming} WHERE reason IS NULL")
        same_as_kept = _same(value_columns, "r", "k")
        _x(con, f"CREATE OR REPLACE TEMP TABLE repeats AS SELECT r.*, ({same_as_kept}) AS same "
                f"FROM ranked r JOIN ranked k ON k.dedupe_key = r.dedupe_key AND k.rn = 1 "
                f"WHERE r.rn > 1")
        within_dup, within_conflict = _x(con, "SELECT count(*) FILTER (WHERE same), "
                                              "count(*) FILTER (WHERE NOT same) FROM repeats")[0]
        _x(con, f"INSERT INTO staging.rejected_rows SELECT $file_id, $path, position, "
                f"'conflicts with a later row of the same key ' || dedupe_key || "
                f"' in this file; the later row was kept', "
                f"{sql_redact(_RAW_OR_VALUES.format(values=', '.join(value_columns)))}, $now "
                f"FROM repeats WHERE NOT same", p)
        _x(con, "CREATE OR REPLACE TEMP TABLE good AS SELECT * EXCLUDE (rn) FROM ranked "
                "WHERE rn = 1")
        _x(con, "DROP TABLE IF EXISTS ranked")
        _x(con, "DROP TABLE IF EXISTS repeats")
    inner_covered, inner_straddling = _resolve_spans_within(con, dimensions, value_columns, p)
    # compare with what is loaded, on the dates this file covers only
    _x(con, "CREATE OR REPLACE TEMP TABLE good_dates AS "
            "SELECT DISTINCT CAST(bucket_start AS DATE) AS usage_date FROM good")
    lo, hi = _x(con, "SELECT min(usage_date), max(usage_date) FROM good_dates")[0]
    same_as_loaded = _same(value_columns, "g", "t")
    # a constant date range lets DuckDB skip the row groups of other days (zone maps)
    # same key, shorter span (an hourly bucket at the start of a loaded day): inside the
    # loaded bucket, not a newer version of it (see _resolve_spans)
    _x(con, f"CREATE OR REPLACE TEMP TABLE overlap AS SELECT g.dedupe_key, "
            f"({same_as_loaded}) AS same, g.bucket_end < t.bucket_end AS inside "
            f"FROM good g JOIN {target} t ON t.dedupe_key = g.dedupe_key "
            f"WHERE t.usage_date BETWEEN $lo AND $hi", {"lo": lo, "hi": hi})
    loaded_dup, replaced = _x(con, "SELECT count(*) FILTER (WHERE same OR inside), "
                                   "count(*) FILTER (WHERE NOT (same OR inside)) FROM overlap")[0]
    if loaded_dup:  # duplicates of what is already loaded: counted, not loaded
        _x(con, "DELETE FROM good WHERE dedupe_key IN "
                "(SELECT dedupe_key FROM overlap WHERE same OR inside)")
    if replaced:  # newest file wins: replace older versions of the same keys
        _x(con, f"DELETE FROM {target} WHERE usage_date BETWEEN $lo AND $hi "
                f"AND dedupe_key IN (SELECT dedupe_key FROM overlap "
                f"WHERE NOT (same OR inside))", {"lo": lo, "hi": hi})
    covered, straddling = _resolve_spans(con, target, dimensions, value_columns, lo, hi, p)
    select = ", ".join(
        "$file_id" if c == "file_id"
        else "CAST(bucket_start AS DATE)" if c == "usage_date"
        else f"CAST({c} AS DECIMAL(38, 10))" if c in ("amount_usd", "quantity")
        else c
        for c in columns)
    _x(con, f"INSERT INTO {target} ({', '.join(columns)}) SELECT {select} FROM good", p)
    covered += inner_covered
    straddling += inner_straddling
    loaded = read - rejected - within_dup - within_conflict - loaded_dup - covered - straddling
    dates = {d for (d,) in _x(con, "SELECT usage_date FROM good_dates")}
    for temp in ("good", "good_dates", "overlap"):
        _x(con, f"DROP TABLE IF EXISTS {temp}")
    counts.read += read
    counts.rejected += rejected + within_conflict + straddling
    counts.duplicate += within_dup + loaded_dup + covered
    counts.loaded += loaded
    return dates


def _resolve_spans_within(con, dimensions: tuple[str, ...], value_columns,
                          p: dict) -> tuple[int, int]:
    """``_resolve_spans`` inside one file (pages of two fetches saved together): a bucket
    covered by another of the file is dropped; buckets that overlap without either covering
    the other are all quarantined. Returns (dropped as covered, quarantined)."""
    pairs = (f"FROM good a JOIN good b ON {_same(dimensions, 'a', 'b')} "
             f"AND a.bucket_start <> b.bucket_start "
             f"AND a.bucket_start < b.bucket_end AND b.bucket_start < a.bucket_end")
    if not _x(con, f"SELECT count(*) {pairs}")[0][0]:
        return 0, 0
    _x(con, f"CREATE OR REPLACE TEMP TABLE span_verdict AS SELECT a.dedupe_key, "
            f"CASE WHEN bool_or(b.bucket_start <= a.bucket_start "
            f"                  AND a.bucket_end <= b.bucket_end) THEN 'covered' "
            f"WHEN bool_and(a.bucket_start <= b.bucket_start "
            f"              AND b.bucket_end <= a.bucket_end) THEN 'covers' "
            f"ELSE 'straddles' END AS verdict {pairs} GROUP BY a.dedupe_key")
    return _settle_spans(con, value_columns, "'overlaps another bucket of the same key in "
                         "this file without covering it or being covered: not counted twice'", p)


def _settle_spans(con, value_columns, reason_sql: str, p: dict) -> tuple[int, int]:
    """Act on ``span_verdict`` (one row per incoming bucket of ``good`` that overlaps another:
    ``covered``, ``covers`` or ``straddles``): quarantine the straddling ones with
    ``reason_sql`` (an expression over the verdict ``v``), keep only the covering ones in
    ``good``. Returns (covered, straddling)."""
    covered, straddling = _x(con, "SELECT count(*) FILTER (WHERE verdict = 'covered'), "
                                  "count(*) FILTER (WHERE verdict = 'straddles') "
                                  "FROM span_verdict")[0]
    if straddling:
        raw = sql_redact(_RAW_OR_VALUES.format(values=", ".join(value_columns)))
        _x(con, f"INSERT INTO staging.rejected_rows SELECT $file_id, $path, g.position, "
                f"{reason_sql}, {raw}, $now FROM good g JOIN span_verdict v "
                f"USING (dedupe_key) WHERE v.verdict = 'straddles'", p)
    _x(con, "DELETE FROM good WHERE dedupe_key IN (SELECT dedupe_key FROM span_verdict "
            "WHERE verdict <> 'covers')")
    _x(con, "DROP TABLE span_verdict")
    return covered, straddling


def _resolve_spans(con, target: str, dimensions: tuple[str, ...], value_columns, lo, hi,
                   p: dict) -> tuple[int, int]:
    """Buckets of the same dimensions as a loaded one, over an overlapping time, with another
    start: a page fetched from a time that is not midnight (its first bucket runs from that
    time to 00:00), or with another bucket width (``1h`` against ``1d``).

    The bucket that covers the other is kept, whichever file brought it: an incoming bucket
    inside a loaded one is a duplicate (dropped and counted); loaded buckets inside an
    incoming one are replaced by it. An incoming bucket that overlaps a loaded one without
    either covering the other is quarantined with the reason. Gateway rows (days rolled up
    from requests) are never compared. Returns (dropped as covered, quarantined).
    """
    pairs = (f"FROM good g JOIN {target} t ON {_same(dimensions, 'g', 't')} "
             f"AND t.bucket_start <> g.bucket_start "
             f"AND t.bucket_start < g.bucket_end AND g.bucket_start < t.bucket_end "
             f"WHERE t.usage_date BETWEEN $lo AND $hi AND t.source <> 'litellm'")
    if not _x(con, f"SELECT count(*) {pairs}", {"lo": lo, "hi": hi})[0][0]:
        return 0, 0  # the usual file: one statement
    _x(con, f"CREATE OR REPLACE TEMP TABLE span_overlap AS "
            f"SELECT g.dedupe_key, t.bucket_start AS t_start, t.bucket_end AS t_end, "
            f"t.dedupe_key AS t_key, "
            f"t.bucket_start <= g.bucket_start AND g.bucket_end <= t.bucket_end AS covered, "
            f"g.bucket_start <= t.bucket_start AND t.bucket_end <= g.bucket_end AS covers "
            f"{pairs}", {"lo": lo, "hi": hi})
    _x(con, "CREATE OR REPLACE TEMP TABLE span_verdict AS SELECT dedupe_key, "
            "CASE WHEN bool_or(covered) THEN 'covered' WHEN bool_and(covers) THEN 'covers' "
            "ELSE 'straddles' END AS verdict, "
            "arg_min(t_start, covers::INT) AS t_start, arg_min(t_end, covers::INT) AS t_end "
            "FROM span_overlap GROUP BY dedupe_key")
    # loaded buckets inside an incoming one give way to it (the covering bucket is kept)
    _x(con, f"DELETE FROM {target} WHERE usage_date BETWEEN $lo AND $hi AND dedupe_key IN "
            f"(SELECT o.t_key FROM span_overlap o JOIN span_verdict v USING (dedupe_key) "
            f"WHERE v.verdict = 'covers')", {"lo": lo, "hi": hi})
    _x(con, "DROP TABLE span_overlap")
    return _settle_spans(
        con, value_columns,
        "'overlaps the loaded bucket ' || strftime(v.t_start, '%Y-%m-%d %H:%M:%S') || ' to ' "
        "|| strftime(v.t_end, '%Y-%m-%d %H:%M:%S') || ' of the same key without covering it "
        "or being covered: not counted twice'", p)


def _mask_identifiers(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Replace identifiers that are credentials (a key pasted as a user id...) by a digest."""
    present = {r[0] for r in _x(con, f"DESCRIBE {table}")}
    masked = [c for c in ("dedupe_key", *sorted(MASKED_COLUMNS)) if c in present]
    suspicious = " OR ".join(f"{c} LIKE '%sk-%' OR {c} ILIKE '%bearer%'" for c in masked)
    # the usual file has none: a count of the cheap test first spares compiling the
    # update's patterns (two per column, ~12 ms a file; the small files of a day pay it)
    if _x(con, f"SELECT count(*) FROM {table} WHERE {suspicious}")[0][0]:
        _x(con, f"UPDATE {table} SET " + ", ".join(f"{c} = {sql_mask(c)}" for c in masked)
           + f" WHERE {suspicious}")


# ------------------------------------------------------------------ OpenAI directory lists

#: list item type -> (manifest format, staging table: the parsed columns in order, then file_id)
DIRECTORY_LISTS = {
    openai_directory.KEY_TAG: (OPENAI_KEYS, "staging.openai_api_keys"),
    openai_directory.PROJECT_TAG: (OPENAI_PROJECTS, "staging.openai_projects"),
    openai_directory.USER_TAG: (OPENAI_USERS, "staging.openai_users"),
}


def _load_directory(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, table: str,
                    file_id: int, key: str, now: dt.datetime, counts: _Counts) -> None:
    """Stage the items of a saved key, project or user list (names and owners, no usage).

    Each file's items are kept with its id: the callers of deprecated models are named by
    the newest file's entry for their key, project or user. An item listed twice in one file
    counts once (the later entry is kept; the earlier is a duplicate)."""
    p = {"file_id": file_id, "path": key, "now": now}
    ident = rows.columns[1]  # api_key_id, project_id or user_id
    con.register("incoming_names_df", rows)
    _x(con, "CREATE OR REPLACE TEMP TABLE incoming_names AS SELECT * FROM incoming_names_df")
    con.unregister("incoming_names_df")
    _mask_identifiers(con, "incoming_names")
    read, rejected = _x(con, "SELECT count(*), count(*) FILTER (WHERE reason IS NOT NULL) "
                             "FROM incoming_names")[0]
    if rejected:
        _x(con, f"INSERT INTO staging.rejected_rows SELECT $file_id, $path, position, "
                f"{sql_redact('reason')}, {sql_redact('raw')}, $now "
                f"FROM incoming_names WHERE reason IS NOT NULL", p)
    (loaded,) = _x(con, f"INSERT INTO {table} SELECT * EXCLUDE (position, reason, raw), "
                        f"$file_id FROM incoming_names WHERE reason IS NULL "
                        f"QUALIFY row_number() OVER (PARTITION BY {ident} "
                        f"ORDER BY position DESC) = 1", p)[0]
    counts.read += read
    counts.rejected += rejected
    counts.loaded += loaded
    counts.duplicate += read - rejected - loaded


# ----------------------------------------------------------------------------- gateway logs

GATEWAY_TEMPS = ("gateway_groups", "gateway_requests_in")
#: what makes two copies of one gateway request "the same request"
GATEWAY_VALUE_COLUMNS = (
    "endpoint", "route", "bucket_start", "bucket_end", "project_id", "user_id", "api_key_id",
    "model", "litellm_team_id", "team_alias", "failed_requests", "input_tokens",
    "cached_input_tokens", "output_tokens", *AUDIO_TOKENS, CACHE_WRITE_TOKENS,
    CACHE_WRITE_1H_TOKENS,
)


def _load_gateway(con: duckdb.DuckDBPyConnection, parse_sql: str, path: Path, file_id: int,
                  key: str, sha: str, now: dt.datetime, counts: _Counts) -> set[dt.date]:
    """Stage a gateway file from ``gateway_groups`` (its requests rolled up to the day).

    A request is counted once, whichever files carry it: the request keys of the file go
    to ``staging.gateway_requests``; when one repeats (within the file or from a file loaded
    earlier) the file is read again at the request grain and the repeats are taken out
    first. That second read happens only for overlapping exports; the usual file is read
    once. Across files the first copy loaded wins (a gateway writes a request's log row once;
    the copy in a later export is the same request). Within one file, copies that differ
    are quarantined and the latest-ending copy is kept. So are requests from before the
    ledger's horizon (``trim_request_ledger``): their keys are gone, so whether an earlier
    file counted them cannot be told; such a file is read again at the request grain too,
    and one with no request from the horizon on is rejected whole (:class:`FileRejected`).
    """
    p = {"file_id": file_id, "path": key, "now": now}
    (read,) = _x(con, "SELECT coalesce(sum(rows_read), 0) FROM gateway_groups")[0]
    lo, hi = _x(con, "SELECT min(usage_date), max(usage_date) FROM gateway_groups "
                     "WHERE reason IS NULL")[0]
    horizon = ledger_horizon(con)
    if horizon is not None and hi is not None and hi < horizon:
        # an old export: one rejection for the file, rather than one row per request
        raise FileRejected(
            f"every request is from {lo} to {hi}, before {horizon}: the request ledger keeps "
            "no older keys (RADAR_REQUEST_LEDGER_DAYS), so whether another export already "
            "counted them cannot be told")
    early = horizon is not None and lo is not None and lo < horizon
    if not early:
        _insert_request_keys(con, file_id)
    if lo is not None and (early or _repeated_requests(con, lo, hi)):
        _x(con, "DELETE FROM staging.gateway_requests WHERE file_id = $file_id", p)
        _drop_repeated_requests(con, parse_sql, path, lo, hi, horizon)
        _insert_request_keys(con, file_id)
    (kept, rejected, not_usage) = _x(
        con, "SELECT coalesce(sum(rows_read), 0), "
             "coalesce(sum(rows_read) FILTER (WHERE reason IS NOT NULL), 0), "
             "coalesce(sum(rows_read) FILTER (WHERE starts_with(reason, $prefix)), 0) "
             "FROM gateway_groups", {"prefix": NOT_MODEL_USAGE})[0]
    if rejected:  # identical rejected rows share a group: one quarantine row per input row
        _x(con, f"INSERT INTO staging.rejected_rows SELECT $file_id, $path, NULL, "
                f"{sql_redact('reason')}, {sql_redact('raw')}, $now "
                f"FROM gateway_groups, range(rows_read) WHERE reason IS NOT NULL", p)
    _x(con, "DELETE FROM gateway_groups WHERE reason IS NOT NULL")
    _mask_identifiers(con, "gateway_groups")
    group_keys = ", ".join(litellm_csv.GROUP_KEYS)
    select = ", ".join(
        # the file's content and the group's dimensions: the same on every rerun
        f"'litellm|' || $file || '|' || md5(to_json(struct_pack(usage_date, {group_keys})))"
        if c == "dedupe_key"
        else "$file_id" if c == "file_id"
        else "NULL" if c == "position"
        # a spend log does not split image tokens out: the gateway's are text
        else "0" if c in IMAGE_TOKENS
        else c
        for c in USAGE_COLUMNS)
    # the long-context band: only a gateway log sees single requests (others stage 0)
    _x(con, f"INSERT INTO staging.usage ({', '.join(USAGE_COLUMNS)}, {PROMPT_BAND}) "
            f"SELECT {select}, {PROMPT_BAND} FROM gateway_groups", {**p, "file": sha[:16]})
    _x(con, "INSERT INTO staging.gateway_key_aliases SELECT api_key_id, key_alias, "
            "max(usage_date), $file_id FROM gateway_groups "
            "WHERE api_key_id IS NOT NULL AND key_alias IS NOT NULL GROUP BY ALL", p)
    _x(con, "INSERT INTO staging.gateway_model_keys SELECT model, model_map_key, "
            "max(usage_date), $file_id FROM gateway_groups "
            "WHERE model IS NOT NULL AND model_map_key IS NOT NULL GROUP BY ALL", p)
    dates = {d for (d,) in _x(con, "SELECT DISTINCT usage_date FROM gateway_groups")}
    counts.read += read
    counts.rejected += rejected
    counts.not_usage += not_usage
    counts.duplicate += read - kept
    counts.loaded += kept - rejected
    return dates


def _insert_request_keys(con: duckdb.DuckDBPyConnection, file_id: int) -> None:
    _x(con, "INSERT INTO staging.gateway_requests SELECT request_key, usage_date, $file_id "
            "FROM (SELECT usage_date, unnest(request_keys) AS request_key FROM gateway_groups "
            "WHERE reason IS NULL)", {"file_id": file_id})


def _repeated_requests(con: duckdb.DuckDBPyConnection, lo: dt.date, hi: dt.date) -> int:
    """How many request keys repeat on the days this file covers: the ledger is unique
    before the file's keys go in, so any repeat involves this file (a copy within it, or a
    request an earlier file loaded: a request keeps its start time, hence its day). The
    constant date bounds let DuckDB skip every other row group."""
    return _x(con, "SELECT count(*) - count(DISTINCT request_key) FROM staging.gateway_requests "
                   "WHERE usage_date BETWEEN $lo AND $hi", {"lo": lo, "hi": hi})[0][0]


def _drop_repeated_requests(con: duckdb.DuckDBPyConnection, parse_sql: str, path: Path,
                            lo: dt.date, hi: dt.date, horizon: dt.date | None) -> None:
    """Rebuild ``gateway_groups`` from the file's requests without the repeats: requests
    already loaded from another file and exact copies within the file are left out (counted
    as duplicates), differing copies within the file and requests from before the ledger's
    ``horizon`` become rejected rows."""
    same = " AND ".join(f"{c} IS NOT DISTINCT FROM first_value({c}) OVER w"
                        for c in GATEWAY_VALUE_COLUMNS)
    early = "reason IS NULL AND CAST(bucket_start AS DATE) < $horizon"
    conflict = "reason IS NULL AND NOT loaded_before AND copy_no > 1 AND NOT same_as_kept"
    raw = ("CAST(to_json(struct_pack(request_id := request_id, model := model, "
           "\"startTime\" := bucket_start, api_key := api_key_id, "
           "prompt_tokens := input_tokens, completion_tokens := output_tokens, "
           "failed := failed_requests)) AS VARCHAR)")
    _x(con, f"""
        CREATE OR REPLACE TEMP TABLE gateway_requests_in AS
        WITH parsed AS (SELECT *, md5_number(request_id) AS request_key FROM ({parse_sql})),
        ranked AS (
            SELECT *,
                row_number() OVER w AS copy_no,
                ({same}) AS same_as_kept,
                reason IS NULL AND request_key IN (
                    SELECT request_key FROM staging.gateway_requests
                    WHERE usage_date BETWEEN $lo AND $hi) AS loaded_before
            FROM parsed
            WINDOW w AS (PARTITION BY request_key, reason IS NULL
                         ORDER BY bucket_end DESC, input_tokens DESC, output_tokens DESC,
                                  cached_input_tokens DESC, failed_requests DESC, model,
                                  api_key_id, route)
        )
        SELECT * EXCLUDE (request_key, copy_no, same_as_kept, loaded_before) REPLACE (
            CASE WHEN {early} THEN 'request of ' || strftime(bucket_start, '%Y-%m-%d')
                || ', before ' || strftime($horizon, '%Y-%m-%d') || ': the request ledger '
                || 'keeps no older keys (RADAR_REQUEST_LEDGER_DAYS), so whether another '
                || 'export already counted it cannot be told'
                WHEN {conflict} THEN 'conflicts with another row of request '
                || request_id || ' in this file; the latest-ending copy was kept'
                ELSE reason END AS reason,
            CASE WHEN {early} OR {conflict} THEN {raw} ELSE raw END AS raw)
        FROM ranked
        WHERE reason IS NOT NULL OR {early}
            OR NOT (loaded_before OR (copy_no > 1 AND same_as_kept))
        """, {"path": str(path), "lo": lo, "hi": hi, "horizon": horizon})
    _x(con, "CREATE OR REPLACE TEMP TABLE gateway_groups AS "
            + litellm_csv.group_sql("gateway_requests_in"))
