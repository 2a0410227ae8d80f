"""One Dagster asset per SQL model: the asset key mirrors the table, the SQL file is the logic.

The first comment block of each SQL file is its description (what one row means, who reads
it), so the UI and the file never disagree.
"""


from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import duckdb

from pipelines.lib.catalog import UNANNOUNCED_LEAD_DAYS
from pipelines.lib.duck import build_table, build_view, run, sql_path, sql_text, transaction
from pipelines.lib.incremental import build_by_day
from pipelines.lib.markdown import table
from pipelines.resources import WAREHOUSE_POOL, RadarConfig, WarehouseResource
from pipelines.settings import RadarSettings

OWNERS = ["team:platform-finops"]

MetadataFn = Callable[[duckdb.DuckDBPyConnection, RadarSettings], dict[str, Any]]


@dataclass(frozen=True)
class ByDay:
    """A model whose rows each belong to one usage day: rebuilt only for the days
    ``intermediate.usage_daily`` changed, while ``inputs`` (a description of everything else
    the rows depend on) stays the same; see :mod:`pipelines.lib.incremental`."""

    date_expr: str
    inputs: Callable[[duckdb.DuckDBPyConnection, RadarSettings], str]


def sql_description(model: str) -> str:
    lines = []
    for line in sql_text(model).splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    return " ".join(lines)


def sql_params(settings: RadarSettings) -> dict[str, Any]:
    return {
        "as_of": settings.as_of,
        "tolerance_share": settings.tolerance_share,
        "tolerance_usd": settings.tolerance_usd,
        "unannounced_lead_days": UNANNOUNCED_LEAD_DAYS,
    }


def sql_table_asset(
    schema: str,
    name: str,
    model: str,
    deps: Sequence[dg.AssetKey | Sequence[str]],
    group: str,
    extra_metadata: MetadataFn | None = None,
    check_specs: Sequence[dg.AssetCheckSpec] = (),
    by_day: ByDay | None = None,
    view: bool = False,
) -> dg.AssetsDefinition:
    """The asset that builds ``schema.name`` from ``sql/<model>.sql``: a table (rebuilt whole,
    or day by day with ``by_day``), or with ``view`` a view (for a projection of one table:
    nothing to store or copy, computed when read)."""
    assert not (view and by_day), "a view has no days to rebuild"
    key = dg.AssetKey([schema, name])
    table_name = f"{schema}.{name}"

    @dg.asset(
        key=key, deps=[dg.AssetKey(d) if not isinstance(d, dg.AssetKey) else d for d in deps],
        group_name=group, owners=OWNERS, kinds={"duckdb", "sql"}, pool=WAREHOUSE_POOL,
        description=sql_description(model),
        metadata={"sql_file": str(sql_path(model).relative_to(sql_path(model).parents[2]))},
    )
    def _asset(
        context: dg.AssetExecutionContext, radar: RadarConfig, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        settings = radar.settings()
        build: dict[str, Any] = {}
        with warehouse.get_connection() as con:
            with transaction(con):
                run(con, f"CREATE SCHEMA IF NOT EXISTS {schema}")
                if view:
                    rows = build_view(con, table_name, model)
                    build = {"materialized": "view"}
                elif by_day is None:
                    rows = build_table(con, table_name, model, sql_params(settings))
                else:
                    done = build_by_day(con, table_name, model, by_day.date_expr,
                                        by_day.inputs(con, settings), sql_params(settings),
                                        context.run.run_id)
                    rows = done.rows
                    build = {"mode": done.mode, "days_recomputed": done.days,
                             "build_version": done.version}
            metadata: dict[str, Any] = {
                "dagster/row_count": rows,
                "as_of": settings.as_of.isoformat(),
                **build,
                "query": dg.MetadataValue.md(f"```sql\n{sql_text(model)}\n```"),
            }
            if extra_metadata is not None:
                metadata.update(extra_metadata(con, settings))
        return dg.MaterializeResult(metadata=metadata)

    return _asset


def preview(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None,
            limit: int = 15) -> dg.MetadataValue:
    rel = con.execute(sql, params or {})
    columns = [d[0] for d in rel.description]
    return dg.MetadataValue.md(table(columns, rel.fetchall(), limit=limit))
