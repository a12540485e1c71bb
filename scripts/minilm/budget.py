"""The training loop the MiniLM and GPT-2 runs share: a CPU-time budget, a checkpoint every
few minutes, resume from it, and hooks every N steps.

    run = Budgeted(model, opt, params, ckpt_path, cpu_minutes)
    run.resume(data.rng, seed=SEED)                 # continue a killed run, data stream included
    run.loop(lambda: loss_fn(model, data.batch(32)),
             lambda step, done: learning_rate(1e-4, step, done),
             hooks={1000: validate})                # validate(step) every 1,000 steps
    run.save()                                      # the last checkpoint; run.step, run.spent

The budget is the process's own CPU time (`time.process_time`), so a busy machine slows the run
but does not shorten it. `extra()` adds to every checkpoint what a script must resume (NSP's best
model so far); `resume` returns the checkpoint it read, so the script can restore that.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import torch

CHECKPOINT_SECONDS = 180  # a session's end kills running jobs: lose at most three minutes


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def optimizer_step(opt, params: list, loss: torch.Tensor, lr: float) -> float:
    """One AdamW step at learning rate `lr`: back-propagate `loss`, clip the gradient norm to 1.0;
    the loss as a float."""
    for g in opt.param_groups:
        g["lr"] = lr
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    return loss.item()


def smoothed(running: float | None, value: float) -> float:
    """The logged running loss: an exponential average (0.98) started at the first value."""
    return value if running is None else 0.98 * running + 0.02 * value


class Budgeted:
    """One model's training under a CPU-minute budget (see the module docstring)."""

    def __init__(self, model, opt, params: list, ckpt_path: Path, cpu_minutes: float,
                 extra: Callable[[], dict] = dict, log_every: int = 50) -> None:
        self.model, self.opt, self.params, self.ckpt_path = model, opt, params, Path(ckpt_path)
        self.cpu_minutes, self.budget = cpu_minutes, cpu_minutes * 60
        self.extra, self.log_every = extra, log_every
        self.step, self.spent_before, self.spent = 0, 0.0, 0.0
        self.wall0 = time.time()

    def resume(self, rng, seed: int) -> dict | None:
        """Load the checkpoint if there is one (weights, optimiser, step, CPU spent) and reseed
        the data stream as the killed run would have been; the checkpoint read, or None."""
        if not self.ckpt_path.is_file():
            return None
        ckpt = torch.load(self.ckpt_path, weights_only=True)
        self.model.load_state_dict(ckpt["model"])
        self.opt.load_state_dict(ckpt["opt"])
        self.step, self.spent_before = int(ckpt["step"]), float(ckpt["cpu_seconds"])
        self.spent = self.spent_before
        rng.seed(seed + self.step)
        log(f"resumed at step {self.step}, {self.spent_before / 60:.1f} CPU min spent")
        return ckpt

    def save(self) -> None:
        self.ckpt_path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"model": self.model.state_dict(), "opt": self.opt.state_dict(), "step": self.step,
                    "cpu_seconds": self.spent, **self.extra()}, self.ckpt_path)

    def loop(self, next_loss: Callable[[], torch.Tensor], lr_at: Callable[[int, float], float],
             hooks: dict[int, Callable[[int], None]] | None = None) -> float:
        """Train until the budget is spent: lr_at(step, fraction of the budget spent); each hook
        runs every N steps (then the model goes back to training mode). The CPU seconds spent."""
        t0, last_ckpt, running = time.process_time(), time.time(), None
        self.model.train()
        while (spent := self.spent_before + time.process_time() - t0) < self.budget:
            self.spent = spent
            loss = optimizer_step(self.opt, self.params, next_loss(), lr_at(self.step, spent / self.budget))
            self.step += 1
            running = smoothed(running, loss)
            if self.step % self.log_every == 0:
                log(f"step {self.step} loss {running:.3f} lr {self.opt.param_groups[0]['lr']:.2e} "
                    f"cpu {spent / 60:.1f}/{self.cpu_minutes} min")
            for every, hook in (hooks or {}).items():  # before a checkpoint, which may save what it found
                if self.step % every == 0:
                    hook(self.step)
                    self.model.train()
            if time.time() - last_ckpt > CHECKPOINT_SECONDS:
                self.save()
                last_ckpt = time.time()
                log(f"checkpoint at step {self.step}")
        self.spent = self.spent_before + time.process_time() - t0
        return self.spent

    @property
    def wall_seconds(self) -> float:
        return time.time() - self.wall0
