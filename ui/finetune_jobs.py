"""Background fine-tuning jobs for the Fine-tuning page: one at a time per server.

    job = start_job(session_id(), data, FinetuneConfig(threads=2))   # UserFacingError("ft.busy")
    job = job_for(session_id()); beat(session_id()); cancel(session_id())

The registry is module-level, so it is shared by every session of this server process.
A job trains a fresh model copy in a daemon thread (never the cached shared model),
reports progress into the Job (read by the page's fragment), and stops cleanly when:
the owner cancels, or the owner's page stops refreshing the heartbeat for STALE_SECONDS
(the user left the page, closed the tab, or the session ended).

Finished models are saved (safetensors) to a temporary folder; the session keeps
{display name: folder} (`session_finetuned_models`), which the BERT page can list.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field

import streamlit as st

from lmcore import pretrained
from lmcore.errors import UserFacingError
from lmcore.finetune import (FinetuneConfig, FinetuneResult, Progress, finetune, is_finetuned_folder,
                             save_classifier, zip_folder)
from lmcore.finetune_model import (Classifier, HeadChange, as_loaded, build_classifier, head_change,
                                   load_classifier, predict)
from lmcore.tasks import LabelledSet, load_task, read_labelled_table, table_columns
from ui import training_slot
from ui.training_slot import session_id

STALE_SECONDS = 30.0     # no heartbeat for this long: the page is gone, the job stops
MAX_SAVED = 10           # fine-tuned folders kept on disk per server (oldest deleted)
HEAD_CHANGE_SENTENCES = 120
MAX_THREADS = 2         # torch threads while training on a quiet machine (the server's only job)
_MODELS_KEY = "ft_models"


@dataclass(eq=False)
class Job:
    id: int
    session: str
    data: LabelledSet
    config: FinetuneConfig
    stop: threading.Event = field(default_factory=threading.Event)
    state: str = "preparing"           # preparing | training | analysing | done | cancelled | failed
    steps: list[dict] = field(default_factory=list)    # {"x": fractional epoch, "loss", "accuracy"}
    epochs: list[dict] = field(default_factory=list)   # {"epoch", "val_loss", "val_accuracy"}
    last: Progress | None = None
    result: FinetuneResult | None = None
    change: HeadChange | None = None
    folder: str | None = None
    error: UserFacingError | None = None
    failure: str | None = None         # exception type name of an unexpected failure
    heartbeat: float = field(default_factory=time.monotonic)
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.state in ("preparing", "training", "analysing")


_LOCK = threading.Lock()
_RUNNING: list[Job] = []          # at most one
_LATEST: dict[str, Job] = {}      # session id -> its latest job
_SAVED: list[str] = []            # folders, oldest first
_COUNTER = [0]


def app_threads() -> int:
    """Torch threads for a job: up to MAX_THREADS on a quiet machine, 1 when the CPUs are busy.

    Measured on this 2-core machine under a load of ~11: a MiniLM training step took
    1.3-1.9 s wall with 1 thread and 10-16 s with 2 (OpenMP threads spin-waiting for a
    descheduled partner), so 2 threads only pay off when nothing else runs.
    """
    import os
    try:
        idle = (os.cpu_count() or 1) - os.getloadavg()[0]
    except OSError:
        idle = 0.0
    return max(1, min(MAX_THREADS, int(idle + 0.5)))


def busy(session: str | None = None) -> bool:
    """True when a job of another session is running."""
    with _LOCK:
        return any(j.running and j.session != session for j in _RUNNING)


def _seq2seq_busy() -> bool:
    from ui import seq2seq_jobs
    return seq2seq_jobs.busy()


def server_busy(session: str | None = None) -> bool:
    """True when this page cannot start a job: another session's, or any seq2seq training, runs."""
    return busy(session) or _seq2seq_busy()


def start_job(session: str, data: LabelledSet, config: FinetuneConfig) -> Job:
    """Start training in a background thread; UserFacingError("ft.busy") if one runs."""
    with training_slot.START_LOCK, _LOCK:  # the check and the start, atomic across pages
        _RUNNING[:] = [j for j in _RUNNING if j.running and j.thread is not None and j.thread.is_alive()]
        if _RUNNING or _seq2seq_busy():  # one training job per server, across the app
            raise UserFacingError("ft.busy")
        _prune_finished()
        _COUNTER[0] += 1
        job = Job(_COUNTER[0], session, data, config)
        job.thread = threading.Thread(target=_run, args=(job,), name=f"finetune-{job.id}", daemon=True)
        _RUNNING.append(job)
        _LATEST[session] = job
    job.thread.start()
    return job


def _prune_finished(max_age: float = 3600.0) -> None:
    """Forget finished jobs nobody picked up for an hour (their sessions are gone). Holds _LOCK."""
    now = time.monotonic()
    for sid, job in list(_LATEST.items()):
        if not job.running and now - job.heartbeat > max_age:
            del _LATEST[sid]


def job_for(session: str) -> Job | None:
    with _LOCK:
        return _LATEST.get(session)


def forget(session: str) -> None:
    with _LOCK:
        _LATEST.pop(session, None)


def beat(session: str) -> None:
    """The page is still open: keep its job alive."""
    job = job_for(session)
    if job is not None:
        job.heartbeat = time.monotonic()


def cancel(session: str) -> None:
    job = job_for(session)
    if job is not None and job.running:
        job.stop.set()


def _on_progress(job: Job, p: Progress) -> bool:
    job.state, job.last = "training", p
    if p.phase == "epoch":
        job.epochs.append({"epoch": p.epoch, "val_loss": p.val_loss, "val_accuracy": p.val_accuracy})
    else:
        job.steps.append({"x": p.epoch - 1 + p.step / p.total, "loss": p.loss, "accuracy": p.accuracy})
    if time.monotonic() - job.heartbeat > STALE_SECONDS:
        job.stop.set()
    return not job.stop.is_set()


def _run(job: Job) -> None:
    try:
        clf, result = finetune(job.data, job.config, lambda p: _on_progress(job, p), job.stop)
        if result.stopped == "cancelled" or job.stop.is_set():
            job.state = "cancelled"
            return
        job.state = "analysing"
        texts = list(job.data.validation.texts[:HEAD_CHANGE_SENTENCES])
        job.change = head_change(pretrained.load_model(job.config.model), clf, texts, job.config.max_length)
        job.folder = _save(clf, result)
        job.result = result
        job.state = "done"
    except UserFacingError as error:
        job.error, job.state = error, "failed"
    except Exception as error:  # shown as its type only, never a traceback
        job.failure, job.state = type(error).__name__, "failed"
    finally:
        with _LOCK:
            if job in _RUNNING:
                _RUNNING.remove(job)


def _save(clf: Classifier, result: FinetuneResult) -> str:
    folder = tempfile.mkdtemp(prefix="attnlab-finetuned-")
    save_classifier(clf, folder, result)
    with _LOCK:
        _SAVED.append(folder)
        old = _SAVED[:-MAX_SAVED]
        del _SAVED[:-MAX_SAVED]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)
    return folder


# ---------------------------------------------------------------- the session's models
def register_model(name: str, folder: str) -> None:
    st.session_state.setdefault(_MODELS_KEY, {})[name] = folder


def session_finetuned_models() -> dict[str, str]:
    """{display name: model folder} fine-tuned in this session (folders still on disk).

    A folder loads with `lmcore.pretrained.load_model(folder)` as an "encoder" (the BERT
    page's attention path), or with `lmcore.finetune_model.load_classifier(folder)`.
    """
    from pathlib import Path
    models = st.session_state.get(_MODELS_KEY, {})
    return {name: f for name, f in models.items() if (Path(f) / "config.json").is_file()}


# ---------------------------------------------------------------- cached calls for the page
@st.cache_resource(max_entries=3, show_spinner=False)
def finetuned(folder: str) -> Classifier:
    """A saved fine-tuned classifier (read only)."""
    if not is_finetuned_folder(folder):
        raise UserFacingError("ft.err.gone")
    return load_classifier(folder)


@st.cache_resource(max_entries=2, show_spinner=False)
def initial(base: str, labels: tuple[str, ...], seed: int) -> Classifier:
    """The model before fine-tuning: the pretrained encoder and the same seeded, untrained head."""
    return build_classifier(base, labels, seed)


@st.cache_data(max_entries=32, show_spinner=False)
def compare(folder: str, text: str) -> dict:
    """Predictions (probabilities per label) and attention maps before and after, for one text."""
    after = finetuned(folder)
    before = initial(after.base_name, after.label_names, after.seed)
    out: dict = {"labels": after.label_names}
    for key, clf in (("before", before), ("after", after)):
        res = pretrained.attention(as_loaded(clf), text, max_tokens=64)
        out[key] = predict(clf, [text])[0].tolist()
        out[f"{key}_maps"], out["notices"] = res.maps, res.notices
    return out


@st.cache_data(max_entries=8, show_spinner=False)
def task(name: str) -> LabelledSet:
    return load_task(name)


@st.cache_data(max_entries=4, show_spinner=False)
def columns(raw: bytes, filename: str) -> list[str]:
    return table_columns(raw, filename)


@st.cache_data(max_entries=4, show_spinner=False)
def uploaded(raw: bytes, text_column: str, label_column: str, filename: str) -> LabelledSet:
    return read_labelled_table(raw, text_column, label_column, filename)


@st.cache_data(max_entries=4, show_spinner=False)
def model_zip(folder: str) -> bytes:
    return zip_folder(folder)


