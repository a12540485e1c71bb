#!/usr/bin/env bash
# Train the bundled tiny-bert and tiny-gpt2 (about 15 minutes each on one CPU thread).
# Writes lmcore/assets/tiny-bert/ and lmcore/assets/tiny-gpt2/ (weights, tokenizer, metrics.json).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
nice -n 10 "$PY" scripts/train_tiny_lms.py gpt2 --minutes 14 --vocab 4096 --width 128 --batch 32 --threads 1 > train_tiny_gpt2.log 2>&1 &
nice -n 10 "$PY" scripts/train_tiny_lms.py bert --minutes 14 --vocab 4096 --width 128 --batch 32 --threads 1 > train_tiny_bert.log 2>&1 &
wait
