#!/usr/bin/env bash
# Set up whatever is missing: a virtual environment with the CPU build of torch and the project.
# `scripts/setup.sh test` also installs what the tests need (Debian's chromium for the browser tests).
# Re-running is cheap: a stamp records what was installed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${POLICYQA_VENV:-.venv}"
PY="${PYTHON:-python3}"
stamp="$VENV/.policyqa-setup"
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)-${1:-run}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV" >&2
  "$PY" -m venv "$VENV"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing packages (first run takes a few minutes)" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
  # The CPU wheel of torch lies on local disk; installing it first keeps pip off the CUDA build.
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check torch==2.13.0
  if [ "${1:-run}" = "test" ]; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[test]"
  else
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e .
  fi
  echo "$want" > "$stamp"
fi
# The inference models (the embedder's, the judge's cross-encoder), made once from the shipped weights (a few seconds; nothing downloads).
"$VENV/bin/python" -c "from index.embedder import prepare_models; prepare_models()
from qa.cross_encoder import prepare; prepare()"
if [ "${1:-run}" = "test" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing Debian's chromium for the browser tests" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ "${1:-run}" = "test" ] && [ ! -f node_modules/axe-core/axe.min.js ]; then
  # axe-core (npm registry, pinned by package-lock.json) checks accessibility inside the browser tests.
  if command -v npm >/dev/null 2>&1; then
    echo "setup: installing axe-core for the accessibility checks (npm ci)" >&2
    npm ci --no-audit --no-fund --silent
  else
    echo "setup: npm not found; the accessibility checks will be skipped (apt-get install -y npm)" >&2
  fi
fi
