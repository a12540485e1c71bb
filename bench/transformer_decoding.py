"""Benchmark the Transformer's key/value cache against re-running the prefix, in one process.

    python -m bench.transformer_decoding [--json] [--repeats N] [--threads N] [--length N]

Same model, same sentences, every output exactly --length (30) tokens long (<eos> gets no
probability on both paths, so both do the same number of steps):
  cached   Transformer.step: one new position per step, self-attention keys/values of past
           positions and the encoder output's cross-attention keys/values kept
  uncached PrefixDecoder: the whole prefix re-run through the decoder at every step (how
           Transformer.step worked before the cache)
Ratios cached / uncached (median over interleaved rounds of the per-round ratio) for
  greedy      lmcore.translation.decoding.greedy_decode, one sentence at a time (translate_plain)
  traced      decode(beam=1): the page's path, top-5 and every attention row per step
  beam3       decode(beam=3)
  evaluate    greedy_batch of 64 inputs at once (1-3 of the sentences joined), as `evaluate`
              and `compare` score a test set, 64 per batch                  target <= 0.5
on the bundled tf-en-fr (when present) and on an untrained model of the same size.
With --threads 1 (default) times are this thread's CPU time.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any, Callable

if __package__ in (None, ""):  # run as `python bench/transformer_decoding.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from bench.common import format_ratio, interleaved_samples, medians, paired_ratio, pick_clock
from bench.decoding import SENTENCES
from lmcore.translation.decoding import decode, greedy_batch, greedy_decode
from lmcore.transformer import Transformer, TransformerConfig
from lmcore.demos.kv_cache_steps import PrefixDecoder

TARGET = 0.5  # the cache must at least halve evaluate's decoding time at 30 tokens
KINDS = ("evaluate", "greedy", "traced", "beam3")
BATCH = 64  # lmcore.translation.metrics.translate_for_scoring's batch size


class NoEnd:
    """A step model whose outputs never end: <eos> gets probability 0, so every output is
    exactly max_len tokens and both paths do the same steps."""

    def __init__(self, model: Any) -> None:
        self.model, self.bos_id, self.eos_id = model, model.bos_id, model.eos_id
        self.encode, self.init_state = model.encode, model.init_state
        self.reorder_memory, self.reorder_state = model.reorder_memory, model.reorder_state

    def step(self, memory: Any, state: Any, prev: torch.Tensor) -> Any:
        out = self.model.step(memory, state, prev)
        return out._replace(logits=out.logits.index_fill(1, torch.tensor([self.eos_id]), float("-inf")))


def batch_texts() -> list[str]:
    """BATCH inputs of 1-3 of the sentences joined (the same every run)."""
    rng = random.Random(0)
    return [" ".join(rng.sample(SENTENCES, rng.randint(1, 3))) for _ in range(BATCH)]


Sources = tuple[list[list[int]], list[list[int]]]  # one by one, batched


def models() -> list[tuple[str, Transformer, Sources]]:
    """(label, model, (sentence ids, batch ids)): the bundled tf-en-fr if present, and an
    untrained model of the same shape."""
    from lmcore.errors import UserFacingError
    from lmcore.translation.translators import load_translator

    out = []
    try:
        tr = load_translator("tf-en-fr")
        encode = lambda texts: [tr.encode(s).ids for s in texts]  # noqa: E731
        out.append(("tf-en-fr", tr.model, (encode(SENTENCES), encode(batch_texts()))))
    except UserFacingError:
        pass
    torch.manual_seed(0)
    cfg = TransformerConfig(4000, 4000, 192, 6, 3, 3, 768, 0.1, 82)  # tf-en-fr's shape
    g = torch.Generator().manual_seed(1)
    encode = lambda texts: [torch.randint(4, 4000, (len(s.split()) + 1,), generator=g).tolist()  # noqa: E731
                            for s in texts]
    out.append(("untrained, d_model 192, 3+3 layers, 6 heads", Transformer(cfg).eval(),
                (encode(SENTENCES), encode(batch_texts()))))
    return out


def candidates(model: Transformer, sources: Sources, length: int) -> dict[str, Callable[[], object]]:
    """"<kind>/cached" and "<kind>/uncached" -> a zero-argument call decoding every input."""
    one_by_one, batch = sources
    paths = {"cached": NoEnd(model), "uncached": NoEnd(PrefixDecoder(model))}
    calls: dict[str, Callable[[], object]] = {}
    for path, m in paths.items():
        calls[f"evaluate/{path}"] = lambda m=m: greedy_batch(m, batch, max_len=length)
        calls[f"greedy/{path}"] = lambda m=m: [greedy_decode(m, s, length) for s in one_by_one]
        calls[f"traced/{path}"] = lambda m=m: [decode(m, s, beam=1, max_len=length) for s in one_by_one]
        calls[f"beam3/{path}"] = lambda m=m: [decode(m, s, beam=3, max_len=length) for s in one_by_one]
    return calls


def check_same(model: Transformer, sources: list[list[int]], length: int) -> None:
    """Both paths write the same tokens (a benchmark of a wrong answer is no benchmark)."""
    got = greedy_batch(NoEnd(model), sources, max_len=length)
    assert got == greedy_batch(NoEnd(PrefixDecoder(model)), sources, max_len=length)
    assert all(len(row) == length for row in got)


def run(model: Transformer, sources: Sources, length: int, repeats: int, threads: int) -> dict:
    check_same(model, sources[0], length)
    with torch.inference_mode():
        samples = interleaved_samples(candidates(model, sources, length), repeats=repeats, warmup=1,
                                      clock=pick_clock(threads))
    return {"ratios": {k: round(paired_ratio(samples, f"{k}/cached", f"{k}/uncached"), 3) for k in KINDS},
            "median_seconds": {k: round(v, 5) for k, v in medians(samples).items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--length", type=int, default=30, help="output tokens per sentence")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = {label: run(model, sources, args.length, args.repeats, args.threads)
               for label, model, sources in models()}
    if args.json:
        print(json.dumps({"sentences": len(SENTENCES), "batch": BATCH, "length": args.length,
                          "threads": args.threads, "target_evaluate": TARGET, "models": results},
                         indent=2))
        return 0
    print(f"{args.length} output tokens per input; {len(SENTENCES)} sentences one by one, "
          f"{BATCH} inputs in one batch; {args.threads} thread(s)")
    for label, result in results.items():
        print(f"{label}:")
        r = result["ratios"]
        print(format_ratio(f"  greedy_batch of {BATCH} (evaluate), cached / uncached", r["evaluate"],
                           TARGET))
        for kind, text in (("greedy", "greedy one by one"), ("traced", "decode with trace, beam 1"),
                           ("beam3", "decode with trace, beam 3")):
            print(f"{'  ' + text + ', cached / uncached':<58s} {r[kind]:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
