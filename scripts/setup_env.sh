#!/usr/bin/env bash
# Create .venv and install the Python requirements (shared by start.sh and test.sh).
# Usage: source scripts/setup_env.sh requirements.txt
set -euo pipefail
REQS="${1:-requirements.txt}"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r "$REQS"
