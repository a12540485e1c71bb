"""Target-language sentences without a translation, as training pairs with a dummy source.

Sennrich, Haddow and Birch (2016, "Improving Neural Machine Translation Models with Monolingual
Data") add target-side sentences paired with an empty ("dummy") source: the decoder then learns
the target language from far more text than the parallel pairs hold, while the real pairs teach
it to translate. Korean→English has 2,955 training pairs; the English side of the French pairs
has ~70,000 sentences, which is what `dummy_source_pairs` draws from.

    extra = dummy_source_pairs(english, exclude=targets_of(val + test), count=2 * len(train))

A sentence equal (case and spacing aside) to a validation or test target is never drawn, so the
decoder never learns by heart a sentence it is scored on.
"""
from __future__ import annotations

import random
from typing import Iterable, Sequence

from lmcore.files import read_text_file

DUMMY_SOURCE = "∅"  # outside every source vocabulary: one <unk> for the encoder to read


def normalised(text: str) -> str:
    return " ".join(text.lower().split())


def dummy_source_pairs(texts: Iterable[str], exclude: Iterable[str], count: int,
                       seed: int = 0, max_words: int = 20) -> list[tuple[str, str]]:
    """Up to `count` (DUMMY_SOURCE, sentence) pairs from distinct texts, in a seeded random order;
    none equal to an excluded sentence, none longer than max_words."""
    banned = {normalised(t) for t in exclude}
    pool, seen = [], set()
    for text in texts:
        key = normalised(text)
        if key and key not in banned and key not in seen and len(key.split()) <= max_words:
            seen.add(key)
            pool.append(text.strip())
    random.Random(seed).shuffle(pool)
    return [(DUMMY_SOURCE, text) for text in pool[:max(count, 0)]]


def read_sentences(path: str, column: int = 0) -> list[str]:
    """One sentence per line of a text file, or column `column` of a TSV file."""
    decoded = read_text_file(path, max_bytes=50_000_000, max_lines=500_000)
    rows = (line.split("\t") for line in decoded.lines if line.strip())
    return [row[column] for row in rows if len(row) > column]


def targets_of(pairs: Sequence[tuple[str, str]]) -> list[str]:
    return [target for _, target in pairs]
