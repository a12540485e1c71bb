#!/usr/bin/env bash
# Install everything the app needs into .venv and start it on http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh requirements.txt
export HF_HUB_DISABLE_TELEMETRY=1
exec .venv/bin/python -m ui.launch "$@"
