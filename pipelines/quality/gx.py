"""Run a great-expectations 1.x suite on a DataFrame pulled from DuckDB.

GX cannot validate DuckDB through SQL today (see the design notes), so each check queries
what it needs (the rows this run changed, or an aggregate), converts the polars frame to
pandas at this boundary, and validates it with an ephemeral GX context. great_expectations
is imported here, lazily, so loading the code location never pays its multi-second import.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

#: (expectation class name in great_expectations.expectations, keyword arguments)
ExpectationSpec = tuple[str, dict[str, Any]]


@dataclass
class SuiteOutcome:
    suite: str
    passed: bool
    rows_validated: int
    evaluated: int
    failed: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def observed(self) -> dict[str, Any]:
        return {"rows_validated": self.rows_validated, "expectations": self.evaluated,
                "failed": len(self.failed), "failures": self.failed[:10]}

    def markdown(self) -> str:
        if not self.failed:
            return f"All {self.evaluated} expectations passed on {self.rows_validated:,} rows."
        lines = ["| expectation | column(s) | unexpected | sample |", "|---|---|---|---|"]
        for f in self.failed:
            sample = ", ".join(map(str, f.get("sample") or []))[:120].replace("|", "\\|")
            lines.append(f"| {f['expectation']} | {f.get('columns', '')} | "
                         f"{f.get('unexpected_count', f.get('observed'))} | {sample} |")
        return "\n".join(lines)


_CONTEXT: Any = None


def prewarm_in_background() -> None:
    """Start importing great_expectations in a thread, so the first check of a run does not
    wait for its multi-second import (the ingest running meanwhile is DuckDB work that
    releases the GIL). Loading the code location still never imports it."""
    import importlib
    import threading

    def _import() -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        importlib.import_module("great_expectations")

    threading.Thread(target=_import, name="gx-import", daemon=True).start()


def _context() -> Any:
    global _CONTEXT
    if _CONTEXT is None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        _CONTEXT = ctx
    return _CONTEXT


def _columns_of(kwargs: dict[str, Any]) -> str:
    cols = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    cols += list(kwargs.get("column_list", []))
    return ", ".join(cols)


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)


def validate(
    name: str, frame: pl.DataFrame, expectations: Sequence[ExpectationSpec]
) -> SuiteOutcome:
    """Validate ``frame`` against the expectations; never raises for failed expectations."""
    started = time.perf_counter()
    import great_expectations as gx
    import great_expectations.expectations as gxe

    ctx = _context()
    source_name = f"radar_{name}"
    try:
        source = ctx.data_sources.get(source_name)
        batch_def = source.get_asset(name).get_batch_definition("whole")
    except Exception:  # noqa: BLE001 - first use in this process: create them
        source = ctx.data_sources.add_pandas(source_name)
        batch_def = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("whole")
    suite = gx.ExpectationSuite(
        name=f"{name}_suite",
        expectations=[getattr(gxe, cls)(**kwargs) for cls, kwargs in expectations],
    )
    batch = batch_def.get_batch(batch_parameters={"dataframe": frame.to_pandas()})
    result = batch.validate(suite, result_format={"result_format": "SUMMARY",
                                                  "partial_unexpected_count": 5})
    failed = []
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        res = r.result or {}
        failed.append({
            "expectation": cfg.type,
            "columns": _columns_of(cfg.kwargs),
            "unexpected_count": res.get("unexpected_count"),
            "observed": _jsonable(res.get("observed_value")),
            "sample": [_jsonable(v) for v in (res.get("partial_unexpected_list") or [])][:5],
        })
    return SuiteOutcome(
        suite=name, passed=bool(result.success), rows_validated=len(frame),
        evaluated=len(result.results), failed=failed,
        seconds=time.perf_counter() - started,
    )

