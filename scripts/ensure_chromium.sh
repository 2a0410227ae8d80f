#!/usr/bin/env bash
# Install Debian's chromium for the browser test of the weekly report, if it is missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium (Debian package) for the report's browser test" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq chromium >&2
else
  echo "chromium is missing and cannot be installed here (need root and apt-get):" \
       "the browser test will be skipped outside CI" >&2
fi
