#!/usr/bin/env bash
# Create .venv and install the Python requirements (shared by start.sh and test.sh).
# Usage: bash scripts/setup_env.sh requirements.txt
# Once a requirements file (and the files it includes with -r) is installed, a stamp with their
# hash is left in .venv and later runs skip pip: a start in a classroom with no internet asks
# no package index. Progress is printed as it goes (the first install takes a few minutes).
set -euo pipefail
REQS="${1:-requirements.txt}"
PYTHON="${PYTHON:-python3}"
say() { printf '[attention-lab] %s\n' "$*" >&2; }
included() {  # the file and every file it pulls in with -r, each once
  local f="$1" dir
  dir=$(dirname "$f")
  echo "$f"
  sed -n 's/^-r[[:space:]]*//p' "$f" | while read -r inc; do included "$dir/$inc"; done
}
STAMP=".venv/.installed-$(included "$REQS" | sort -u | xargs cat | sha256sum | cut -c1-16)"
if [ -x .venv/bin/python ] && [ -f "$STAMP" ]; then
  say "requirements already installed ($REQS): no download needed"
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  say "1/3 creating the virtual environment .venv with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv .venv
fi
say "2/3 updating pip"
.venv/bin/python -m pip install --quiet --upgrade pip
say "3/3 installing $REQS (torch, transformers, streamlit...: the first time takes a few minutes)"
set +e
.venv/bin/python -m pip install -r "$REQS" | grep -E --line-buffered '^(Collecting|Installing|Successfully)' >&2
status=${PIPESTATUS[0]}
set -e
if [ "$status" != 0 ]; then
  say "pip could not install $REQS (exit $status): nothing was marked as installed"
  exit "$status"
fi
touch "$STAMP"
say "installed"
