#!/usr/bin/env bash
# Set up the project's virtual environment (.venv/) from uv.lock; install uv with pip if needed.
# Prints the uv command to use on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v uv >/dev/null 2>&1; then
  UV=(uv)
else
  if ! python3 -m uv --version >/dev/null 2>&1; then
    echo "uv not found: installing it with pip" >&2
    python3 -m pip install --quiet --disable-pip-version-check uv >&2
  fi
  UV=(python3 -m uv)
fi
# --compile-bytecode: this environment does not write .pyc files at import time
"${UV[@]}" sync --frozen --compile-bytecode --python 3.11 >&2
echo "${UV[*]}"
