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
state is dropped by Streamlit), its folder is deleted.
"""
from __future__ import annotations

import hashlib
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from lmcore.errors import UserFacingError
from lmcore.inference.job_bodies import HEAD_CHANGE_SENTENCES, finetune_progress
from lmcore.pretrained.finetune import FinetuneConfig, Progress, is_finetuned_folder
from lmcore.files import zip_folder
from lmcore.pretrained.classifier import (BeforeAfter, Classifier, HeadChange, before_after, build_classifier,
                                          load_classifier)
from lmcore.pretrained.preview import BeforeTraining
from lmcore.pretrained.preview import before_training as _before_training
from lmcore.pretrained.tasks import MAX_BYTES, LabelledSet, load_task, read_labelled_table, table_columns
from ui.jobs import Job as BaseJob
from ui.jobs import JobRegistry, job_reporter, run_body

MAX_SAVED = 10           # fine-tuned folders kept on disk per server (oldest deleted)
SESSIONS_ROOT = Path(tempfile.gettempdir()) / "attnlab-sessions"
MAX_THREADS = 2         # torch threads while training on a quiet machine (the server's only job)
_MODELS_KEY = "ft_models"
_GUARD_KEY = "ft_session_folder"


@dataclass(eq=False)
class Job(BaseJob):
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
    import os
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
    return finetune_progress(job_reporter(REGISTRY, job, lambda q: _on_progress(job, q)), p)


def _run(job: Job) -> None:
    """lmcore.inference.job_bodies.finetune_body, here or as a Ray task; the model saved here."""
    write = run_body(REGISTRY, job, lambda p: _on_progress(job, p), data=job.data, config=job.config,
                     head_change_sentences=HEAD_CHANGE_SENTENCES)
    if write is None:
        return
    job.folder = REGISTRY.save_folder("attnlab-finetuned-", write, parent=str(session_models_dir(job.session)))
    job.state = "done"


REGISTRY: JobRegistry[Job] = JobRegistry("finetune", Job, _run, busy_key="ft.busy", max_saved=MAX_SAVED)


# ---------------------------------------------------------------- the session's models
def session_models_dir(session: str) -> Path:
    """This session's folder of fine-tuned models (the session id itself appears nowhere)."""
    return SESSIONS_ROOT / hashlib.sha256(session.encode("utf-8")).hexdigest()[:32]


def session_model_roots() -> list[Path]:
    """The extra model root only the current session may open (its fine-tuned models)."""
    from ui.jobs import session_id
    return [session_models_dir(session_id())]


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
def compare(folder: str, text: str) -> BeforeAfter:
    """lmcore's before/after comparison of one text (predictions and attention maps)."""
    after = finetuned(folder)
    return before_after(initial(after.base_name, after.label_names, after.seed), after, text)


@st.cache_data(max_entries=8, show_spinner=False)
def before_training(base: str, data: LabelledSet, rows: int, seed: int, max_length: int) -> BeforeTraining:
    """The page's opening view: the untrained classifier (the same one `compare` starts from)
    on the first `rows` validation sentences, and the first one's attention."""
    return _before_training(initial(base, data.label_names, seed), data.validation, rows, 0, max_length)


def upload_megabytes() -> int:
    """The upload box's limit in MB (the server refuses more than MAX_BYTES with a message)."""
    return max(1, round(MAX_BYTES / 1_000_000))


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


