"""The bodies of the app's training jobs, the same code in the app's thread or in a Ray task.

    write = BODIES["finetune"](report, data=data, config=config)   # or BODIES["seq2seq"](report, pairs=..., settings=...)
    if write is not None:
        write(folder)           # the trained model's files

A body trains, tells `report` what happens (state, progress rows, results) and returns a
`Writer` that saves the trained model into a folder, or None when the job was cancelled.
`report` is a `Reporter`: in the app (embedded) it sets attributes of the ui.jobs Job the
pages read; in a Ray task (lmcore.inference.ray_training) it sends the same changes to the
job's thread in the UI replica. No prints, no Streamlit, no Ray here.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np
import torch

from lmcore.pretrained.classifier import head_change
from lmcore.pretrained.finetune import finetune, save_classifier
from lmcore.pretrained.loading import load_model
from lmcore.seq2seq import Seq2Seq, Seq2SeqConfig
from lmcore.translation.checkpoints import Checkpoint, save_checkpoint
from lmcore.translation.data import DataConfig, prepare_translation_data
from lmcore.translation.decoding import decode
from lmcore.translation.text import encode_text
from lmcore.translation.training import TrainConfig, train_model

Writer = Callable[[str], None]  # fills a folder with the trained model
HEAD_CHANGE_SENTENCES = 60      # validation sentences of the fine-tuning "which heads changed" analysis
MAX_MINUTES = 10.0              # wall-clock budget of one in-app seq2seq training
TRAIN_THREADS = 1               # torch threads of a seq2seq training. Measured on the shared 2-core
                                # machine: 2 threads made each step ~14x slower than 1 (OpenMP threads
                                # spin while the other core is busy).


class Reporter(Protocol):
    """Where a body reports to. `stop` is set once the job should stop."""

    stop: threading.Event

    def set(self, **fields: Any) -> None: ...            # job.<name> = value
    def append(self, name: str, item: Any) -> None: ...  # job.<name>.append(item)
    def keep_going(self) -> bool: ...                    # False once cancelled (or the page left)
    def progress(self, p: Any) -> bool: ...              # one progress report; False: stop


class AttributeReporter:
    """Reports straight into an object's attributes (the embedded path: the ui.jobs Job)."""

    def __init__(self, target: Any, keep_going: Callable[[], bool], stop: threading.Event,
                 progress: Callable[[Any], bool]) -> None:
        self._target, self._keep_going, self.stop, self._progress = target, keep_going, stop, progress

    def set(self, **fields: Any) -> None:
        for name, value in fields.items():
            setattr(self._target, name, value)

    def append(self, name: str, item: Any) -> None:
        getattr(self._target, name).append(item)

    def keep_going(self) -> bool:
        return self._keep_going()

    def progress(self, p: Any) -> bool:
        return self._progress(p)


# ---------------------------------------------------------------- fine-tuning
def finetune_progress(report: Reporter, p) -> bool:
    """One lmcore.pretrained.finetune.Progress: steps {"x", "loss", "accuracy"}, epochs {"epoch", "val_*"}."""
    report.set(state="training", last=p)
    if p.phase == "epoch":
        report.append("epochs", {"epoch": p.epoch, "val_loss": p.val_loss, "val_accuracy": p.val_accuracy})
    else:
        report.append("steps", {"x": p.epoch - 1 + p.step / p.total, "loss": p.loss, "accuracy": p.accuracy})
    return report.keep_going()


def finetune_body(report: Reporter, data, config, head_change_sentences: int = HEAD_CHANGE_SENTENCES
                  ) -> Writer | None:
    """Fine-tune a fresh copy of config.model on `data` (a LabelledSet); then which heads changed."""
    clf, result = finetune(data, config, report.progress, report.stop)
    if result.stopped == "cancelled" or report.stop.is_set():
        report.set(state="cancelled")
        return None
    report.set(state="analysing")
    texts = list(data.validation.texts[:head_change_sentences])
    report.set(change=head_change(load_model(config.model), clf, texts, config.max_length), result=result)
    return lambda folder: save_classifier(clf, folder, result)


# ---------------------------------------------------------------- seq2seq training
@dataclass(frozen=True)
class Settings:
    """What the "Train your own" page's form chooses."""

    src_lang: str = "en"
    tgt_lang: str = "fr"
    attention: str = "bahdanau"   # one of lmcore.seq2seq.ATTENTIONS
    hidden: int = 128             # embedding and RNN width
    epochs: int = 8
    watch: str = ""               # the sentence whose alignment is snapshotted each epoch
    seed: int = 0


def seq2seq_progress(report: Reporter, p) -> bool:
    """One lmcore.translation.training.Progress: steps {"x", "loss"}, epochs {"epoch", "val_loss"}."""
    report.set(state="training", last=p)
    if p.val_loss is not None:
        report.append("epochs", {"epoch": p.epoch, "val_loss": round(p.val_loss, 4)})
    else:
        report.append("steps", {"x": p.epoch - 1 + p.step / max(p.total, 1), "loss": p.loss})
    return report.keep_going()


def snapshot(epoch: int, model, ids: list[int], itos: list[str]) -> dict:
    """The watched sentence decoded greedily by the model as it is now (eval mode):
    {"epoch", "output": words, "weights": (T, S) float32 or None}."""
    res = decode(model, ids, max_len=min(2 * len(ids) + 10, 60))
    words = [itos[s.token] if s.token < len(itos) else "<unk>" for s in res.steps]
    weights = None if not res.steps or res.steps[0].weights is None else \
        np.round(np.stack([s.weights for s in res.steps]), 3).astype(np.float32)  # (T, S)
    return {"epoch": epoch, "output": words, "weights": weights}


def prepare(pairs: list, s: Settings):
    """(data, data config, a fresh seeded model in eval mode, the watched sentence encoded)."""
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


def seq2seq_body(report: Reporter, pairs: list, settings: Settings,
                 max_minutes: float = MAX_MINUTES) -> Writer | None:
    """Train a fresh seq2seq model on the pairs; a snapshot of the watched sentence per epoch."""
    s = settings
    torch.set_num_threads(TRAIN_THREADS)  # this thread only
    data, data_cfg, model, watched = prepare(pairs, s)
    itos = data.tgt_vocab.itos
    report.set(source_tokens=list(watched.tokens))
    report.append("snapshots", snapshot(0, model, watched.ids, itos))
    cfg = TrainConfig(epochs=s.epochs, batch_size=32, lr=2e-3, patience=s.epochs, seed=s.seed,
                      max_minutes=max_minutes)
    result = train_model(model, data.train, data.val, cfg, report.progress, report.stop,
                         lambda e, m: report.append("snapshots", snapshot(e, m, watched.ids, itos)))
    report.set(result=result)
    if result.stopped == "cancelled":
        report.set(state="cancelled")
        return None
    facts = {"data": data_cfg.__dict__, "train": cfg.to_dict(), "pairs": len(pairs),
             "result": {"stopped": result.stopped, "best_epoch": result.best_epoch,
                        "best_val_loss": result.best_val_loss, "seconds": result.seconds}}
    ckpt = Checkpoint(model, data.src_tokenizer, data.tgt_tokenizer, data.src_vocab, data.tgt_vocab, facts)
    return lambda folder: save_checkpoint(folder, ckpt, torch.float32)


BODIES: dict[str, Callable[..., Writer | None]] = {"finetune": finetune_body, "seq2seq": seq2seq_body}
PROGRESS: dict[str, Callable[[Reporter, Any], bool]] = {"finetune": finetune_progress,
                                                         "seq2seq": seq2seq_progress}
