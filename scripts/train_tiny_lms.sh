#!/usr/bin/env bash
# Train the bundled tiny-gpt2 and tiny-bert on one CPU thread each (lmcore/assets/tiny-*/:
# weights, tokenizer, metrics.json, README.md). Needs ../shared/datasets.
#
# `python -m scripts.tiny_lms` is what scripts/train_tiny_lms.py runs (the same arguments).
# These replay the shipped models' schedules (fixed seed and step counts; the original runs fixed
# their step count after timing 20 steps, so those first 20 learning rates differ slightly). On the
# project's busy shared 2-core machine they were first run with a CPU-time budget
# (`--minutes 12` for GPT-2, `--minutes 14` for BERT); the step counts below are what those runs did.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
# tiny-gpt2: cut short at step 253 of a 694-step schedule by the wall-clock cap
nice -n 10 "$PY" -m scripts.tiny_lms gpt2 --steps 694 --stop-after 253 --lr 1e-3 --batch 32 --vocab 4096 --width 128 --threads 1 --minutes 60 --max-wall-minutes 120 > train_tiny_gpt2.log 2>&1 &
# tiny-bert: cut short at step 859 of a 3146-step schedule; 25% masking in training
nice -n 10 "$PY" -m scripts.tiny_lms bert --steps 3146 --stop-after 859 --lr 2e-3 --mask-rate 0.25 --batch 64 --vocab 4096 --width 128 --threads 1 --minutes 60 --max-wall-minutes 120 > train_tiny_bert.log 2>&1 &
wait
