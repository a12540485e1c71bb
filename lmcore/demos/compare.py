"""One sentence under two models: both attention maps on the same word axes, and their agreement.

Tokenizers cut a text differently (MiniLM 'sc ##hr ##od ##inger', tiny-bert 'sch ##ro ##ding
##er', a translator "don'" 't' or Korean syllables). The text is split once into words with
character spans (`lmcore.translation.text.WORD_RE`, the translators' word pattern, on the original text); M[i, w] is
the share of token i's characters inside word w (1 for a token inside one word). Tokens in no
word (special tokens [CLS] [SEP], the Korean space ▁) have an empty row. As in
`lm_analysis.aggregate_words` (the same when M is one-hot):

    K[i, w] = sum_j a[i, j] M[j, w];  K[i] /= sum_w K[i, w]   keys summed; specials dropped, renormalised
    A[v, w] = sum_i M[i, v] K[i, w] / sum_i M[i, v]            queries averaged over a word's pieces

Agreement on the same words: the Jensen–Shannon distance of each row (sqrt of the JS
divergence, log base 2: 0 same distribution .. 1 no word in common), averaged; and the share
of rows whose most-attended word is the same. Translations differ, so target words are paired
where both contain the same word in the same order (difflib); their top source words are
compared, and so are the two coverage profiles (mean attention each source word gets).
"""
from __future__ import annotations

import difflib
import re
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from lmcore.notices import Notice
from lmcore.record import AttentionMaps
from lmcore.special_ids import UNK
from lmcore.translation.text import SPACE, WORD_RE

MEAN = -1  # "head" value meaning: the average of the layer's heads
Span = tuple[int, int] | None


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Side:
    """One model's attention on the shared words."""
    maps: AttentionMaps   # (L, H, W, W) self (NaN rows: words not seen); cross: (L, H, targets, W)
    dropped: np.ndarray   # (L, H) mean share of weight that was on tokens in no word (specials)
    seen: np.ndarray      # (W,) bool: the model had a token in the word (False after truncation)
    unknown: np.ndarray   # (W,) bool: every piece of the word was unknown ([UNK], <unk>)


@dataclass(frozen=True)
class Agreement:
    js_mean: float      # mean per-row Jensen–Shannon distance, 0 (same) .. 1 (disjoint)
    top_same: float     # share of rows with the same most-attended word, 0..1
    rows: int


@dataclass(frozen=True)
class TranslationAgreement:
    pairs: tuple[tuple[int, int, int, int], ...]  # target words both translations share: (row in A,
    #                                     row in B, A's most-attended source word, B's), indices
    top_same: float | None               # share of paired words with the same top source word
    js_mean: float | None                # mean JS distance over the paired rows
    coverage_js: float                   # JS distance of the mean-attention-per-source-word profiles


# ---------------------------------------------------------------- words and spans
def split_words(text: str) -> list[Word]:
    """The shared word axis: words (with a trailing apostrophe) and single punctuation marks."""
    return [Word(m.start(), m.end(), m.group()) for m in WORD_RE.finditer(text)]


def offset_spans(offsets: Sequence[tuple[int, int]], special: Sequence[bool]) -> list[Span]:
    """Spans of a Hugging Face tokenization (offset mapping into the text); None for specials."""
    return [None if sp or e <= s else (int(s), int(e)) for (s, e), sp in zip(offsets, special)]


def source_spans(text: str, tokens: Sequence[str]) -> list[Span]:
    """Spans of a translator's source tokens in the original text. Translators read NFKC,
    lowercased text with straight apostrophes (lmcore.translation.text): done here per character, keeping
    where each came from; tokens are found left to right. ▁ (Korean space), not found: None."""
    chars, origin = [], []
    for i, ch in enumerate(text):
        norm = unicodedata.normalize("NFKC", ch).replace("\u2019", "'").replace("\u2018", "'").lower()
        chars.extend(norm)
        origin.extend([i] * len(norm))
    flat, cursor, spans = "".join(chars), 0, []
    for tok in tokens:
        at = -1 if tok == SPACE or not tok else flat.find(tok, cursor)
        spans.append(None if at < 0 else (origin[at], origin[at + len(tok) - 1] + 1))
        cursor = cursor if at < 0 else at + len(tok)
    return spans


def assignment(spans: Sequence[Span], words: Sequence[Word]) -> np.ndarray:
    """M (tokens, words): share of each token's characters in each word; rows sum to 1, or 0."""
    tok = np.array([span or (0, 0) for span in spans], dtype=np.int64).reshape(-1, 2)
    wrd = np.array([(w.start, w.end) for w in words], dtype=np.int64).reshape(-1, 2)
    m = np.minimum(tok[:, 1:], wrd[:, 1]) - np.maximum(tok[:, :1], wrd[:, 0])  # overlap (tokens, W)
    m = np.clip(m, 0, None).astype(np.float64)
    total = m.sum(axis=1, keepdims=True)
    return np.divide(m, total, out=np.zeros_like(m), where=total > 0)


# ---------------------------------------------------------------- alignment
def _keys_to_words(weights: np.ndarray, m_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(L, H, q, k) -> rows over words (L, H, q, W), renormalised; and the dropped share (L, H, q)."""
    keys = weights.astype(np.float64) @ m_keys
    kept = keys.sum(axis=-1, keepdims=True)
    rows = np.divide(keys, kept, out=np.zeros_like(keys), where=kept > 0)
    return rows, 1.0 - kept[..., 0]


def _unknown_words(m: np.ndarray, unknown: Sequence[bool] | None) -> np.ndarray:
    """(W,) True where every piece of the word is unknown to the model."""
    has = m > 0
    flags = np.zeros(len(m), dtype=bool) if unknown is None else np.asarray(unknown, dtype=bool)
    return has.any(axis=0) & ~(has & ~flags[:, None]).any(axis=0)


def align(maps: AttentionMaps, spans: Sequence[Span], words: Sequence[Word],
          unknown: Sequence[bool] | None = None) -> Side:
    """A record on the words. self/causal (L, H, n, n) -> (L, H, W, W); cross (L, H, T, S) ->
    (L, H, T, W): the keys (source tokens) become words, the target rows stay."""
    m = assignment(spans, words)
    rows, dropped = _keys_to_words(maps.weights, m)
    labels = tuple(w.text for w in words)
    if maps.kind == "cross":
        return Side(AttentionMaps(rows.astype(np.float32), maps.query_tokens, labels, "cross"),
                    dropped.mean(axis=-1), m.sum(axis=0) > 0, _unknown_words(m, unknown))
    valid = (rows.sum(axis=-1) > 0).astype(np.float64)   # (L, H, n): rows with a weight left
    share = m[None, None] * valid[..., None]             # (L, H, n, W): query pieces of each word
    count = share.sum(axis=2)[..., None]                 # (L, H, W, 1)
    out = np.einsum("lhqv,lhqw->lhvw", share, rows)
    out = np.divide(out, count, out=np.full_like(out, np.nan), where=count > 0)
    in_words = m.sum(axis=1) > 0
    drop = dropped[..., in_words].mean(axis=-1) if in_words.any() else np.zeros(dropped.shape[:-1])
    return Side(AttentionMaps(out.astype(np.float32), labels, labels, maps.kind), drop,
                m.sum(axis=0) > 0, _unknown_words(m, unknown))


def common(a: Side, b: Side) -> tuple[Side, Side]:
    """Both sides restricted to the words both models saw (truncation cuts the rest)."""
    keep = a.seen & b.seen
    return _restrict(a, keep), _restrict(b, keep)


def _restrict(side: Side, keep: np.ndarray) -> Side:
    maps, w, queries = side.maps, side.maps.weights[..., keep], side.maps.query_tokens
    if maps.kind != "cross":
        w, queries = w[:, :, keep], tuple(q for q, k in zip(queries, keep) if k)
    keys = tuple(t for t, k in zip(maps.key_tokens, keep) if k)
    return Side(AttentionMaps(w, queries, keys, maps.kind), side.dropped, side.seen[keep],
                side.unknown[keep])


def head_map(maps: AttentionMaps, layer: int, head: int) -> np.ndarray:
    """One head's (q, W) map, or the mean of the layer's heads when head == MEAN."""
    w = maps.weights[layer].astype(np.float64)
    if head != MEAN:
        return w[head]
    with warnings.catch_warnings():  # a row no head could fill stays NaN, quietly
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(w, axis=0)


def head_dropped(side: Side, layer: int, head: int) -> float:
    return float(side.dropped[layer].mean() if head == MEAN else side.dropped[layer, head])


def lm_side(result, words: Sequence[Word], unk_token: str | None = "[UNK]") -> Side:
    """A pretrained.AttentionResult (one text) on the words; [UNK] pieces marked unknown."""
    enc = result.encoded
    unknown = [unk_token is not None and raw == unk_token for raw in enc.raw_tokens]
    return align(result.maps, offset_spans(enc.offsets, enc.special), words, unknown)


def translation_side(result, text: str, words: Sequence[Word]) -> Side | None:
    """A translators.TranslationResult's alignment on the words (None: a model without attention)."""
    if result.attention is None:
        return None
    unknown = set(result.unknown_words)
    return align(result.attention, source_spans(text, result.source_tokens), words,
                 [t in unknown for t in result.source_tokens])


# ---------------------------------------------------------------- agreement
def js_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen–Shannon distance (base 2) between rows of p and q (each renormalised)."""
    p, q = (np.asarray(x, dtype=np.float64) for x in (p, q))
    p, q = p / p.sum(axis=-1, keepdims=True), q / q.sum(axis=-1, keepdims=True)
    mid = (p + q) / 2

    def kl(x: np.ndarray) -> np.ndarray:
        ratio = np.divide(x, mid, out=np.ones_like(x), where=x > 0)
        return (x * np.log2(ratio)).sum(axis=-1)

    return np.sqrt(np.clip((kl(p) + kl(q)) / 2, 0.0, 1.0))


def _usable(rows: np.ndarray) -> np.ndarray:
    return np.isfinite(rows).all(axis=-1) & (np.nan_to_num(rows).sum(axis=-1) > 0)


def agreement(a: np.ndarray, b: np.ndarray) -> Agreement:
    """Row by row agreement of two (n, W) maps on the same words (rows either lacks are skipped)."""
    ok = _usable(a) & _usable(b)
    if not ok.any():
        return Agreement(float("nan"), float("nan"), 0)
    a, b = a[ok], b[ok]
    return Agreement(float(js_distance(a, b).mean()),
                     float((a.argmax(axis=-1) == b.argmax(axis=-1)).mean()), int(ok.sum()))


def translation_agreement(a: np.ndarray, tokens_a: Sequence[str], b: np.ndarray,
                          tokens_b: Sequence[str]) -> TranslationAgreement:
    """Agreement of two alignments (targets x the same source words) of two translations."""
    matcher = difflib.SequenceMatcher(None, list(tokens_a), list(tokens_b), autojunk=False)
    pairs = tuple((blk.a + k, blk.b + k) for blk in matcher.get_matching_blocks()
                  for k in range(blk.size))  # <unk> = <unk> says nothing: not a pair
    pairs = tuple((i, j) for i, j in pairs
                  if tokens_a[i] != UNK and _usable(a[i]) and _usable(b[j]))
    top = js = None
    if pairs:
        ia, ib = (np.array(x) for x in zip(*pairs))
        wa, wb = a[ia].argmax(axis=-1), b[ib].argmax(axis=-1)
        pairs = tuple((int(i), int(j), int(x), int(y)) for i, j, x, y in zip(ia, ib, wa, wb))
        top, js = float((wa == wb).mean()), float(js_distance(a[ia], b[ib]).mean())
    cov = [np.nanmean(x[_usable(x)], axis=0) if _usable(x).any() else None for x in (a, b)]
    coverage = float(js_distance(*cov)) if all(c is not None for c in cov) else float("nan")
    return TranslationAgreement(pairs, top, js, coverage)


# ---------------------------------------------------------------- notices
def notices(name: str, side: Side) -> list[Notice]:
    """The model read every word (punctuation aside) as unknown ([UNK]): its map shows positions."""
    wordy = np.array([bool(re.search(r"\w", w)) for w in side.maps.key_tokens], dtype=bool)
    blind = wordy.any() and side.unknown[wordy].all()
    return [Notice("cmp.notice.blind", {"name": name})] if blind else []


def cut_notices(kept: int, total: int) -> list[Notice]:
    """Truncation left words to one model only: both maps show the first `kept` words."""
    return [Notice("cmp.notice.cut", {"kept": kept, "total": total})] if kept < total else []
