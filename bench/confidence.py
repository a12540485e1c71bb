"""Benchmark: does a translator's confidence mean something? (issue 26, item 4)

    nice -n 10 python -m bench.confidence [--data-dir ../shared/datasets] [MODEL ...]

For each model (default: both Korean->English models and the default English->French one), its
own test pairs (short + joined 10-30 word inputs, read here only), translated greedily with each
output's confidence (lmcore.translation.confidence) and scored by sentence-BLEU. Prints the mean
sentence-BLEU of the most confident half and of the least confident half, and their ratio
(target >= 2), and how the calibrated verdicts split the pairs with each group's mean BLEU.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from lmcore.translation.confidence import VERDICTS, halves_ratio, verdict
from lmcore.translation.metrics import model_split, scored_translations
from lmcore.translation.translators import load_translator

DEFAULT = ("tf-ko-en", "s2s-ko-en-bahdanau", "tf-en-fr")
TARGET = 2.0


def measure(name: str, data_dir: Path) -> dict:
    translator = load_translator(name)
    confidences, bleus = scored_translations(translator, model_split(name, data_dir, "test"))
    groups: dict[str, list[float]] = {v: [] for v in VERDICTS}
    for c, b in zip(confidences, bleus):
        groups[verdict(c, translator.thresholds) or "unsure"].append(b)
    return halves_ratio(confidences, bleus) | {
        "verdicts": {v: {"pairs": len(bs), "mean_bleu": round(sum(bs) / len(bs), 1) if bs else None}
                     for v, bs in groups.items()}}


def report(name: str, row: dict) -> str:
    ok = row["ratio"] is not None and row["ratio"] >= TARGET
    return (f"{name}: confident half {row['confident_half_bleu']} / unsure half {row['unsure_half_bleu']} "
            f"= {row['ratio']}x ({'meets' if ok else 'misses'} {TARGET:g}x) on {row['n']} test pairs; "
            f"verdicts {json.dumps(row['verdicts'])}")


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.confidence", description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="*", default=list(DEFAULT))
    p.add_argument("--data-dir", type=Path, default=Path("../shared/datasets"))
    args = p.parse_args()
    torch.set_num_threads(1)
    print("\n".join(report(name, measure(name, args.data_dir)) for name in args.models), flush=True)


if __name__ == "__main__":
    main()
