"""Calibrate each translator's confidence into verdicts, on its own validation pairs.

    python -m scripts.calibrate_confidence [--data-dir ../shared/datasets] MODEL ...

(from the repository root; defaults to every bundled translator). For each model: its
checkpoint's validation split (seed and fractions as in training; never the test split), up to
600 short pairs and the 10-30 word inputs joined from them (as every evaluation here builds them),
translated greedily with each output's confidence (lmcore.translation.confidence), each scored by
sentence-BLEU; `calibrate` picks the two thresholds, written to the model folder's
confidence.json with what they were made from. bench/confidence.py reads the test pairs once.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from lmcore.translation.confidence import FILE, RIGHT_BLEU, WRONG_BLEU, calibrate, halves_ratio
from lmcore.translation.metrics import model_split, scored_translations
from lmcore.translation.translators import BUNDLED, bundled_path, load_translator


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m scripts.calibrate_confidence", description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="*", default=list(BUNDLED))
    p.add_argument("--data-dir", type=Path, default=Path("../shared/datasets"))
    a = p.parse_args()
    torch.set_num_threads(1)
    for name in a.models:
        confidences, bleus = scored_translations(load_translator(name), model_split(name, a.data_dir, "val"))
        thresholds = calibrate(confidences, bleus)
        record = thresholds.to_dict() | {
            "made_on": f"{len(bleus)} validation pairs (short + joined 10-30 words) of its own split",
            "rule": f"likely right: mean sentence-BLEU >= {RIGHT_BLEU:g} at or above; likely wrong: <= {WRONG_BLEU:g} below",
            "validation_halves": halves_ratio(confidences, bleus),
            "command": f"python -m scripts.calibrate_confidence {name}"}
        (bundled_path(name) / FILE).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        print(name, json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
