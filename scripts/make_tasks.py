"""Regenerate the bundled fine-tuning tasks in lmcore/assets/tasks/ from Tatoeba English.

    python scripts/make_tasks.py [--data ../shared/datasets/fra-eng.tsv]

Source: the English column of fra-eng.tsv (Tatoeba, CC-BY 2.0 FR). Each English
sentence is used once (duplicates dropped), only sentences of 4 to 12 words ending
in "." or "?". Rules (checkable by anyone with the file and this script):

negation.tsv  label "negated" when the sentence contains a negation word:
              not, n't (as in don't, can't), never, no, nobody, nothing, nowhere,
              none, neither, nor, cannot; otherwise "affirmative". Text unchanged.
question.tsv  label "question" when the sentence ends with "?", "statement" when
              it ends with "."; the final mark is removed from every sentence, so
              the model has to read the word order, not the punctuation.

Each task: 300 sentences per label drawn with random.Random(0), then 80% train /
20% validation per label (the `split` column). Columns: text, label, split.
"""
from __future__ import annotations

import argparse
import csv
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "lmcore" / "assets" / "tasks"
PER_LABEL = 300
VAL_FRACTION = 0.2
NEGATION = re.compile(r"\b(not|never|no|nobody|nothing|nowhere|none|neither|nor|cannot)\b|n't\b",
                      re.IGNORECASE)


def english_sentences(path: Path) -> list[str]:
    """Unique English sentences (first column) of 4-12 words ending in '.' or '?'."""
    seen: dict[str, None] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            text = line.split("\t")[0].strip().replace("\u2019", "'")
            if text.endswith((".", "?")) and 4 <= len(text.split()) <= 12 and not text.endswith(".."):
                seen.setdefault(text, None)
    return list(seen)


def negation_label(text: str) -> str:
    return "negated" if NEGATION.search(text) else "affirmative"


def question_example(text: str) -> tuple[str, str]:
    return text[:-1].rstrip(), "question" if text.endswith("?") else "statement"


def balanced(examples: list[tuple[str, str]], seed: int = 0) -> list[tuple[str, str, str]]:
    """PER_LABEL examples of each label, split 80/20 per label, in a shuffled order."""
    rng = random.Random(seed)
    rows: list[tuple[str, str, str]] = []
    for label in sorted({lab for _, lab in examples}):
        pool = sorted(t for t, lab in examples if lab == label)
        chosen = rng.sample(pool, PER_LABEL)
        n_val = int(PER_LABEL * VAL_FRACTION)
        rows += [(t, label, "validation" if i < n_val else "train") for i, t in enumerate(chosen)]
    rng.shuffle(rows)
    return rows


def write(name: str, rows: list[tuple[str, str, str]]) -> None:
    with open(OUT / f"{name}.tsv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["text", "label", "split"])
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "fra-eng.tsv"))
    args = parser.parse_args()
    sentences = english_sentences(Path(args.data))
    OUT.mkdir(parents=True, exist_ok=True)
    write("negation", balanced([(t, negation_label(t)) for t in sentences]))
    write("question", balanced([question_example(t) for t in sentences]))
    print(f"{len(sentences)} unique sentences -> {OUT}")


if __name__ == "__main__":
    main()
