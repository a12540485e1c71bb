"""Benchmark: redrawing the GPT page's top-p bars from cached logits vs running the model,
and the logit lens vs a bare forward pass.

    nice -n 10 python -m bench.inside [--repeats 20] [--threads 1] [--models minilm-gpt tiny-gpt2]

One process, interleaved rounds, medians of per-round ratios, at 16 tokens:
  next_token_view(cached logits, T, k, P)  ÷  next_token_logits (the model call)   (target <= 0.2)
  logit_lens(lm, text)                     ÷  bare forward with hidden states      (reported)
"""
from __future__ import annotations

import argparse
import json

import torch

from bench.common import interleaved_samples, medians, paired_ratio, pick_clock
from bench.pretrained import text_of

REDRAW_TARGET = 0.2


def bench_model(name: str, repeats: int, clock) -> dict:
    from lmcore.pretrained import loading, nucleus
    from lmcore.pretrained.encoding import encode, model_inputs
    from lmcore.pretrained.logit_lens import logit_lens

    lm = loading.load_model(name)
    text = text_of(lm, 16)
    cached = nucleus.next_token_logits(lm, text)
    inputs = model_inputs(encode(lm, text))

    def bare():
        with torch.inference_mode():
            return lm.model.base_model(**inputs, output_hidden_states=True)

    samples = interleaved_samples({
        "redraw": lambda: nucleus.next_token_view(lm, cached, 10, 0.7, 0.9),
        "model_call": lambda: nucleus.next_token_logits(lm, text),
        "lens": lambda: logit_lens(lm, text, 5),
        "bare": bare}, repeats=repeats, warmup=2, clock=clock)
    ms = {k: round(v * 1e3, 2) for k, v in medians(samples).items()}
    return {"model": name, "tokens": len(inputs["input_ids"][0]),
            "redraw_over_model_call": round(paired_ratio(samples, "redraw", "model_call"), 3),
            "lens_over_bare_forward": round(paired_ratio(samples, "lens", "bare"), 2), "median_ms": ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--models", nargs="+", default=["minilm-gpt", "tiny-gpt2"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    clock = pick_clock(args.threads)
    rows = [bench_model(name, args.repeats, clock) for name in args.models]
    for row in rows:
        verdict = "ok" if row["redraw_over_model_call"] <= REDRAW_TARGET else "ABOVE TARGET"
        print(f"{row['model']:12s} {row['tokens']} tokens: top-p redraw / model call = "
              f"{row['redraw_over_model_call']:.3f} (target <= {REDRAW_TARGET}: {verdict}); "
              f"logit lens / bare forward = {row['lens_over_bare_forward']:.2f}")
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
