"""Background seq2seq training for the "Train your own" page: one training job at a time per server.

    job = start_job(session_id(), pairs, settings)   # UserFacingError("s2sp.busy") if busy
    REGISTRY.job_for(sid); REGISTRY.beat(sid); REGISTRY.cancel(sid)  # see ui.jobs.JobRegistry

A job trains a fresh model in a daemon thread (never a cached shared translator), records
progress and, after every epoch, the watched sentence's translation and alignment. ui.jobs
does the rest: the one slot shared with fine-tuning, cancelling, and stopping the job once
its page stops refreshing the heartbeat. `zip_folder` packs a trained model for download.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from lmcore.translation.checkpoints import Checkpoint, save_checkpoint, zip_folder
from lmcore.translation.data import DataConfig, prepare_translation_data
from lmcore.translation.decoding import decode
from lmcore.seq2seq import Seq2Seq, Seq2SeqConfig
from lmcore.translation.text import encode_text
from lmcore.translation.training import Progress, TrainConfig, train_model
from ui.jobs import Job as BaseJob
from ui.jobs import JobRegistry

SAMPLE = Path(__file__).resolve().parent.parent / "lmcore" / "assets" / "pairs" / "en-fr-sample.tsv"
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
class Job(BaseJob):
    """A training run; steps: {"x", "loss"}, epochs: {"epoch", "val_loss"}."""

    settings: Settings
    pairs: list
    snapshots: list[dict] = field(default_factory=list)  # {"epoch", "output", "weights" (T, S) | None}
    source_tokens: list[str] = field(default_factory=list)


def start_job(session: str, pairs: list, settings: Settings) -> Job:
    """Start training in a daemon thread; UserFacingError("s2sp.busy") while any job runs."""
    return REGISTRY.start(session, settings=settings, pairs=list(pairs))


def _on_progress(job: Job, p: Progress) -> bool:
    job.state, job.last = "training", p
    if p.val_loss is not None:
        job.epochs.append({"epoch": p.epoch, "val_loss": round(p.val_loss, 4)})
    else:
        job.steps.append({"x": p.epoch - 1 + p.step / max(p.total, 1), "loss": p.loss})
    return REGISTRY.keep_going(job)


def _snapshot(job: Job, epoch: int, model: Seq2Seq, ids: list[int], itos: list[str]) -> None:
    """The watched sentence decoded greedily by the model as it is now (eval mode)."""
    res = decode(model, ids, max_len=min(2 * len(ids) + 10, 60))
    words = [itos[s.token] if s.token < len(itos) else "<unk>" for s in res.steps]
    weights = None if not res.steps or res.steps[0].weights is None else \
        np.round(np.stack([s.weights for s in res.steps]), 3).astype(np.float32)  # (T, S)
    job.snapshots.append({"epoch": epoch, "output": words, "weights": weights})


def _prepare(pairs: list, s: Settings):
    """(data, data config, a fresh seeded model, the watched sentence encoded) for a run."""
    data_cfg = DataConfig(s.src_lang, s.tgt_lang, val_fraction=0.1, src_min_freq=1, tgt_min_freq=1,
                          max_vocab=4000, max_src_tokens=60 if s.src_lang != "ko" else 160, seed=s.seed)
    data = prepare_translation_data(pairs, data_cfg)
    torch.manual_seed(s.seed)
    model = Seq2Seq(Seq2SeqConfig(len(data.src_vocab), len(data.tgt_vocab), s.hidden, s.hidden,
                                  attention=s.attention))
    watched = encode_text(s.watch or pairs[0][0], data.src_tokenizer, data.src_vocab,
                          data_cfg.max_src_tokens)
    model.eval()
    return data, data_cfg, model, watched


def _run(job: Job) -> None:
    s = job.settings
    torch.set_num_threads(TRAIN_THREADS)  # this thread only
    data, data_cfg, model, watched = _prepare(job.pairs, s)
    job.source_tokens = list(watched.tokens)
    _snapshot(job, 0, model, watched.ids, data.tgt_vocab.itos)
    cfg = TrainConfig(epochs=s.epochs, batch_size=32, lr=2e-3, patience=s.epochs, seed=s.seed,
                      max_minutes=MAX_MINUTES)
    result = train_model(model, data.train, data.val, cfg, lambda p: _on_progress(job, p), job.stop,
                         lambda e, m: _snapshot(job, e, m, watched.ids, data.tgt_vocab.itos))
    job.result = result
    if result.stopped == "cancelled":
        job.state = "cancelled"
        return
    facts = {"data": data_cfg.__dict__, "train": cfg.to_dict(), "pairs": len(job.pairs),
             "result": {"stopped": result.stopped, "best_epoch": result.best_epoch,
                        "best_val_loss": result.best_val_loss, "seconds": result.seconds}}
    ckpt = Checkpoint(model, data.src_tokenizer, data.tgt_tokenizer, data.src_vocab, data.tgt_vocab, facts)
    job.folder = REGISTRY.save_folder("attnlab-seq2seq-",
                                      lambda folder: save_checkpoint(folder, ckpt, torch.float32))
    job.state = "done"


REGISTRY: JobRegistry[Job] = JobRegistry("seq2seq", Job, _run, busy_key="s2sp.busy", max_saved=MAX_SAVED)


# ---------------------------------------------------------------- the page's opening view
def sample_bytes() -> bytes:
    """The bundled sample of 400 English-French pairs (lmcore/assets/pairs), as an upload's bytes."""
    return SAMPLE.read_bytes()


@st.cache_data(max_entries=8, show_spinner=False)
def untrained(pairs: tuple, settings: Settings) -> dict:
    """What a model with these settings does before any training: the epoch-0 snapshot of the
    watched sentence ({"epoch": 0, "output", "weights" (T, S) | None}) and its source tokens."""
    job = Job(0, "preview", settings=settings, pairs=list(pairs))
    data, _, model, watched = _prepare(job.pairs, settings)
    with torch.inference_mode():
        _snapshot(job, 0, model, watched.ids, data.tgt_vocab.itos)
    return {**job.snapshots[0], "source_tokens": list(watched.tokens)}
