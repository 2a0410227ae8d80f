"""The code's static checks, run with the suite so CI holds them: ruff's lint rules over the
repo and mypy's type check of `pipelines/`, `benchmarks/` and `tests/` (both configured in
pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_the_code_passes_ruff():
    done = _run(str(BIN / "ruff"), "check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_pipelines_type_check():
    """The type hints of the product's code, its benchmark and its tests hold: a function
    annotated to return a frame returns one, a price that may be None is never passed where
    one is required, a query's row is not taken for granted. Bodies without annotations are
    checked too (``check_untyped_defs``), the tests' included."""
    done = _run(str(BIN / "mypy"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues found" in done.stdout
