"""Benchmark the traced decoder against plain greedy decoding, in one process.

    python -m bench.decoding [--model NAME] [--json] [--repeats N] [--threads N]

Same model, same sentences, one sentence at a time (as the app decodes):
  traced_greedy: lmcore.translation.decoding.decode(beam=1) -- per step the attention row, raw scores,
                 context vector, query and top-5 next words copied out to numpy
               / greedy_decode -- argmax only, no trace                      target <= 1.5
Informational: beam search of 3 with its trace / plain greedy.
Default model: the bundled s2s-en-fr-bahdanau (falls back to an untrained model of
the same size when the bundled weights are missing). With --threads 1 (default)
times are this thread's CPU time, so other jobs on a shared machine do not count.
Also prints the bundled checkpoints' weight-file sizes (each must be <= 20 MB).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/decoding.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from bench.common import format_ratio, interleaved_samples, medians, paired_ratio, pick_clock
from lmcore.translation.decoding import decode, greedy_decode

SENTENCES = [
    "I am cold.", "We don't have any bread left.", "Tom is reading a book in the garden.",
    "Where is the station?", "She wants to learn French because she likes Paris.",
    "I think it will rain tomorrow, so take your umbrella.",
    "My brother and I went to the market to buy some apples and some milk.",
    "Can you help me?",
]
TARGET = 1.5


def load_model(name: str):
    from lmcore.errors import UserFacingError
    from lmcore.translation.translators import load_translator

    try:
        tr = load_translator(name)
        return tr.model, [tr.encode(s).ids for s in SENTENCES], name
    except UserFacingError:
        from lmcore.seq2seq import Seq2Seq, Seq2SeqConfig

        torch.manual_seed(0)
        model = Seq2Seq(Seq2SeqConfig(4000, 4000, attention="bahdanau")).eval()
        g = torch.Generator().manual_seed(1)
        ids = [torch.randint(4, 4000, (len(s.split()) + 1,), generator=g).tolist() for s in SENTENCES]
        return model, ids, "untrained bahdanau 256"


def checkpoint_sizes() -> dict[str, int]:
    from lmcore.translation.checkpoints import checkpoint_size
    from lmcore.translation.translators import BUNDLED, bundled_path

    return {name: checkpoint_size(bundled_path(name)) for name in BUNDLED
            if (bundled_path(name) / "model.safetensors").is_file()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="s2s-en-fr-bahdanau")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, sources, label = load_model(args.model)
    max_len = 40  # the same number of steps on every path when a model never stops

    def plain() -> None:
        for ids in sources:
            greedy_decode(model, ids, max_len)

    def traced() -> None:
        for ids in sources:
            decode(model, ids, beam=1, max_len=max_len)

    def beam3() -> None:
        for ids in sources:
            decode(model, ids, beam=3, max_len=max_len)

    samples = interleaved_samples({"plain": plain, "traced": traced, "beam3": beam3},
                                  repeats=args.repeats, warmup=2, clock=pick_clock(args.threads))
    ratio = paired_ratio(samples, "traced", "plain")
    result = {"model": label, "sentences": len(sources), "threads": args.threads,
              "median_seconds": {k: round(v, 5) for k, v in medians(samples).items()},
              "traced_greedy_ratio": round(ratio, 3),
              "beam3_ratio": round(paired_ratio(samples, "beam3", "plain"), 3),
              "target": TARGET, "pass": ratio <= TARGET, "checkpoint_bytes": checkpoint_sizes()}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"model: {label}, {len(sources)} sentences, {args.threads} thread(s)")
    print(format_ratio("traced greedy decode / plain greedy decode", ratio, TARGET))
    print(f"{'beam 3 with trace / plain greedy (informational)':<58s} {result['beam3_ratio']:6.3f}")
    for name, size in result["checkpoint_bytes"].items():
        print(f"{name:<30s} {size / 1e6:6.2f} MB  {'ok' if size <= 20e6 else 'OVER 20 MB'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
