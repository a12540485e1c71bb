"""One training job per server, across the app (fine-tuning and seq2seq training).

Each job registry (ui.finetune_jobs, ui.seq2seq_jobs) checks the other's busy() before it
starts a job. Holding START_LOCK around that check and the start makes the pair atomic, so
two sessions clicking "start" on the two pages at the same moment cannot both win.
Always take START_LOCK before a registry's own lock.
"""
from __future__ import annotations

import threading

START_LOCK = threading.Lock()
