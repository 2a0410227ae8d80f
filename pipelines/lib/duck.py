"""Small helpers around a DuckDB connection: session settings and running SQL files."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from pipelines.settings import SQL_DIR

#: DuckDB optimizers our connections turn off. ``compressed_materialization`` in DuckDB 2.0.0
#: (not 1.5.6) sums wrong after a LEFT JOIN on one kind of a table's rows when the table holds
#: none of that kind (a row of it that matches nothing is enough to sum right): with
#: ``u(team, project_id, n)`` and an empty ``a(kind, id, name)``, ``SELECT team, sum(n) FROM u
#: LEFT JOIN a ON a.kind = 'project' AND a.id = u.project_id GROUP BY ALL ORDER BY ALL`` gives
#: -32 for 1,100,000 (the sum cut to its lowest byte) or fails to cast it to TINYINT
#: (tests/test_duck.py). The models join that way (the team directory by key type, the names
#: of the callers), and whether a plan meets it depends on the data, so it is off for every
#: query of ours.
DISABLED_OPTIMIZERS = "compressed_materialization"


def prepare(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Session settings every connection of ours uses: UTC everywhere, no progress bar, none
    of the optimizers in ``DISABLED_OPTIMIZERS``. The SQL macros the models call come with the
    models (:func:`with_macros`)."""
    run(con, "SET TimeZone = 'UTC'")
    run(con, "SET enable_progress_bar = false")
    run(con, f"SET disabled_optimizers = '{DISABLED_OPTIMIZERS}'")
    return con


#: our SQL macro scripts (``sql/macros/``): the money formula's scalar macros, and the table
#: macros of the prices in force on a day
MACRO_SCRIPTS = ("macros/money", "macros/prices")
#: a macro a script defines (all ours are named ``radar_...``)
MACRO_DEFINITION = re.compile(r"CREATE OR REPLACE TEMP MACRO (radar_[a-z_]+)")


def macro_scripts(sql: str) -> list[str]:
    """The macro scripts that define a macro ``sql`` calls, in ``MACRO_SCRIPTS`` order."""
    return [name for name in MACRO_SCRIPTS
            if any(re.search(rf"\b{macro}\s*\(", sql) for macro in _macros_of(name))]


@cache
def _macros_of(script: str) -> tuple[str, ...]:
    return tuple(MACRO_DEFINITION.findall(sql_text(script)))


def macros_called(sql: str) -> str:
    """The text of the macro scripts ``sql`` calls, "" when it calls none: a model's
    fingerprint must change when a macro it calls does."""
    return "".join(sql_text(name) for name in macro_scripts(sql))


def with_macros(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """``sql``, after creating on ``con`` the macros it calls, when it calls any (temporary:
    never stored). Only the two pricing models do, so no other connection pays the ~5 ms of
    their definitions (a run's ~50 step connections did: ~0.25 s of a small refresh's ~4 s)."""
    for name in macro_scripts(sql):
        run_script(con, name)
    return sql


@cache
def sql_text(name: str) -> str:
    """The text of ``sql/<name>.sql`` (e.g. ``marts/usage_cost_daily``)."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"SQL model {name!r} not found at {path}")
    return path.read_text(encoding="utf-8")


def run_script(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Run a DDL script (several statements, no parameters)."""
    for statement in con.extract_statements(sql_text(name)):
        con.execute(statement).fetchall()


def run(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None) -> list:
    """Execute one statement and drain its result.

    DuckDB 2 refuses new work on a connection while a result is unread, and refuses bound
    parameters the statement does not use; this passes only the ``$name`` parameters that
    appear in ``sql``.
    """
    return con.execute(sql, used_params(sql, params or {})).fetchall()


def file_format(con: duckdb.DuckDBPyConnection, path: Path) -> str | None:
    """The storage format of the DuckDB file at ``path``, as DuckDB tags it: ``v1.0.0+`` (every
    DuckDB from 1.0 opens it), ``v2.0.0+``, ...; None when it cannot be opened."""
    try:
        run(con, "ATTACH $path AS format_probe (READ_ONLY)", {"path": str(path)})
    except duckdb.Error:
        return None
    try:
        return run(con, "SELECT tags['storage_version'] FROM duckdb_databases() "
                        "WHERE database_name = 'format_probe'")[0][0]
    finally:
        run(con, "DETACH format_probe")


def table_exists(con: duckdb.DuckDBPyConnection, table: str, views: bool = True) -> bool:
    """Whether ``schema.name`` exists (as a table, or also as a view with ``views``)."""
    schema, name = table.split(".")
    kinds = ("BASE TABLE", "VIEW") if views else ("BASE TABLE",)
    return bool(run(con, "SELECT count(*) FROM information_schema.tables WHERE "
                         "table_schema = $s AND table_name = $n AND list_contains($kinds, "
                         "table_type)", {"s": schema, "n": name, "kinds": list(kinds)})[0][0])


def column_names(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of ``schema.name``, in order (none when it does not exist)."""
    schema, name = table.split(".")
    return [c for (c,) in run(con, "SELECT column_name FROM information_schema.columns WHERE "
                                   "table_schema = $s AND table_name = $n "
                                   "ORDER BY ordinal_position", {"s": schema, "n": name})]


_UNITS = {"B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4,
          "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "TIB": 1024**4}


def memory_limit_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """The connection's ``memory_limit`` in bytes (DuckDB reports it as text: ``732.4 MiB``)."""
    (text,) = run(con, "SELECT current_setting('memory_limit')")[0]
    number, _, unit = str(text).strip().partition(" ")
    return int(float(number) * _UNITS[unit.strip().upper() or "B"])


def used_params(sql: str, params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if f"${k}" in sql}


def build_table(
    con: duckdb.DuckDBPyConnection, table: str, model: str, params: Mapping[str, Any] | None = None
) -> int:
    """(Re)create ``table`` from the SELECT in ``sql/<model>.sql``; return its row count.

    Data values reach the SQL only as bound ``$name`` parameters; ``table`` and ``model`` are
    code constants. The caller owns the transaction.
    """
    sql = with_macros(con, sql_text(model))
    run(con, f"CREATE OR REPLACE TABLE {table} AS\n{sql}", params)
    return run(con, f"SELECT count(*) FROM {table}")[0][0]


def build_view(con: duckdb.DuckDBPyConnection, view: str, model: str) -> int:
    """(Re)create ``view`` as the SELECT in ``sql/<model>.sql``; return its row count. For a
    model that costs next to nothing when read (a projection of one table), so it is neither
    stored twice nor copied into the BI file twice. A table of that name (an older warehouse
    built the model as one) is dropped first. The caller owns the transaction."""
    if table_exists(con, view, views=False):
        run(con, f"DROP TABLE {view}")
    run(con, f"CREATE OR REPLACE VIEW {view} AS\n{sql_text(model)}")
    return run(con, f"SELECT count(*) FROM {view}")[0][0]


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, or ROLLBACK on any error: a crash leaves the previous state."""
    run(con, "BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        run(con, "ROLLBACK")
        raise
    run(con, "COMMIT")


def sql_path(name: str) -> Path:
    return SQL_DIR / f"{name}.sql"
