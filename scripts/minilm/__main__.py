"""python -m scripts.minilm COMMAND ...: the MiniLM-based models' training and measuring.

    lms mlm|causal ...   train (or continue) minilm-mlm / minilm-gpt          (lms.py)
    nsp ...              minilm-mlm's second stage: everyday next-sentence pairs  (nsp.py)
    gpt2-scratch ...     the from-scratch GPT-2 it is compared with           (gpt2_scratch.py)
    remeasure [FOLDER]   re-measure every figure of the bundled minilm-mlm (fill-mask, next-sentence
                         on every held-out file) into its metrics.json, the weights untouched
"""
from __future__ import annotations

import sys

from scripts.minilm import gpt2_scratch, lms, nsp
from scripts.minilm.config import ASSETS

COMMANDS = {"lms": lms.main, "nsp": nsp.main, "gpt2-scratch": gpt2_scratch.main,
            "remeasure": lambda argv: nsp.main(["--remeasure", "--out", *(argv or [str(ASSETS / "minilm-mlm")])])}


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
