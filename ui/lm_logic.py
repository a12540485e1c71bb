"""Pure helpers behind the BERT and GPT pages (no Streamlit: tested directly)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from lmcore.record import AttentionMaps
from lmcore.translation.text import WHOLE_WORD_RE

MASK = "[MASK]"
REPORT_COLUMNS = ("cls", "sep", "punct", "prev", "next", "same", "entropy")


def maskable_words(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the words one may hide, left to right."""
    return [m.span() for m in WHOLE_WORD_RE.finditer(text)]


def mask_word(text: str, span: tuple[int, int]) -> str:
    """The text with the word at `span` replaced by [MASK]."""
    start, end = span
    return text[:start] + MASK + text[end:]


def report_table(rows: Sequence[dict], t: Callable[..., str]) -> dict[str, list]:
    """The head report as table columns with translated headers and labels."""
    table: dict[str, list] = {t("common.layer"): [r["layer"] for r in rows],
                              t("common.head"): [r["head"] for r in rows],
                              t("lmp.report.label"): [t(f"lm.head.{r['label']}") for r in rows]}
    for col in REPORT_COLUMNS:
        table[t(f"lm.head.{col}")] = [round(float(r[col]), 3) for r in rows]
    return table


def report_row_head(rows: Sequence[dict], index: int) -> tuple[int, int]:
    """(layer, head) of the report row at positional `index`."""
    return int(rows[index]["layer"]), int(rows[index]["head"])


def new_token_maps(attention: np.ndarray, key_tokens: Sequence[str],
                   row_label: Callable[[int, int], str]) -> AttentionMaps:
    """One generated token's attention, every (layer, head) as a row: (1, 1, L*H, k).

    attention: (layers, heads, k), the new token's row of the final causal map.
    """
    layers, heads, k = attention.shape
    rows = attention.reshape(1, 1, layers * heads, k)
    labels = [row_label(layer, head) for layer in range(layers) for head in range(heads)]
    return AttentionMaps(rows, tuple(labels), tuple(key_tokens[:k]), "cross")


def rivals_text(rivals: Sequence, limit: int = 5) -> str:
    """'the 0.31 · a 0.12 · ...' for the top rivals of a generation step."""
    return " · ".join(f"{r.display} {r.probability:.2f}" for r in list(rivals)[:limit])


@dataclass(frozen=True)
class GenSettings:
    """What a generation depends on; a change restarts it."""

    model: str
    prompt: str
    top_k: int
    temperature: float
    seed: int


def next_steps(current: int, action: str | None, play_steps: int, limit: int) -> int:
    """Number of generated tokens after a button: step +1, play +play_steps, reset 0."""
    if action == "reset":
        return 0
    if action == "step":
        return min(current + 1, limit)
    if action == "play":
        return min(current + play_steps, limit)
    return current


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
