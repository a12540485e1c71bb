"""A generic teacher-forcing trainer for any translator with forward(src, lengths, tgt_in).

    result = train_model(model, train_examples, val_examples, TrainConfig(epochs=10),
                         progress=lambda p: print(p.epoch, p.step, p.total, p.loss),
                         stop=threading.Event())

Loss: token-level cross-entropy -sum_t log p(y_t | y_<t, x) / (number of real tokens),
padding ignored. Fixed seed, Adam, gradient clipping, validation loss after every
epoch, early stopping (patience), the best epoch's weights restored at the end, a
wall-clock budget. Cancellation: set `stop` (a threading.Event) or return False
from the progress callback; the model keeps its best weights so far. The trainer
never prints (the CLI draws a bar from the callback, the app a progress element).
"""
from __future__ import annotations

import copy
import math
import random
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lmcore.special_ids import PAD_ID
from lmcore.translation.checkpoints import Checkpoint
from lmcore.translation.data import Batch, iterate_batches, prepare_translation_data

Example = tuple[list[int], list[int]]


@dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    clip: float = 1.0               # max gradient norm
    patience: int = 2               # epochs without a better validation loss before stopping
    seed: int = 0
    max_minutes: float | None = None  # wall-clock budget; stops mid-epoch when reached
    max_cpu_minutes: float | None = None  # CPU-time budget of this process (fair on a busy machine)
    eval_every: int | None = None   # also validate every N steps (None: once per epoch)
    label_smoothing: float = 0.0    # training loss only; validation stays plain cross-entropy
    warmup_steps: int = 0           # linear warm-up, then inverse square-root decay (0: constant lr)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Progress:
    """What the progress callback receives, after every training step and validation."""

    epoch: int          # 1-based
    step: int           # step within this epoch, 1-based
    total: int          # steps in one epoch
    loss: float         # running mean training loss of this epoch
    val_loss: float | None = None  # set on the call right after a validation
    elapsed: float = 0.0           # seconds since training started


@dataclass
class TrainResult:
    epochs_run: int
    best_epoch: int
    best_val_loss: float
    history: list[dict] = field(default_factory=list)  # one row per validation
    stopped: str = "finished"    # finished | early_stopping | cancelled | time_budget
    seconds: float = 0.0
    cpu_seconds: float = 0.0


ProgressFn = Callable[[Progress], "bool | None"]


def batch_loss(model: nn.Module, batch: Batch, label_smoothing: float = 0.0) -> torch.Tensor:
    """Mean cross-entropy over the real target tokens of a batch (optionally label-smoothed)."""
    logits = model(batch.src, batch.src_lengths, batch.tgt_in)  # (B, T, V)
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), batch.tgt_out.reshape(-1),
                           ignore_index=PAD_ID, label_smoothing=label_smoothing)


def lr_factor(step: int, warmup_steps: int) -> float:
    """The "Attention is all you need" schedule, scaled to peak at 1.0 after `warmup_steps`:
    step/warmup while warming up, then sqrt(warmup/step). 1.0 throughout when warmup_steps is 0."""
    if warmup_steps <= 0:
        return 1.0
    step = max(step, 1)
    return min(step / warmup_steps, math.sqrt(warmup_steps / step))


@torch.no_grad()
def evaluate_loss(model: nn.Module, examples: Sequence[Example], batch_size: int = 128) -> float:
    """Token-weighted mean loss over examples, in eval mode."""
    was_training = model.training
    model.eval()
    total, tokens = 0.0, 0
    for batch in iterate_batches(examples, batch_size, shuffle=False):
        n = int((batch.tgt_out != PAD_ID).sum())
        total += float(batch_loss(model, batch)) * n
        tokens += n
    model.train(was_training)
    return total / max(tokens, 1)


class _Stopper:
    def __init__(self, stop: threading.Event | None, max_minutes: float | None,
                 max_cpu_minutes: float | None = None) -> None:
        self.stop, self.start, self.cpu_start = stop, time.monotonic(), time.process_time()
        self.deadline = None if max_minutes is None else self.start + 60.0 * max_minutes
        self.cpu_limit = None if max_cpu_minutes is None else 60.0 * max_cpu_minutes
        self.reason: str | None = None

    def check(self, keep_going: "bool | None" = True) -> bool:
        if keep_going is False or (self.stop is not None and self.stop.is_set()):
            self.reason = "cancelled"
        elif self.deadline is not None and time.monotonic() > self.deadline:
            self.reason = "time_budget"
        elif self.cpu_limit is not None and time.process_time() - self.cpu_start > self.cpu_limit:
            self.reason = "time_budget"
        return self.reason is not None

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start


def train_model(model: nn.Module, train: Sequence[Example], val: Sequence[Example],
                cfg: TrainConfig, progress: ProgressFn | None = None,
                stop: threading.Event | None = None,
                on_epoch_end: Callable[[int, nn.Module], None] | None = None,
                on_best: Callable[[nn.Module], None] | None = None) -> TrainResult:
    """Train in place; returns the history. The best validation weights are restored.

    on_epoch_end(epoch, model) runs after each validation (e.g. to snapshot an alignment);
    on_best(model) after each validation that beats the best so far (e.g. to save it to disk,
    so a killed run keeps its best model).
    """
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: lr_factor(i + 1, cfg.warmup_steps))
    total = math.ceil(len(train) / cfg.batch_size)
    stopper = _Stopper(stop, cfg.max_minutes, cfg.max_cpu_minutes)
    best = (math.inf, 0, copy.deepcopy(model.state_dict()))
    result = TrainResult(0, 0, math.inf)
    bad_epochs = 0
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        running, seen = 0.0, 0
        previous = best[0]
        for step, batch in enumerate(iterate_batches(train, cfg.batch_size, True, cfg.seed + epoch), 1):
            loss = batch_loss(model, batch, cfg.label_smoothing)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            optimizer.step()
            schedule.step()
            running, seen = running + loss.item(), seen + 1
            keep = progress(Progress(epoch, step, total, running / seen, None, stopper.elapsed)) \
                if progress else True
            if stopper.check(keep):
                break
            if cfg.eval_every and step % cfg.eval_every == 0 and step < total:
                best = _validate(model, val, epoch, step, running / seen, best, result, stopper, on_best)
        result.epochs_run = epoch
        if stopper.reason == "cancelled" and seen == 0:
            break
        best = _validate(model, val, epoch, total, running / max(seen, 1), best, result, stopper, on_best)
        if progress:
            progress(Progress(epoch, total, total, running / max(seen, 1), result.history[-1]["val_loss"],
                              stopper.elapsed))
        if on_epoch_end:  # in eval mode (no dropout), e.g. to snapshot an alignment
            model.eval()
            on_epoch_end(epoch, model)
            model.train()
        bad_epochs = 0 if best[0] < previous else bad_epochs + 1
        if stopper.reason:
            break
        if bad_epochs >= cfg.patience:
            stopper.reason = "early_stopping"
            break
    model.load_state_dict(best[2])
    model.eval()
    result.best_val_loss, result.best_epoch = best[0], best[1]
    result.stopped = stopper.reason or "finished"
    result.seconds = stopper.elapsed
    result.cpu_seconds = time.process_time() - stopper.cpu_start
    return result


def _validate(model, val, epoch, step, train_loss, best, result, stopper, on_best=None):
    val_loss = evaluate_loss(model, val)
    result.history.append({"epoch": epoch, "step": step, "train_loss": round(train_loss, 4),
                           "val_loss": round(val_loss, 4), "seconds": round(stopper.elapsed, 1)})
    if val_loss < best[0]:
        if on_best:
            model.eval()
            on_best(model)
        model.train()
        return (val_loss, epoch, copy.deepcopy(model.state_dict()))
    model.train()
    return best


def train_translator(pairs, data_cfg, train_cfg: TrainConfig,
                     build_model: Callable[[int, int], nn.Module],
                     progress: ProgressFn | None = None, stop: threading.Event | None = None,
                     on_epoch_end: Callable[[int, nn.Module], None] | None = None,
                     on_best: Callable | None = None, target_texts: Sequence[str] = ()):
    """Pairs -> (Checkpoint, TrainResult). build_model(src_vocab_size, tgt_vocab_size).

    Works for any model family with forward(src, lengths, tgt_in) and a config.
    on_best(checkpoint) receives a Checkpoint of the model each time validation improves.
    target_texts: target-language sentences for data_cfg.target_text_ratio (dummy sources).
    """
    data = prepare_translation_data(pairs, data_cfg, target_texts)
    torch.manual_seed(train_cfg.seed)
    model = build_model(len(data.src_vocab), len(data.tgt_vocab))
    def best_so_far(m: nn.Module) -> None:
        on_best(Checkpoint(m, data.src_tokenizer, data.tgt_tokenizer, data.src_vocab, data.tgt_vocab,
                           {"data": asdict(data_cfg), "train": train_cfg.to_dict(), "partial": True,
                            "train_examples": len(data.train), "val_examples": len(data.val)}))

    result = train_model(model, data.train, data.val, train_cfg, progress, stop, on_epoch_end,
                         best_so_far if on_best else None)
    meta = {"data": asdict(data_cfg), "train": train_cfg.to_dict(),
            "result": {k: v for k, v in asdict(result).items()},
            "train_examples": len(data.train), "val_examples": len(data.val)}
    ckpt = Checkpoint(model, data.src_tokenizer, data.tgt_tokenizer, data.src_vocab,
                      data.tgt_vocab, meta)
    return ckpt, result
