"""Benchmark: the project's attention call on the bundled MiniLM (and the masked LM trained
from it, minilm-mlm, when here) vs a bare forward pass.

    nice -n 10 python -m bench.pretrained [--repeats 20] [--threads 1] [--models NAME ...]

At 16, 64 and 256 tokens, one process, interleaved rounds, medians of per-round ratios:
  attention(lm, text)  (tokenise with offsets, forward, build the AttentionMaps record)
  ÷ bare `model.base_model(**enc, output_attentions=True)` (the layers attention() runs) on a
  pre-tokenised batch                         target <= 1.15 (MiniLM), <= 1.1 (minilm-mlm)
  plots.attention_grid(maps) for all 6 x 12 = 72 heads ÷ that bare forward  (reported)
Then the peak memory (VmHWM) of a fresh app-like process (streamlit and plotly imported)
with every bundled model loaded and used once (target <= 1 GB), and its ratio to the same
process after the imports only.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import torch

from bench.common import format_ratio, interleaved_samples, medians, paired_ratio, pick_clock

ROOT = Path(__file__).resolve().parent.parent
MODEL = "all-MiniLM-L6-v2"
WORDS = ("the quick brown fox jumps over a lazy dog while students watch attention "
         "heads inside language models light up").split()
TARGET = 1.15
TARGETS = {"minilm-mlm": 1.1}  # issue 11: the new masked LM
MEMORY_TARGET_MB = 1024


def text_of(lm, n_tokens: int) -> str:
    """A sentence that tokenises to exactly n_tokens (specials included)."""
    words: list[str] = []
    while len(lm.tokenizer(" ".join(words))["input_ids"]) < n_tokens:
        words.append(WORDS[len(words) % len(WORDS)])
    while len(lm.tokenizer(" ".join(words))["input_ids"]) > n_tokens:
        words.pop()
    return " ".join(words)


def bench_length(lm, n_tokens: int, repeats: int, clock) -> dict:
    from lmcore.pretrained.encoding import attention

    text = text_of(lm, n_tokens)
    enc = lm.tokenizer(text, return_tensors="pt")

    def bare():
        with torch.inference_mode():
            return lm.model.base_model(**enc, output_attentions=True)

    samples = interleaved_samples({"project": lambda: attention(lm, text), "bare": bare},
                                  repeats=repeats, warmup=3, clock=clock)
    row = {"tokens": int(enc["input_ids"].shape[1]),
           "attention_call_over_forward": paired_ratio(samples, "project", "bare"),
           "forward_ms": medians(samples)["bare"] * 1e3}
    try:
        from lmcore.views.plots import attention_grid
    except ImportError:
        return row
    maps = attention(lm, text).maps
    fig = interleaved_samples({"grid": lambda: attention_grid(maps), "bare": bare},
                              repeats=max(3, repeats // 4), warmup=1, clock=clock)
    row["grid72_over_forward"] = paired_ratio(fig, "grid", "bare")
    return row


PEAK_SCRIPT = """
import json, torch
torch.set_num_threads(1)

def rss():  # (current, peak) resident set size in MB, from /proc
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024

import streamlit, plotly.graph_objects  # what the app process imports too
from lmcore.pretrained.loading import _bundled, load_model
from lmcore.pretrained.encoding import attention
imports = rss()[0]
for name in _bundled():
    attention(load_model(name), "The cat sat on the mat. " * 20)
now, peak = rss()
print(json.dumps({"imports_mb": imports, "rss_mb": now, "peak_mb": peak, "models": list(_bundled())}))
"""


def peak_memory() -> dict:
    out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {"error": out.stderr[-500:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lengths", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--models", nargs="+", default=None, help="default: MiniLM, and minilm-mlm when here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from lmcore.pretrained.loading import available, load_model

    clock = pick_clock(args.threads)
    for name in args.models or [MODEL] + [n for n in TARGETS if available(n)]:
        lm = load_model(name)
        print(f"{name}, {args.threads} thread(s), {args.repeats} interleaved rounds, median of per-round ratios")
        for n in args.lengths:
            row = bench_length(lm, n, args.repeats, clock)
            print(format_ratio(f"n={row['tokens']:3d}: attention() / bare forward "
                               f"({row['forward_ms']:.1f} ms)", row["attention_call_over_forward"],
                               TARGETS.get(name, TARGET)))
            if "grid72_over_forward" in row:
                print(f"n={row['tokens']:3d}: attention_grid ({lm.n_layers * lm.n_heads} heads) / bare forward  "
                      f"{row['grid72_over_forward']:8.2f}")
    mem = peak_memory()
    if "peak_mb" in mem:
        print(f"peak RSS with {', '.join(mem['models'])} loaded and used: {mem['peak_mb']:.0f} MB, "
              f"target <= {MEMORY_TARGET_MB} MB: {'ok' if mem['peak_mb'] <= MEMORY_TARGET_MB else 'OVER'} "
              f"(now {mem['rss_mb']:.0f} MB; after imports only: {mem['imports_mb']:.0f} MB, "
              f"x{mem['peak_mb'] / mem['imports_mb']:.2f} of that)")
    else:
        print(f"peak memory measurement failed: {mem['error']}")


if __name__ == "__main__":
    main()
