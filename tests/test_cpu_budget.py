"""scripts/minilm/budget.py, the loop of the MiniLM and GPT-2 training scripts, on a tiny model:
the CPU budget ends it, hooks run every N steps, a checkpoint resumes step, CPU spent and data."""
from __future__ import annotations

import random

import torch

from scripts.minilm import budget as cpu_budget


def tiny(tmp_path, minutes: float, extra=dict):
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    return model, cpu_budget.Budgeted(model, opt, list(model.parameters()), tmp_path / "run" / "ckpt.pt",
                                      minutes, extra=extra, log_every=10_000)


def loss_of(model, rng):
    x = torch.tensor([[rng.random() for _ in range(4)]])
    return (model(x) - 1.0).pow(2).mean()


def test_the_budget_ends_the_loop_and_hooks_run_every_n_steps_in_training_mode(tmp_path):
    model, run = tiny(tmp_path, minutes=0.01)  # 0.6 CPU seconds
    rng, seen, lrs = random.Random(0), [], []

    def hook(step):
        seen.append(step)
        model.eval()  # a hook may evaluate; the loop puts the model back to training

    spent = run.loop(lambda: loss_of(model, rng), lambda step, done: lrs.append(done) or 1e-2, hooks={7: hook})
    assert spent >= 0.6 and run.step > 7 and model.training
    assert seen == list(range(7, run.step + 1, 7))
    assert lrs[0] < 0.05 and 0.5 < lrs[-1] < 1 and lrs == sorted(lrs)  # the fraction of the budget spent


def test_a_checkpoint_resumes_step_cpu_spent_weights_data_and_extras(tmp_path):
    model, run = tiny(tmp_path, minutes=0.005, extra=lambda: {"best": 0.75})
    rng = random.Random(0)
    run.loop(lambda: loss_of(model, rng), lambda step, done: 1e-2)
    run.save()
    assert tiny(tmp_path, 1)[1].resume(random.Random(), 1) is not None  # reads it
    again_model, again = tiny(tmp_path, minutes=0.01)
    data = random.Random()
    ckpt = again.resume(data, seed=5)
    assert again.step == run.step and again.spent_before == run.spent and ckpt["best"] == 0.75
    assert torch.equal(again_model.weight, model.weight)
    assert data.random() == random.Random(5 + run.step).random()  # the data stream goes on as seeded
    spent = again.loop(lambda: loss_of(again_model, data), lambda step, done: 1e-2)
    assert again.step > run.step and spent >= 0.6


def test_no_checkpoint_means_a_fresh_start(tmp_path):
    _, run = tiny(tmp_path, minutes=1)
    assert run.resume(random.Random(), 0) is None and run.step == 0 and run.spent_before == 0.0
