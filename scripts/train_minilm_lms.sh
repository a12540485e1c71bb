#!/usr/bin/env bash
# Replays the two MiniLM-based bundled language models (lmcore/assets/minilm-mlm, minilm-gpt) with
# the package scripts/minilm (`python -m scripts.minilm --help`). The commands recorded in their
# metrics.json name scripts/train_minilm_lms.py and train_minilm_nsp.py: those files still run them
# (each now runs `python -m scripts.minilm lms|nsp` with the same arguments).
# Each job uses one thread (a core stays free for tests); both checkpoint to runs/<model>/ckpt.pt
# every 3 minutes and resume from it when started again with the same command.
# Data: ../shared/datasets (read only). Writes metrics.json with budget, data and held-out figures.
#
# How the committed models were made (2-core development machine, no accelerator, shared with
# other work; budgets are CPU time of the training thread, so a busy machine changes wall time only):
#   minilm-mlm: started with --cpu-minutes 70, resumed from its checkpoint at 43.7 CPU minutes with
#               --cpu-minutes 85 (the cosine learning rate follows the new budget from there).
#   minilm-gpt: --cpu-minutes 60 --lr 2e-4, then resumed from its checkpoint at 60 CPU minutes with
#               --cpu-minutes 100 (2026-12-01; log: scripts/logs/minilm-gpt-stage2.log), then (2026-12-02;
#               log: scripts/logs/minilm-gpt-stage3.log) continued from that bundled model:
#                 train_minilm_lms.py causal --cpu-minutes 150 --lr 1.5e-4 --start minilm-gpt \
#                   --shakespeare 0.15 --bucket   (one thread to 44 CPU minutes, resumed with --threads 2)
#   minilm-mlm, second stage (next-sentence head that works on everyday pairs; in place, after the
#               first stage): scripts/train_minilm_nsp.py --cpu-minutes 25 (one thread).
#   minilm-mlm, stage-3 candidate (more of the world: WordNet 3.0 glosses as 35 % of the texts, the
#               second stage's same-source next-sentence pairs for the rest; issue 26 item 1). Written to
#               runs/minilm-mlm-wordnet, not over the bundled model; bundled only if its validation
#               fill-mask is better and its development next-sentence accuracy no worse. Started 2026-12-08:
#                 nohup nice -n 15 .venv/bin/python scripts/train_minilm_lms.py mlm --start minilm-mlm \
#                   --wordnet 0.35 --nsp-pairs same-source --cpu-minutes 100 --lr 5e-05 --eval-every 500 \
#                   --threads 1 --out runs/minilm-mlm-wordnet >> runs/logs/minilm-mlm-wordnet.log 2>&1 &
#               That process stopped at step 1500 (24.8 CPU minutes, its checkpoint); the run was resumed
#               from that checkpoint the same way but with --cpu-minutes 50 (the cosine follows the new
#               budget from there), with the code of commit 19071d1 (a worktree at /work/wt); its
#               metrics.json records only the second command. Log: runs/logs/minilm-mlm-wordnet.log.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p runs/logs
( nice -n 10 "$PY" -m scripts.minilm lms mlm --cpu-minutes 85 --lr 1.5e-4 >> runs/logs/minilm-mlm.log 2>&1 &&
  nice -n 10 "$PY" -m scripts.minilm nsp --cpu-minutes 25 >> runs/logs/minilm-nsp.log 2>&1 ) &
( nice -n 10 "$PY" -m scripts.minilm lms causal --cpu-minutes 100 --lr 2e-4 >> runs/logs/minilm-gpt.log 2>&1 &&
  nice -n 10 "$PY" -m scripts.minilm lms causal --cpu-minutes 150 --lr 1.5e-4 --start minilm-gpt \
    --shakespeare 0.15 --bucket >> runs/logs/minilm-gpt.log 2>&1 ) &
wait
