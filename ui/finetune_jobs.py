"""Background fine-tuning jobs for the Fine-tuning page: one training job at a time per server
(or Ray tasks, at most K at once across a school's cluster: ui.jobs.run_body).

    job = start_job(session_id(), data, FinetuneConfig(threads=2))   # UserFacingError("ft.busy")
    REGISTRY.job_for(sid); REGISTRY.beat(sid); REGISTRY.cancel(sid)  # see ui.jobs.JobRegistry

A job trains a fresh model copy in a daemon thread (never the cached shared model) and
reports progress into the Job (read by the page's fragment). ui.jobs does the rest: the
one slot shared with seq2seq training, cancelling, and stopping the job once its page
stops refreshing the heartbeat.

Finished models are saved (safetensors) under the session's own folder
(`session_models_dir`: a hash of the session id under the temp folder, not listed
anywhere); the session keeps {display name: folder} (`session_finetuned_models`), which
the BERT page lists, and only this session may open them (`session_model_roots`, the
extra root `ui.loaders.model` confines free model ids to). When the session ends (its
state is dropped by Streamlit), its folder is deleted. The page's cached calls (the saved
and untrained classifiers, the labelled sets) are in ui.loaders.finetune.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from lmcore.inference.job_bodies import HEAD_CHANGE_SENTENCES, finetune_progress
from lmcore.pretrained.classifier import HeadChange
from lmcore.pretrained.finetune import FinetuneConfig, Progress
from lmcore.pretrained.tasks import LabelledSet
from ui import jobs

MAX_SAVED = 10           # fine-tuned folders kept on disk per server (oldest deleted)
SESSIONS_ROOT = Path(tempfile.gettempdir()) / "attnlab-sessions"
MAX_THREADS = 2         # torch threads while training on a quiet machine (the server's only job)
_MODELS_KEY = "ft_models"
_GUARD_KEY = "ft_session_folder"


@dataclass(eq=False)
class Job(jobs.Job):
    """A fine-tuning run; steps: {"x", "loss", "accuracy"}, epochs: {"epoch", "val_loss", "val_accuracy"}."""

    data: LabelledSet
    config: FinetuneConfig
    change: HeadChange | None = None   # how much each head's attention moved (after "analysing")


def app_threads() -> int:
    """Torch threads for a job: up to MAX_THREADS on a quiet machine, 1 when the CPUs are busy.

    Measured on this 2-core machine under a load of ~11: a MiniLM training step took
    1.3-1.9 s wall with 1 thread and 10-16 s with 2 (OpenMP threads spin-waiting for a
    descheduled partner), so 2 threads only pay off when nothing else runs.
    """
    try:
        idle = (os.cpu_count() or 1) - os.getloadavg()[0]
    except OSError:
        idle = 0.0
    return max(1, min(MAX_THREADS, int(idle + 0.5)))


def start_job(session: str, data: LabelledSet, config: FinetuneConfig) -> Job:
    """Start training in a background thread; UserFacingError("ft.busy") if any job runs."""
    _delete_on_session_end()
    return REGISTRY.start(session, data=data, config=config)


def _on_progress(job: Job, p: Progress) -> bool:
    """One progress report into the job (embedded path): its steps, epochs and latest report."""
    return finetune_progress(jobs.job_reporter(REGISTRY, job, lambda q: _on_progress(job, q)), p)


def _run(job: Job) -> None:
    """lmcore.inference.job_bodies.finetune_body, here or as a Ray task; the model saved here."""
    jobs.run_and_save(REGISTRY, job, lambda p: _on_progress(job, p), "attnlab-finetuned-",
                      str(session_models_dir(job.session)), data=job.data, config=job.config,
                      head_change_sentences=HEAD_CHANGE_SENTENCES)


REGISTRY: jobs.JobRegistry[Job] = jobs.JobRegistry("finetune", Job, _run, busy_key="ft.busy", max_saved=MAX_SAVED)


# ---------------------------------------------------------------- the session's models
def session_models_dir(session: str) -> Path:
    """This session's folder of fine-tuned models (the session id itself appears nowhere)."""
    return SESSIONS_ROOT / hashlib.sha256(session.encode("utf-8")).hexdigest()[:32]


def session_model_roots() -> list[Path]:
    """The extra model root only the current session may open (its fine-tuned models)."""
    return [session_models_dir(jobs.session_id())]


class _SessionFolder:
    """Held in session state: when Streamlit drops the ended session's state, the folder goes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        weakref.finalize(self, shutil.rmtree, str(folder), True)


def _delete_on_session_end() -> None:
    if _GUARD_KEY not in st.session_state:
        st.session_state[_GUARD_KEY] = _SessionFolder(session_model_roots()[0])


def register_model(name: str, folder: str) -> None:
    _delete_on_session_end()
    st.session_state.setdefault(_MODELS_KEY, {})[name] = folder


def session_finetuned_models() -> dict[str, str]:
    """{display name: model folder} fine-tuned in this session (folders still on disk).

    A folder loads with `lmcore.pretrained.loading.load_model(folder)` as an "encoder" (the BERT
    page's attention path), or with `lmcore.pretrained.classifier.load_classifier(folder)`.
    """
    models = st.session_state.get(_MODELS_KEY, {})
    return {name: f for name, f in models.items() if (Path(f) / "config.json").is_file()}

