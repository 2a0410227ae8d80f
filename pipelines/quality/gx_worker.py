"""The validation worker (see :mod:`pipelines.quality.gx`): imports great_expectations, then
answers one request per pickle read from stdin until stdin closes.

A request is ``(suite name, polars frame, expectation specs)``; the reply is
``("ok", SuiteOutcome)`` or ``("error", message)``. Whatever GX prints goes to stderr: stdout
carries only replies.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import sys
from types import ModuleType
from typing import Any

#: modules great_expectations imports when it is imported but our suites never call into:
#: loaded on first use instead. GX imports ``scipy.stats`` for its distribution expectations
#: only (~0.75 s of its ~2.5 s import on the benchmark machine), ``altair`` to draw the
#: charts of one of them (~0.35 s)
DEFERRED_MODULES = ("scipy.stats", "altair")
#: optional dependencies of GX's SQL datasources. Dagster installs SQLAlchemy, so GX would
#: import it (~0.3 s); the worker validates pandas frames only, so it hides it from GX, which
#: then treats it as not installed (``sys.modules[name] = None`` makes importing it fail)
HIDDEN_MODULES = ("sqlalchemy",)


class StandIn(ModuleType):
    """What :func:`defer_import` puts in place of a top-level module. ``importlib``'s lazy
    modules cannot stand for one: ``import name`` reads the module's ``__spec__``, and any
    attribute read loads a lazy module. A stand-in's ``__spec__`` is a plain None; reading any
    attribute it does not have imports the real module, which takes its place in
    ``sys.modules``, and answers from it."""

    def __getattr__(self, attr: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


def defer_import(name: str) -> ModuleType | None:
    """Put ``name`` in ``sys.modules`` as a lazy module: importing it costs nothing, its code
    runs on the first attribute access (``importlib.util.LazyLoader``; a :class:`StandIn`
    for a top-level module). ``None`` when it is already imported or not installed: then
    nothing changes."""
    if name in sys.modules:
        return None
    parent_name, _, child = name.rpartition(".")
    try:
        parent = importlib.import_module(parent_name) if parent_name else None
        spec = importlib.util.find_spec(name)
    except ImportError:
        return None
    if spec is None or spec.loader is None:
        return None
    if parent is None:
        sys.modules[name] = stand_in = StandIn(name)
        return stand_in
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    if parent is not None:
        # `from scipy import stats` reads the attribute: it must find the lazy module,
        # not make the package import the real one
        setattr(parent, child, module)
    return module


def main() -> int:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer
    for name in DEFERRED_MODULES:
        defer_import(name)
    for name in HIDDEN_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    from pipelines.quality import gx

    gx._context()  # the import and the context, before the first request arrives
    while True:
        try:
            name, frame, expectations = pickle.load(requests)
        except EOFError:
            # the run is over: skip the interpreter's teardown of GX's thousands of modules
            # (~0.8 s), there is nothing to flush or close
            replies.close()
            os._exit(0)
        try:
            reply: tuple = ("ok", gx.validate_here(name, frame, expectations))
        except Exception as exc:  # noqa: BLE001 - reported to the check, which fails
            reply = ("error", f"{type(exc).__name__}: {exc}")
        pickle.dump(reply, replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()


if __name__ == "__main__":
    sys.exit(main())
