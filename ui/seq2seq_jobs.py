"""Background seq2seq training for the "Train your own" page: one job at a time per server.

    job = start_job(session_id(), pairs, settings)   # UserFacingError("s2sp.busy") if busy
    job_for(sid); beat(sid); cancel(sid); forget(sid)

ui.finetune_jobs keeps its own registry for fine-tuning (its jobs are tied to
FinetuneConfig), so this one refuses to start while `ui.finetune_jobs.busy()` is true,
and `busy()` here tells the fine-tuning side that a translator is training. A job trains
a fresh model in a daemon thread (never a cached shared translator), records progress
and, after every epoch, the watched sentence's translation and alignment. It stops when
the owner cancels or the owner's page stops refreshing the heartbeat for STALE_SECONDS.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lmcore.checkpoints import Checkpoint, save_checkpoint, zip_folder
from lmcore.data import DataConfig, prepare_translation_data
from lmcore.decoding import decode
from lmcore.errors import UserFacingError
from lmcore.seq2seq import Seq2Seq, Seq2SeqConfig
from lmcore.text import encode_text
from lmcore.training import Progress, TrainConfig, TrainResult, train_model
from ui import training_slot
from ui.training_slot import session_id

STALE_SECONDS = 30.0   # no heartbeat for this long: the page is gone, the job stops
MAX_SAVED = 10         # trained folders kept on disk per server (oldest deleted)
MAX_MINUTES = 10.0     # wall-clock budget of one in-app training
TRAIN_THREADS = 1      # torch threads of the training thread (per thread: the app's other threads keep
                       # theirs). Measured on the shared 2-core machine: 2 threads made each step ~14x
                       # slower than 1 (OpenMP threads spin while the other core is busy).


@dataclass(frozen=True)
class Settings:
    """What the page's form chooses."""

    src_lang: str = "en"
    tgt_lang: str = "fr"
    attention: str = "bahdanau"   # one of lmcore.seq2seq.ATTENTIONS
    hidden: int = 128             # embedding and RNN width
    epochs: int = 8
    watch: str = ""               # the sentence whose alignment is snapshotted each epoch
    seed: int = 0


@dataclass(eq=False)
class Job:
    id: int
    session: str
    settings: Settings
    pairs: list
    stop: threading.Event = field(default_factory=threading.Event)
    state: str = "preparing"         # preparing | training | done | cancelled | failed
    steps: list[dict] = field(default_factory=list)      # {"x": fractional epoch, "loss"}
    epochs: list[dict] = field(default_factory=list)     # {"epoch", "val_loss"}
    snapshots: list[dict] = field(default_factory=list)  # {"epoch", "output", "weights" (T, S) | None}
    source_tokens: list[str] = field(default_factory=list)
    last: Progress | None = None
    result: TrainResult | None = None
    folder: str | None = None
    error: UserFacingError | None = None
    failure: str | None = None       # exception type of an unexpected failure
    heartbeat: float = field(default_factory=time.monotonic)
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.state in ("preparing", "training")


_LOCK = threading.Lock()
_RUNNING: list[Job] = []
_LATEST: dict[str, Job] = {}
_SAVED: list[str] = []
_COUNTER = [0]


def busy(session: str | None = None) -> bool:
    """True when a seq2seq job of another session (any session when None) is running."""
    with _LOCK:
        return any(j.running and j.session != session for j in _RUNNING)


def _finetune_busy() -> bool:
    from ui import finetune_jobs
    return finetune_jobs.busy()


def server_busy(session: str | None = None) -> bool:
    """True when this page cannot start a job: another session's, or any fine-tuning, runs."""
    return busy(session) or _finetune_busy()


def start_job(session: str, pairs: list, settings: Settings) -> Job:
    """Start training in a daemon thread; UserFacingError("s2sp.busy") while any job runs."""
    with training_slot.START_LOCK, _LOCK:  # the check and the start, atomic across pages
        _RUNNING[:] = [j for j in _RUNNING if j.running and j.thread is not None and j.thread.is_alive()]
        if _RUNNING or _finetune_busy():
            raise UserFacingError("s2sp.busy")
        _COUNTER[0] += 1
        job = Job(_COUNTER[0], session, settings, list(pairs))
        job.thread = threading.Thread(target=_run, args=(job,), name=f"seq2seq-{job.id}", daemon=True)
        _RUNNING.append(job)
        _LATEST[session] = job
    job.thread.start()
    return job


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
    if p.val_loss is not None:
        job.epochs.append({"epoch": p.epoch, "val_loss": round(p.val_loss, 4)})
    else:
        job.steps.append({"x": p.epoch - 1 + p.step / max(p.total, 1), "loss": p.loss})
    if time.monotonic() - job.heartbeat > STALE_SECONDS:
        job.stop.set()
    return not job.stop.is_set()


def _snapshot(job: Job, epoch: int, model: Seq2Seq, ids: list[int], itos: list[str]) -> None:
    """The watched sentence decoded greedily by the model as it is now (eval mode)."""
    res = decode(model, ids, max_len=min(2 * len(ids) + 10, 60))
    words = [itos[s.token] if s.token < len(itos) else "<unk>" for s in res.steps]
    weights = None if not res.steps or res.steps[0].weights is None else \
        np.round(np.stack([s.weights for s in res.steps]), 3).astype(np.float32)  # (T, S)
    job.snapshots.append({"epoch": epoch, "output": words, "weights": weights})


def _run(job: Job) -> None:
    s = job.settings
    torch.set_num_threads(TRAIN_THREADS)  # this thread only
    try:
        data_cfg = DataConfig(s.src_lang, s.tgt_lang, val_fraction=0.1, src_min_freq=1, tgt_min_freq=1,
                              max_vocab=4000, max_src_tokens=60 if s.src_lang != "ko" else 160, seed=s.seed)
        data = prepare_translation_data(job.pairs, data_cfg)
        torch.manual_seed(s.seed)
        model = Seq2Seq(Seq2SeqConfig(len(data.src_vocab), len(data.tgt_vocab), s.hidden, s.hidden,
                                      attention=s.attention))
        watched = encode_text(s.watch or job.pairs[0][0], data.src_tokenizer, data.src_vocab,
                              data_cfg.max_src_tokens)
        job.source_tokens = list(watched.tokens)
        model.eval()
        _snapshot(job, 0, model, watched.ids, data.tgt_vocab.itos)
        cfg = TrainConfig(epochs=s.epochs, batch_size=32, lr=2e-3, patience=s.epochs, seed=s.seed,
                          max_minutes=MAX_MINUTES)
        result = train_model(model, data.train, data.val, cfg, lambda p: _on_progress(job, p), job.stop,
                             lambda e, m: _snapshot(job, e, m, watched.ids, data.tgt_vocab.itos))
        job.result = result
        if result.stopped == "cancelled":
            job.state = "cancelled"
            return
        ckpt = Checkpoint(model, data.src_tokenizer, data.tgt_tokenizer, data.src_vocab, data.tgt_vocab,
                          {"data": data_cfg.__dict__, "train": cfg.to_dict(), "pairs": len(job.pairs),
                           "result": {"stopped": result.stopped, "best_epoch": result.best_epoch,
                                      "best_val_loss": result.best_val_loss, "seconds": result.seconds}})
        job.folder = _save(ckpt)
        job.state = "done"
    except UserFacingError as error:
        job.error, job.state = error, "failed"
    except Exception as error:  # shown as its type only, never a traceback
        job.failure, job.state = type(error).__name__, "failed"
    finally:
        with _LOCK:
            if job in _RUNNING:
                _RUNNING.remove(job)


def _save(ckpt: Checkpoint) -> str:
    folder = tempfile.mkdtemp(prefix="attnlab-seq2seq-")
    save_checkpoint(folder, ckpt, torch.float32)
    with _LOCK:
        _SAVED.append(folder)
        old = _SAVED[:-MAX_SAVED]
        del _SAVED[:-MAX_SAVED]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)
    return folder
