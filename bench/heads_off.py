"""Benchmark: switching heads off (lmcore.pretrained.heads_off) on the bundled masked LM.

    nice -n 10 python -m bench.heads_off [--repeats 20] [--threads 1] [--model minilm-mlm]

One process, interleaved rounds, medians of per-round ratios, at 16 tokens:
  the model's forward with one head switched off (the masked-attention twin, lab_head_mask)
  ÷ the plain forward of the loaded model on the same inputs            target <= 1.1
Then the whole per-head ranking for one prediction (head_ranking: each head off alone,
batched): forward passes, batched calls and seconds (median of a few runs), and the
ratio to one plain forward.
"""
from __future__ import annotations

import argparse
import json
import statistics

import torch

from bench.common import format_ratio, interleaved_samples, medians, paired_ratio, pick_clock

TARGET = 1.1
WORDS = ("the animal did not cross the street because it was too tired and the students "
         "watched every head").split()


def masked_text(lm, n_tokens: int) -> str:
    """A sentence with one [MASK] (the last word) that tokenises to exactly n_tokens."""
    words = []
    while len(lm.tokenizer(" ".join(words + ["[MASK] ."]))["input_ids"]) < n_tokens:
        words.append(WORDS[len(words) % len(WORDS)])
    return " ".join(words + ["[MASK] ."])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm-mlm")
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    from lmcore.pretrained import heads_off
    from lmcore.pretrained.encoding import encode, model_inputs
    from lmcore.pretrained.loading import load_model
    from lmcore.heads_off import keep_mask

    lm = load_model(args.model)
    text = masked_text(lm, args.tokens)
    enc, _ = heads_off._encode(lm, text)
    inputs = model_inputs(enc)
    one_off = keep_mask([(lm.n_layers // 2, 0)], lm.n_layers, lm.n_heads)
    clock = pick_clock(args.threads)
    samples = interleaved_samples({"one_head_off": lambda: heads_off.run(lm, inputs, one_off),
                                   "plain": lambda: heads_off.run(lm, inputs, None)},
                                  repeats=args.repeats, warmup=3, clock=clock)
    ratio = paired_ratio(samples, "one_head_off", "plain")
    plain_s = medians(samples)["plain"]
    heads_off.head_ranking(lm, text)  # warm-up
    runs = []
    for _ in range(max(3, args.repeats // 5)):
        start = clock()
        ranking = heads_off.head_ranking(lm, text)
        runs.append(clock() - start)
    seconds = statistics.median(runs)
    result = {"model": args.model, "tokens": len(encode(lm, text).input_ids),
              "one_head_off_over_forward": ratio, "forward_ms": plain_s * 1e3,
              "ranking_forward_passes": ranking.forward_passes, "ranking_batches": ranking.batches,
              "ranking_seconds": seconds, "ranking_over_forward": seconds / plain_s,
              "threads": args.threads}
    if args.json:
        print(json.dumps(result, indent=2))
        return result
    print(f"{args.model}, {result['tokens']} tokens, {args.threads} thread(s)")
    print(format_ratio("forward with one head off ÷ plain forward", ratio, TARGET))
    print(f"plain forward: {plain_s * 1e3:.1f} ms")
    print(f"per-head ranking ({lm.n_layers} x {lm.n_heads} heads): {ranking.forward_passes} forward "
          f"passes in {ranking.batches} batched calls, {seconds:.3f} s "
          f"({seconds / plain_s:.1f} x one plain forward)")
    return result


if __name__ == "__main__":
    main()
