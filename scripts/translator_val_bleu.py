"""Validation-split BLEU of translators: how a candidate is chosen without reading the test split.

    python -m scripts.translator_val_bleu [--data-dir ../shared/datasets] MODEL_OR_FOLDER ...

(from the repository root; BLEU and chrF by lmcore.translation.metrics, as `evaluate --report`).

Each model's own validation pairs (its checkpoint's split: seed, fractions), short ones, and
10-30 word inputs joined from them, the way `evaluate --report` builds its test inputs. The test
split is then read once, by `python -m lmcore evaluate --report`, for the model kept.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from lmcore.translation.metrics import corpus_scores, held_out_pairs, scoring_inputs, translate_for_scoring
from lmcore.translation.translators import load_translator


def val_scores(name: str, data_dir: Path, n_short: int = 400, n_joined: int = 150,
               dataset: str | None = None, swap: bool = False) -> dict:
    """dataset / swap: for a checkpoint saved mid-training (--save-best), whose meta lacks them."""
    translator = load_translator(name)
    meta = translator.ckpt.meta
    val, _ = held_out_pairs({**meta, "dataset": meta.get("dataset", dataset), "swap": meta.get("swap", swap)},
                            data_dir)
    short, joined = scoring_inputs(val, n_short, n_joined)
    _, hyps, refs = translate_for_scoring(translator, short + joined)
    n = len(short)
    return {"val_pairs": n, "joined": len(joined), "short": corpus_scores(hyps[:n], refs[:n]),
            "joined_scores": corpus_scores(hyps[n:], refs[n:]),
            "examples": [" ".join(h.split()) for h in hyps[:5]]}


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m scripts.translator_val_bleu", description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+")
    p.add_argument("--data-dir", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--dataset", help="pairs file of a checkpoint saved mid-training")
    p.add_argument("--swap", action="store_true", help="with --dataset: the target is in the first column")
    a = p.parse_args()
    torch.set_num_threads(1)
    print(json.dumps({m: val_scores(m, a.data_dir, dataset=a.dataset, swap=a.swap) for m in a.models},
                     ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
