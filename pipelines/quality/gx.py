"""Run a great-expectations 1.x suite on a DataFrame pulled from DuckDB.

GX cannot validate DuckDB through SQL today (see the design notes), so each check queries
what it needs (the rows this run changed, or an aggregate), converts the polars frame to
pandas at this boundary, and validates it with an ephemeral GX context. great_expectations
is imported here, lazily, so loading the code location never pays its multi-second import.

Where the suites run: importing great_expectations costs seconds of Python, which in a thread
holds the GIL against the run's own steps. So a run starts a *validation worker* when it
begins (``start_worker``, called by the ``gx`` resource, or earlier, as the code location
loads, in a process started to execute a run: ``executes_a_run``): a child process that
imports GX on the other core while Dagster prepares the run and the catalog and the ingest
run, then validates each frame it is sent (the frame and the expectation list go over a
pipe, the outcome comes back). Its
result is the one GX gives in this process; if the worker cannot start or dies, the suite
runs here instead.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import hashlib
import json
import os
import pickle
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # polars is not imported here: the code location starts the worker first
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
    #: the outcome of an earlier validation of the same rows with the same expectations in
    #: this process (:func:`validate`): GX did not run again (``seconds`` are the look-up's)
    reused: bool = False

    def observed(self) -> dict[str, Any]:
        return {"rows_validated": self.rows_validated, "expectations": self.evaluated,
                "failed": len(self.failed), "failures": self.failed[:10],
                **({"reused": True} if self.reused else {})}

    def markdown(self) -> str:
        if self.reused:
            return (f"{self._markdown()}\n\nThe outcome of the same rows validated with the "
                    "same expectations earlier in this process.")
        return self._markdown()

    def _markdown(self) -> str:
        if not self.failed:
            return f"All {self.evaluated} expectations passed on {self.rows_validated:,} rows."
        lines = ["| expectation | column(s) | unexpected | sample |", "|---|---|---|---|"]
        for f in self.failed:
            sample = ", ".join(map(str, f.get("sample") or []))[:120].replace("|", "\\|")
            lines.append(f"| {f['expectation']} | {f.get('columns', '')} | "
                         f"{f.get('unexpected_count', f.get('observed'))} | {sample} |")
        return "\n".join(lines)


_CONTEXT: Any = None


class _Worker:
    """The validation worker: ``python -m pipelines.quality.gx_worker``, pickles over pipes."""

    def __init__(self) -> None:
        root = str(Path(__file__).resolve().parents[2])  # where `pipelines` is importable
        env = {**os.environ,
               "GX_ANALYTICS_ENABLED": os.environ.get("GX_ANALYTICS_ENABLED", "false"),
               "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines.quality.gx_worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.lock = threading.Lock()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def call(self, request: tuple) -> SuiteOutcome:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        with self.lock:
            pickle.dump(request, self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.proc.stdin.flush()
            status, value = pickle.load(self.proc.stdout)
        if status != "ok":
            raise RuntimeError(f"great_expectations failed in the validation worker: {value}")
        return value

    def stop(self) -> None:
        """End of input: an idle worker exits at once. One still importing GX (a run that
        never validated) has nothing to finish: it is killed after a short grace instead of
        holding the run's exit until its import is done."""
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_WORKER: _Worker | None = None
_WORKER_LOCK = threading.Lock()


#: commands (after the program's name) whose process executes a run: the CLI's runs and the
#: run launchers' run workers
RUN_COMMANDS = frozenset({("job", "execute"), ("asset", "materialize"), ("api", "execute_run")})


def executes_a_run(argv: Sequence[str]) -> bool:
    """Whether ``argv`` (``sys.argv``) started a process that executes a run in itself."""
    return tuple(argv[1:3]) in RUN_COMMANDS


def start_worker() -> None:
    """Start the validation worker of this process, unless one runs or GX is already
    imported here (then validating in process costs nothing more). Returns at once."""
    global _WORKER
    with _WORKER_LOCK:
        if (_WORKER is not None and _WORKER.alive()) or "great_expectations" in sys.modules:
            return
        try:
            _WORKER = _Worker()
        except OSError:
            _WORKER = None
            return
        atexit.register(_WORKER.stop)


def lower_worker_priority(niceness: int = 10) -> bool:
    """Let the worker run only on CPU time this process leaves idle (Linux ``nice``; a
    process may lower its children's priority, never raise it back). Whether it was done."""
    worker = _WORKER
    if worker is None or not worker.alive():
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, worker.proc.pid, niceness)
    except (OSError, AttributeError):  # gone meanwhile, or a platform without priorities
        return False
    return True


def stop_worker() -> None:
    global _WORKER
    with _WORKER_LOCK:
        if _WORKER is not None:
            _WORKER.stop()
            _WORKER = None


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


def _column_names(kwargs: dict[str, Any]) -> list[str]:
    """The columns an expectation's arguments name (none for a table-level expectation)."""
    cols = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    return cols + list(kwargs.get("column_list", []))


def _columns_of(kwargs: dict[str, Any]) -> str:
    return ", ".join(_column_names(kwargs))


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # pandas shows a missing value as NaN
        return None
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)


#: outcomes of the suites this process validated, by :func:`validation_key`, the newest last
_OUTCOMES: OrderedDict[bytes, SuiteOutcome] = OrderedDict()
_OUTCOMES_LOCK = threading.Lock()
#: how many outcomes are remembered (each is a few hundred bytes: no rows are kept)
REMEMBERED_OUTCOMES = 512


def validation_key(name: str, frame: pl.DataFrame,
                   expectations: Sequence[ExpectationSpec]) -> bytes | None:
    """What a suite's outcome depends on: its name, its expectations, its frame's column names
    and types, and its rows. Not the rows' order, which DuckDB does not keep from one run to
    the next without an ORDER BY: no expectation of ours depends on it (each reads a row, a
    pair of columns in a row, a column's set of values or the row count), only which
    unexpected values a failure shows as its sample. So each row is hashed by its values
    (polars' row hash, with two seeds: two 64-bit hashes a row) and each seed's hashes, sorted,
    are hashed (~2 ms for the 4,769 catalog prices, 17-39 ms for 100,000 rows of 13 columns,
    the most a check sends: GX takes ~0.5 s on those; Arrow IPC bytes are no key: equal
    frames came out different, their strings laid out in other buffers). None for a column of Python
    objects (polars would hash their identity, not their value; frames from DuckDB have
    none) or one polars cannot hash: such a frame is validated every time."""
    import polars as pl  # imported already: the frame is one

    if pl.Object in frame.dtypes:
        return None
    digest = hashlib.blake2b(digest_size=32)
    digest.update(json.dumps([name, [list(e) for e in expectations],
                              [[c, str(t)] for c, t in frame.schema.items()]],
                             sort_keys=True, default=repr).encode())
    try:
        for seed in (0, 1):
            digest.update(frame.hash_rows(seed=seed).sort().to_numpy().tobytes())
    except Exception:  # noqa: BLE001 - whatever polars cannot hash is validated each time
        return None
    return digest.digest()


def validate(
    name: str, frame: pl.DataFrame, expectations: Sequence[ExpectationSpec]
) -> SuiteOutcome:
    """Validate ``frame`` against the expectations; never raises for failed expectations.
    Runs in the validation worker when one was started, else in this process.

    A process that validated the same rows with the same expectations before gets that
    outcome again (``reused``), without GX: the outcome depends on nothing else. One run
    never repeats a suite, but a process that runs many (the test suite's ~160 refreshes of
    nearly the same exports, a notebook calling ``materialize``) validated the unchanged
    catalog and exports each time: a small refresh's 19 suites took ~1-2 s of GX."""
    started = time.perf_counter()
    frame = only_used_columns(frame, expectations)
    key = validation_key(name, frame, expectations)
    if key is None:
        return _validate(name, frame, expectations)
    with _OUTCOMES_LOCK:
        known = _OUTCOMES.get(key)
        if known is not None:
            _OUTCOMES.move_to_end(key)
            return replace(known, failed=copy.deepcopy(known.failed), reused=True,
                           seconds=time.perf_counter() - started)
    outcome = _validate(name, frame, expectations)
    with _OUTCOMES_LOCK:
        _OUTCOMES[key] = replace(outcome, failed=copy.deepcopy(outcome.failed))
        while len(_OUTCOMES) > REMEMBERED_OUTCOMES:
            _OUTCOMES.popitem(last=False)
    return outcome


def _validate(
    name: str, frame: pl.DataFrame, expectations: Sequence[ExpectationSpec]
) -> SuiteOutcome:
    worker = _WORKER
    if worker is not None and worker.alive():
        try:
            return worker.call((name, frame, list(expectations)))
        except (OSError, EOFError, pickle.PickleError):
            stop_worker()  # it died: validate here from now on
    return validate_here(name, frame, expectations)


def only_used_columns(
    frame: pl.DataFrame, expectations: Sequence[ExpectationSpec]
) -> pl.DataFrame:
    """``frame`` without the columns no expectation reads: less to pickle to the worker, to
    convert to pandas and for GX to carry (the staging sample: 0.79 s -> 0.46 s to validate
    with 13 of 27 columns). Unchanged when an expectation reads the table as a whole."""
    used: dict[str, None] = {}
    for _cls, kwargs in expectations:
        names = _column_names(kwargs)
        if not names:  # a table-level expectation (row count, column set, ...)
            return frame
        used.update(dict.fromkeys(names))
    # a column that is missing stays missing: GX reports it as it would have
    return frame.select([c for c in frame.columns if c in used])


def validate_here(
    name: str, frame: pl.DataFrame, expectations: Sequence[ExpectationSpec]
) -> SuiteOutcome:
    """:func:`validate`, in this process."""
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
    # pass or fail first, without the counts and samples a failure is told with: half the
    # time of a suite that passes (20 expectations on 1,000 rows: 0.13-0.15 -> 0.065 s); only
    # a suite that fails is validated again, for them
    result = batch.validate(suite, result_format={"result_format": "BOOLEAN_ONLY"})
    if not result.success:
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

