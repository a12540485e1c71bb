"""The lessons' live questions, computed from the attention the page shows (no Streamlit).

    q = pronoun_question(word_maps)               # BERT page: "which word will 'it' attend to?"
    later = later_word_question(word_maps)        # BERT page without a pronoun: "can 'A' see 'B'?"
    top = top_source_word(tokens, step_weights)   # step-by-step translation: "which source word?"
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from lmcore.record import AttentionMaps
from lmcore.translation.text import WHOLE_WORD_RE

PRONOUNS = ("it", "its", "he", "him", "his", "she", "her", "they", "them", "their", "this", "that")


@dataclass(frozen=True)
class PronounQuestion:
    word: str              # the pronoun as written
    options: list[str]     # the other words of the sentence, in order
    answer: int            # index in options of the word the pronoun attends to most


def pronoun_question(maps: AttentionMaps) -> PronounQuestion | None:
    """"Which word will 'it' attend to most?" from word-level maps (special tokens hidden).

    The answer averages the last layer's heads over the first pronoun's row; None when
    the sentence has no pronoun or fewer than two other words. Punctuation is no option.
    """
    words = list(maps.key_tokens)
    where = next((i for i, w in enumerate(maps.query_tokens) if w.lower() in PRONOUNS), None)
    if where is None:
        return None
    row = maps.weights[-1, :, where, :].mean(axis=0)
    choices = [j for j, w in enumerate(words) if j != where and WHOLE_WORD_RE.fullmatch(w)]
    if len(choices) < 2:
        return None
    best = max(choices, key=lambda j: row[j])
    return PronounQuestion(maps.query_tokens[where], [words[j] for j in choices], choices.index(best))


@dataclass(frozen=True)
class LaterWordQuestion:
    word: str    # the first whole word of the text on the page
    later: str   # its last whole word, which comes after it


def later_word_question(maps: AttentionMaps) -> LaterWordQuestion | None:
    """"Can '<first word>' attend to '<last word>', which comes after it?" from the words
    of the text on the page (word-level maps); None without two different whole words."""
    words = [w for w in maps.query_tokens if WHOLE_WORD_RE.fullmatch(w)]
    later = [w for w in words[1:] if w.lower() != words[0].lower()] if words else []
    return LaterWordQuestion(words[0], later[-1]) if later else None


def quoted_text(text: str, limit: int = 90) -> str:
    """The page's text for a question: one line, cut with '…' past `limit` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"


SKIP_SOURCE = {"<eos>", "<pad>", "<sos>", "<bos>", "<unk>", "▁"}


def top_source_word(tokens: Sequence[str], weights: Sequence[float]) -> tuple[list[str], int] | None:
    """(distinct source words in order, index of the one with the most weight) for one
    decoding step; a repeated word's weights are added up; special tokens are no option."""
    totals: dict[str, float] = {}
    for token, weight in zip(tokens, weights):
        if token not in SKIP_SOURCE:
            totals[token] = totals.get(token, 0.0) + float(weight)
    if len(totals) < 2:
        return None
    words = list(totals)
    return words, max(range(len(words)), key=lambda i: totals[words[i]])
