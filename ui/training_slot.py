"""One training job per server, across the app (fine-tuning and seq2seq training), and the
session id that job registries key their jobs by.

Each job registry (ui.finetune_jobs, ui.seq2seq_jobs) checks the other's busy() before it
starts a job. Holding START_LOCK around that check and the start makes the pair atomic, so
two sessions clicking "start" on the two pages at the same moment cannot both win.
Always take START_LOCK before a registry's own lock.
"""
from __future__ import annotations

import threading

START_LOCK = threading.Lock()


def session_id() -> str:
    """The current Streamlit session's id ("no-session" outside a script run)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else "no-session"
