"""Plain English sentences from WordNet 3.0's glosses, for masked-LM training.

WordNet 3.0 (Princeton University; Debian's wordnet-base, /usr/share/wordnet) is under the
WordNet 3.0 licence: use, copy, modify and distribute for any purpose without fee, keeping its
copyright notice ("WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.")
and disclaimer (/usr/share/doc/wordnet-base/copyright).

A data.* line is `offset lex_filenum ss_type w_cnt word lex_id ... | gloss`; the gloss holds a
definition and quoted example sentences separated by "; ":

    04 n 01 pill 0 ... | a dose of medicine in the form of a small pellet; "take a pill"

gives "A pill is a dose of medicine in the form of a small pellet." and "Take a pill."
Verbs read "To take is to ...", adjectives and adverbs "Quickly means ...".
"""
from __future__ import annotations

import math
import re
from pathlib import Path

WORDNET = Path("/usr/share/wordnet")
FILES = ("data.noun", "data.verb", "data.adj", "data.adv")
LICENCE = ("WordNet 3.0 (Princeton University; WordNet 3.0 licence: free use, copying and distribution "
           "with its copyright notice and disclaimer)")
CLEAN = re.compile(r"^[A-Za-z0-9 ,.;:'?!()\-]+$")  # nothing odd: no quotes, slashes, accents
MIN_WORDS, MAX_WORDS, MAX_CHARS = 4, 40, 240


def parse_line(line: str) -> tuple[str, str, str, list[str]] | None:
    """(part of speech n/v/a/s/r, first lemma, definition, example sentences) of a data.* line;
    None for the licence header and malformed lines."""
    if line.startswith(" ") or " | " not in line:
        return None
    head, gloss = line.split(" | ", 1)
    fields = head.split()
    if len(fields) < 6:
        return None
    lemma = re.sub(r"\([a-z]+\)$", "", fields[4]).replace("_", " ")  # adjectives: "red(a)"
    parts = [p.strip() for p in gloss.strip().split("; ")]
    examples = [p[1:-1].strip() for p in parts if len(p) > 2 and p[0] == '"' and p[-1] == '"']
    definitions = [p for p in parts if not p.startswith('"')]
    return fields[2], lemma, definitions[0] if definitions else "", examples


def _article(word: str) -> str:
    return "An" if word[:1].lower() in "aeiou" else "A"


def definition_sentence(pos: str, lemma: str, definition: str) -> str:
    """A definition written as a sentence ("" when it does not make one)."""
    definition = re.sub(r"^\([^)]*\)\s*", "", definition).strip()  # "(biology) ..." -> "..."
    if not definition or not lemma:
        return ""
    if pos == "n":
        first = definition.split()[0].lower()
        subject = f"{_article(lemma)} {lemma}" if first in ("a", "an") and lemma.islower() else lemma
        if lemma[0].isupper() and definition[0].isupper():  # "Hoffmann is German chemist" -> "a German"
            definition = f"{_article(definition).lower()} {definition}"
        text = f"{subject} is {definition}"
    elif pos == "v":
        text = f"To {lemma} is to {definition}"
    else:
        text = f"{lemma} means {definition}"
    return finished(text)


def finished(text: str) -> str:
    """Capitalised, ending with punctuation; "" when too short, too long or with odd characters."""
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    if text[-1] not in ".!?":
        text += "."
    words = len(text.split())
    if not CLEAN.match(text) or not MIN_WORDS <= words <= MAX_WORDS or len(text) > MAX_CHARS:
        return ""
    return text


def synset_texts(line: str) -> list[str]:
    """The clean sentences of one data.* line: its definition, then its examples."""
    parsed = parse_line(line)
    if parsed is None:
        return []
    pos, lemma, definition, examples = parsed
    texts = [definition_sentence(pos, lemma, definition)] + [finished(e) for e in examples]
    return [t for t in texts if t]


def read_texts(folder: Path = WORDNET, files: tuple[str, ...] = FILES) -> list[str]:
    """Every clean sentence of the data files, once each, in file order."""
    seen: dict[str, None] = {}
    for name in files:
        for line in (Path(folder) / name).read_text(encoding="utf-8", errors="replace").splitlines():
            for t in synset_texts(line):
                seen.setdefault(t, None)
    return list(seen)


def tokens(text: str) -> frozenset[str]:
    """The normalised token set: lowercased, punctuation stripped."""
    return frozenset(re.sub(r"[^\w\s]", "", text.lower()).split())


def drop_near_copies(texts: list[str], held: list[str], limit: float = 0.8) -> list[str]:
    """`texts` less any whose normalised form equals, or whose token set has Jaccard >= `limit`
    with, a held-out sentence. Prefix filtering: with tokens ordered rarest first, two sets that
    reach `limit` share a token among the first |x| - ceil(limit |x|) + 1 of each."""
    held_sets = [s for s in {tokens(h) for h in held} if s]
    count: dict[str, int] = {}
    for s in held_sets:
        for t in s:
            count[t] = count.get(t, 0) + 1

    def prefix(s: frozenset[str]) -> list[str]:
        order = sorted(s, key=lambda t: (count.get(t, 0), t))
        return order[:len(order) - math.ceil(limit * len(order)) + 1]

    index: dict[str, list[int]] = {}
    for k, s in enumerate(held_sets):
        for t in prefix(s):
            index.setdefault(t, []).append(k)
    kept = []
    for text in texts:
        x = tokens(text)
        near = {k for t in prefix(x) for k in index.get(t, ())}
        if not any(len(x & held_sets[k]) / len(x | held_sets[k]) >= limit for k in near):
            kept.append(text)
    return kept
