"""Pure-numpy analysis of BERT/GPT-2 attention records (no torch, no transformers).

- token display: turn sub-word pieces (`##ing`, `Ġthe`, `Ċ`, `▁x`, byte fragments
  of Korean) into readable labels using the tokenizer's offset mapping;
- word-level aggregation: sum over a word's pieces on the key side, mean on the
  query side (rows keep summing to 1);
- hiding special tokens, with each row renormalised over what remains;
- the head report of Clark et al. 2019 ("What Does BERT Look At?");
- attention rollout (Abnar & Zuidema 2020).
All functions take and return `lmcore.record.AttentionMaps`.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from lmcore.record import AttentionMaps

SPECIAL_RE = re.compile(r"^(\[[A-Z]+\]|<\|?[a-z_]+\|?>|<[/]?s>)$")
_HANGUL_RE = re.compile("[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_JAMO_RE = re.compile("[\u1100-\u11ff\u3130-\u318f]")
_PUNCT = set(".,;:!?'\"-()[]{}…—–`")


# ---------------------------------------------------------------- token display
def clean_token(raw: str) -> str:
    """A readable label for a raw vocabulary piece: '##ing' -> 'ing', 'Ġthe' -> 'the',
    'Ċ' -> '↵', '▁x' -> 'x'. Pure whitespace becomes '␣'."""
    if SPECIAL_RE.match(raw):
        return raw
    text = raw[2:] if raw.startswith("##") and len(raw) > 2 else raw
    text = text.replace("Ċ", "↵").replace("Ġ", " ").replace("▁", " ").replace("\n", "↵")
    return text.strip() or ("␣" if text else raw)


def span_label(text: str) -> str:
    """Display a slice of the user's text: trimmed; whitespace-only shown as ␣ / ↵."""
    stripped = text.strip()
    if stripped:
        return stripped
    return "↵" if "\n" in text else "␣"


def display_tokens(text_parts: Sequence[str], raw: Sequence[str], offsets: Sequence[tuple[int, int]],
                   segments: Sequence[int], special: Sequence[bool], unk_token: str | None) -> list[str]:
    """One display label per token, read from the user's text through the offsets.

    Special tokens keep their name ([CLS]); unknown pieces show 'word→[UNK]'; jamo
    pieces (what an uncased English WordPiece makes of Hangul) show the jamo; pieces
    sharing one span (byte-level BPE splitting a Korean syllable) show 'syllable(i/n)'.
    """
    labels: list[str] = []
    for i, (piece, (s, e), seg, sp) in enumerate(zip(raw, offsets, segments, special)):
        if sp or e <= s:
            labels.append(piece if sp else clean_token(piece))
            continue
        src = span_label(text_parts[seg][s:e])
        if piece == unk_token:
            labels.append(f"{src}→{piece}")
        elif _JAMO_RE.search(piece):
            labels.append(clean_token(piece))
        else:
            labels.append(src)
    return _number_fragments(labels, offsets, segments, special)


def _number_fragments(labels: list[str], offsets, segments, special) -> list[str]:
    """Tokens that share exactly one span are fragments of it: label them (i/n)."""
    out = list(labels)
    i = 0
    while i < len(labels):
        j = i
        while (j + 1 < len(labels) and not special[i] and offsets[i][1] > offsets[i][0]
               and offsets[j + 1] == offsets[i] and segments[j + 1] == segments[i]):
            j += 1
        if j > i:
            n = j - i + 1
            for k in range(i, j + 1):
                out[k] = f"{labels[k]}({k - i + 1}/{n})"
        i = j + 1
    return out


def has_hangul(text: str) -> bool:
    return bool(_HANGUL_RE.search(text))


def hangul_is_lost(raw_tokens: Sequence[str], unk_token: str | None) -> bool:
    """True when the tokenizer turned Hangul into [UNK] or loose jamo."""
    return any(t == unk_token or _JAMO_RE.search(t) for t in raw_tokens)


def is_punctuation(label: str) -> bool:
    return bool(label) and all(c in _PUNCT or unicodedata.category(c).startswith("P") for c in label)


# ---------------------------------------------------------------- words
def word_ids_from_offsets(offsets: Sequence[tuple[int, int]], segments: Sequence[int],
                          special: Sequence[bool], text_parts: Sequence[str]) -> list[int]:
    """Group tokens into words: a token starts a new word when whitespace or a
    segment boundary lies between it and the previous token, or either is
    special or punctuation. Returns a word index per token."""
    ids: list[int] = []
    word = -1
    prev: tuple[int, int, int] | None = None  # (segment, end, was_punct_or_special)
    for (s, e), seg, sp in zip(offsets, segments, special):
        piece = text_parts[seg][s:e] if e > s else ""
        punct = sp or e <= s or is_punctuation(piece.strip())
        joined = (prev is not None and not punct and not prev[2] and prev[0] == seg
                  and s <= prev[1] and not piece[:1].isspace())
        if not joined:
            word += 1
        ids.append(word)
        prev = (seg, e, punct)
    return ids


def word_labels(word_ids: Sequence[int], tokens: Sequence[str], offsets: Sequence[tuple[int, int]],
                segments: Sequence[int], special: Sequence[bool], text_parts: Sequence[str]) -> list[str]:
    """One label per word: the user's text from its first to its last piece
    (so 'un', '##believ', '##able' -> 'unbelievable'); special tokens keep their label."""
    labels: dict[int, str] = {}
    spans: dict[int, tuple[int, int, int]] = {}
    for w, tok, (s, e), seg, sp in zip(word_ids, tokens, offsets, segments, special):
        if sp or e <= s:
            labels.setdefault(w, tok)
            continue
        a, b, _ = spans.get(w, (s, e, seg))
        spans[w] = (min(a, s), max(b, e), seg)
    for w, (a, b, seg) in spans.items():
        labels[w] = span_label(text_parts[seg][a:b])
    return [labels[w] for w in range(max(word_ids) + 1)]


def aggregate_words(maps: AttentionMaps, word_ids: Sequence[int],
                    word_labels: Sequence[str] | None = None) -> AttentionMaps:
    """Word-level attention: keys summed over a word's pieces, queries averaged.

    A[w, v] = mean_{i in w} sum_{j in v} a[i, j]   -> rows still sum to 1.
    Needs a self/causal record (queries and keys are the same tokens).
    """
    ids = np.asarray(word_ids)
    n_words = int(ids.max()) + 1
    onehot = np.zeros((len(ids), n_words), dtype=np.float32)  # (tokens, words)
    onehot[np.arange(len(ids)), ids] = 1.0
    keys = maps.weights @ onehot  # (L, H, q, words)
    counts = onehot.sum(axis=0)  # (words,)
    words = np.einsum("lhqw,qv->lhvw", keys, onehot) / counts[None, None, :, None]
    if word_labels is None:
        word_labels = ["".join(maps.key_tokens[i] for i in np.flatnonzero(ids == w))
                       for w in range(n_words)]
    return AttentionMaps(words.astype(np.float32), tuple(word_labels), tuple(word_labels), maps.kind)


def hide_tokens(maps: AttentionMaps, hidden: Sequence[bool]) -> AttentionMaps:
    """Drop some tokens (e.g. [CLS], [SEP]) as queries and keys; each remaining row
    is renormalised: a'[i, j] = a[i, j] / sum_{k kept} a[i, k]. A row whose whole
    mass was on hidden tokens becomes all zeros (never NaN)."""
    keep = ~np.asarray(hidden, dtype=bool)
    w = maps.weights[:, :, keep][:, :, :, keep]  # (L, H, q', k')
    total = w.sum(axis=-1, keepdims=True)
    w = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
    q = tuple(t for t, k in zip(maps.query_tokens, keep) if k)
    kk = tuple(t for t, k in zip(maps.key_tokens, keep) if k)
    return AttentionMaps(w, q, kk, maps.kind)


# ---------------------------------------------------------------- head report
CATEGORIES = ("cls", "sep", "punct", "prev", "next", "same")


@dataclass(frozen=True)
class HeadStats:
    layer: int
    head: int
    cls: float     # mean weight a query puts on [CLS] (or the first token of a GPT)
    sep: float     # ... on [SEP] tokens
    punct: float   # ... on punctuation (". , ; ...")
    prev: float    # ... on the token just before it
    next: float    # ... on the token just after it
    same: float    # ... on itself
    entropy: float  # mean row entropy in bits (head_entropy): -sum_j a_ij log2 a_ij
    label: str     # the category holding > threshold of the weight, or "broad" / "mixed"

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def category_masks(tokens: Sequence[str], cls_token: str = "[CLS]",
                   sep_tokens: Sequence[str] = ("[SEP]",), is_cls: Sequence[bool] | None = None,
                   is_sep: Sequence[bool] | None = None) -> dict[str, np.ndarray]:
    """(n, n) boolean masks: which key each category covers for each query.
    [CLS]/[SEP] positions come from `is_cls`/`is_sep` when given, else from the labels."""
    n = len(tokens)
    col = lambda m: np.broadcast_to(np.asarray(m, dtype=bool)[None, :], (n, n))
    return {
        "cls": col(is_cls if is_cls is not None else [t == cls_token for t in tokens]),
        "sep": col(is_sep if is_sep is not None else [t in sep_tokens for t in tokens]),
        "punct": col([is_punctuation(t) for t in tokens]),
        "prev": np.eye(n, k=-1, dtype=bool),
        "next": np.eye(n, k=1, dtype=bool),
        "same": np.eye(n, dtype=bool),
    }


def head_entropy(maps: AttentionMaps) -> np.ndarray:
    """Mean row entropy per layer and head, in bits: (layers, heads) float64.

    H_i = -sum_j a_ij log2 a_ij, averaged over the queries i. 0 when each query puts all its
    weight on one key; log2(keys) when it spreads evenly. The one entropy every page shows.
    """
    w = maps.weights.astype(np.float64)                              # (L, H, T, S)
    return -(w * np.log2(np.where(w > 0, w, 1.0))).sum(-1).mean(-1)  # (L, H)


def head_report(maps: AttentionMaps, cls_token: str = "[CLS]", sep_tokens: Sequence[str] = ("[SEP]",),
                threshold: float = 0.5, broad_entropy: float | None = None,
                is_cls: Sequence[bool] | None = None, is_sep: Sequence[bool] | None = None) -> list[HeadStats]:
    """Clark et al. (2019) statistics per head, averaged over query positions.

    A head is labelled with a category when its mean weight there exceeds
    `threshold`; "broad" when its entropy (bits) is above `broad_entropy` (default:
    0.8 · log2 n, near uniform); otherwise "mixed".
    """
    w = maps.weights.astype(np.float64)  # (L, H, n, n)
    masks = category_masks(maps.key_tokens, cls_token, sep_tokens, is_cls, is_sep)
    means = {c: (w * m).sum(-1).mean(-1) for c, m in masks.items()}  # each (L, H)
    ent = head_entropy(maps)  # (L, H), bits
    broad = 0.8 * np.log2(max(w.shape[-1], 2)) if broad_entropy is None else broad_entropy
    out = []
    for layer in range(w.shape[0]):
        for head in range(w.shape[1]):
            vals = {c: float(means[c][layer, head]) for c in CATEGORIES}
            best = max(vals, key=vals.get)
            label = best if vals[best] > threshold else (
                "broad" if ent[layer, head] > broad else "mixed")
            out.append(HeadStats(layer, head, **vals, entropy=float(ent[layer, head]), label=label))
    return out


# ---------------------------------------------------------------- rollout
def attention_rollout(maps: AttentionMaps, residual: float = 0.5) -> np.ndarray:
    """Abnar & Zuidema (2020): R = Â_L · ... · Â_1 with Â_l = r·I + (1-r)·mean_h A_l,
    each row renormalised. Returns (layers, n, n): the rollout up to each layer."""
    a = maps.weights.astype(np.float64).mean(axis=1)  # (L, n, n)
    n = a.shape[-1]
    rolled = np.eye(n)
    out = []
    for layer in a:
        step = residual * np.eye(n) + (1 - residual) * layer
        step /= step.sum(-1, keepdims=True)
        rolled = step @ rolled
        out.append(rolled)
    return np.asarray(out, dtype=np.float32)


def rollout_maps(maps: AttentionMaps, residual: float = 0.5) -> AttentionMaps:
    """The rollout as a record: (layers, 1, n, n), one 'head' per layer."""
    return AttentionMaps(attention_rollout(maps, residual)[:, None], maps.query_tokens,
                         maps.key_tokens, maps.kind)
