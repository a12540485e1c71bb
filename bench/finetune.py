"""Benchmark one fine-tuning step of all-MiniLM-L6-v2, in one process.

    python -m bench.finetune [--json] [--repeats N] [--threads N]

A step = forward + cross-entropy + backward + AdamW update on a batch of 16 sentences
from the bundled negation task (the page's default settings).
Ratios, median over interleaved rounds of the per-round ratio (bench.common):
  dynamic_vs_fixed: padding to the longest sentence of the batch (lmcore.pretrained.finetune.batches,
                    at most 32 tokens) / padding every batch to 128 tokens     target <= 0.5
  eager_vs_sdpa:    the eager attention the app needs (weights returned)
                    / transformers' default sdpa attention (no weights), both dynamic
                    padding; the price of seeing attention                      informational
Also prints the seconds per step (median) so a default 3-epoch run can be estimated.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/finetune.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from bench.common import format_ratio, interleaved_samples, medians, paired_ratio, pick_clock
from lmcore.pretrained.finetune import FinetuneConfig, batches
from lmcore.pretrained.classifier import build_classifier
from lmcore.pretrained.tasks import load_task


def step_fn(clf, inputs: dict, labels: torch.Tensor):
    """One training step on fixed inputs (weights change; timing does not depend on them)."""
    optimizer = torch.optim.AdamW(clf.model.parameters(), lr=1e-5)
    clf.model.train()

    def step() -> None:
        loss = torch.nn.functional.cross_entropy(clf.model(**inputs).logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = load_task("negation")
    cfg = FinetuneConfig()
    eager = build_classifier(cfg.model, data.label_names, 0)
    sdpa = build_classifier(cfg.model, data.label_names, 0)
    sdpa.model.set_attn_implementation("sdpa")
    inputs, labels = next(batches(eager, data.train, cfg.batch_size, cfg.max_length, True, 1))
    fixed = dict(eager.tokenizer([eager.tokenizer.decode(i, skip_special_tokens=True) for i in inputs["input_ids"]],
                                 padding="max_length", max_length=128, truncation=True, return_tensors="pt"))
    candidates = {"dynamic": step_fn(eager, inputs, labels), "fixed128": step_fn(eager, fixed, labels),
                  "sdpa": step_fn(sdpa, inputs, labels)}
    samples = interleaved_samples(candidates, repeats=args.repeats, warmup=2, clock=pick_clock(args.threads))
    times = medians(samples)
    out = {"threads": args.threads, "batch_tokens": int(inputs["input_ids"].shape[1]),
           "seconds_per_step": round(times["dynamic"], 4),
           "dynamic_vs_fixed": round(paired_ratio(samples, "dynamic", "fixed128"), 3),
           "eager_vs_sdpa": round(paired_ratio(samples, "dynamic", "sdpa"), 3),
           "estimated_default_run_seconds": round(times["dynamic"] * 30 * cfg.epochs, 1)}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"threads={args.threads}, batch of {cfg.batch_size} padded to {out['batch_tokens']} tokens")
    print(format_ratio("dynamic padding / fixed 128 tokens (one training step)", out["dynamic_vs_fixed"], 0.5))
    print(f"{'eager (weights) / sdpa (no weights), informational':<58s} {out['eager_vs_sdpa']:6.3f}")
    print(f"seconds per step: {out['seconds_per_step']}; 3 epochs x 30 steps ~ {out['estimated_default_run_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
