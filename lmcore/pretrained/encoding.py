"""Pretrained BERT-family encoders and GPT-2: encoding and the attention record.

Everything returns plain data: `AttentionMaps` (weights (layers, heads, n, n)
float32) and `lmcore.notices.Notice`s (translation key + params; `.message(lang)`). Models come
from `lmcore.pretrained.loading` (load_model, available, LoadedModel, catalog_entries,
as_loaded: import them from there); predictions are in `lmcore.pretrained.predict`.

    lm = loading.load_model("tiny-gpt2")    # catalog name, hub id or local folder
    res = attention(lm, "The cat sat")      # AttentionResult; res.maps.kind == "causal"

API (every function also accepts a model name instead of a LoadedModel):
    check_text(text) -> str                                        (or UserFacingError)
    encode(lm, text, text_b=None, max_tokens=None) -> Encoded
    attention(lm, text, text_b=None, max_tokens=None) -> AttentionResult
    display_maps(result, words=False, hide_special=False) -> (AttentionMaps, B's start)
                                                   (word level and/or no [CLS]/[SEP], renormalised)
    report(lm, result, threshold=0.5) -> list[HeadStats]           (Clark et al. 2019)
Rollout: lmcore.pretrained.analysis.rollout_maps(result.maps).
Bad input and unavailable models raise lmcore.errors.UserFacingError.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lmcore.errors import UserFacingError
from lmcore.notices import Notice
from lmcore.pretrained.analysis import (HeadStats, aggregate_words, display_tokens, hangul_is_lost, has_hangul,
                                head_report, hide_tokens, word_ids_from_offsets, word_labels)
from lmcore.pretrained.loading import MULTILINGUAL, LoadedModel, as_loaded, available
from lmcore.record import AttentionMaps, AttentionTrace

MAX_CHARS = 20_000  # longer input is refused before tokenising


@dataclass(frozen=True)
class Encoded:
    """A tokenised text (or pair) with what display needs."""
    input_ids: list[int]
    token_type_ids: list[int] | None
    raw_tokens: tuple[str, ...]          # vocabulary pieces ('##ing', 'Ġthe')
    tokens: tuple[str, ...]              # display labels from the user's text
    offsets: tuple[tuple[int, int], ...]  # character span in its segment's text
    segments: tuple[int, ...]            # 0: text A, 1: text B
    special: tuple[bool, ...]
    word_ids: tuple[int, ...]            # word index per token (see lm_analysis)
    notices: tuple[Notice, ...]
    texts: tuple[str, ...] = ()          # the text (and text B) the offsets point into


@dataclass(frozen=True)
class AttentionResult:
    maps: AttentionMaps       # (layers, heads, n, n); kind "self" (BERT) or "causal" (GPT-2)
    trace: AttentionTrace     # {"encoder": maps} or {"decoder": maps}
    encoded: Encoded
    notices: tuple[Notice, ...]


# ---------------------------------------------------------------- encoding
def check_text(text: object) -> str:
    """The user's text, or a translated error for empty / binary / huge input."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise UserFacingError("lm.err.encoding") from None
    if not isinstance(text, str) or not text.strip():
        raise UserFacingError("errors.empty_text")
    if "\x00" in text:
        raise UserFacingError("lm.err.binary")
    if len(text) > MAX_CHARS:
        raise UserFacingError("lm.err.too_long", chars=len(text), limit=MAX_CHARS)
    return text


def encode(model: LoadedModel | str, text: str, text_b: str | None = None,
           max_tokens: int | None = None) -> Encoded:
    """Tokenise one text or a pair, truncating (with a notice) beyond the model's maximum."""
    lm = as_loaded(model)
    parts = [check_text(text)] + ([check_text(text_b)] if text_b is not None else [])
    limit = min(lm.max_length, max_tokens or lm.max_length)
    opts = dict(return_offsets_mapping=True, return_special_tokens_mask=True)
    with lm.lock:  # a shared fast tokenizer is not re-entrant ("Already borrowed")
        enc = lm.tokenizer(*parts, **opts)
        total = len(enc["input_ids"])
        if total > limit:
            enc = lm.tokenizer(*parts, truncation=True, max_length=limit, **opts)
        seq_ids = enc.sequence_ids()
        raw = tuple(lm.tokenizer.convert_ids_to_tokens(list(enc["input_ids"])))
    notices = [Notice("errors.text_truncated", {"kept": len(enc["input_ids"]), "total": total})] if total > limit else []
    ids = list(enc["input_ids"])
    # A WordPiece causal LM reads [CLS] + tokens: its [SEP] is "end of sentence", not input.
    n = len(ids) - 1 if wordpiece_causal(lm) and ids and ids[-1] == lm.tokenizer.sep_token_id else len(ids)
    ids, seq_ids, raw = ids[:n], seq_ids[:n], raw[:n]
    special = tuple(bool(s) for s in enc["special_tokens_mask"][:n])
    segments, prev = [], 0
    for s in seq_ids:
        prev = prev if s is None else s
        segments.append(prev)
    offsets = tuple((int(a), int(b)) for a, b in enc["offset_mapping"][:n])
    unk = lm.tokenizer.unk_token if not lm.byte_level else None
    labels = display_tokens(parts, raw, offsets, segments, special, unk)
    words = word_ids_from_offsets(offsets, segments, special, parts)
    notices += _hangul_notices(lm, "".join(parts), raw)
    return Encoded(ids, list(enc["token_type_ids"][:n]) if "token_type_ids" in enc else None, raw,
                   tuple(labels), offsets, tuple(segments), special, tuple(words), tuple(notices),
                   tuple(parts))


def wordpiece_causal(lm: LoadedModel) -> bool:
    """True for a causal LM with a WordPiece tokenizer (minilm-gpt): its input is [CLS] + tokens,
    [SEP] ends the sentence, and generated pieces are joined as words ("go" -> " go", "##ing" -> "ing")."""
    return lm.kind == "causal-lm" and not lm.byte_level and lm.tokenizer.sep_token_id is not None


def _hangul_notices(lm: LoadedModel, text: str, raw: tuple[str, ...]) -> list[Notice]:
    if not has_hangul(text):
        return []
    if lm.byte_level:
        return [Notice("lm.notice.hangul_bytes", {"name": lm.name})]
    if hangul_is_lost(raw, lm.tokenizer.unk_token):
        better = MULTILINGUAL if available(MULTILINGUAL) else "tiny-gpt2"
        return [Notice("lm.notice.hangul_lost", {"name": lm.name, "suggestion": better})]
    return []


def model_inputs(enc: Encoded) -> dict[str, torch.Tensor]:
    """The model's keyword inputs for one encoded text: input_ids (1, n) and token_type_ids (1, n)."""
    inputs = {"input_ids": torch.tensor([enc.input_ids])}  # (1, n)
    if enc.token_type_ids is not None:
        inputs["token_type_ids"] = torch.tensor([enc.token_type_ids])
    return inputs


# ---------------------------------------------------------------- attention
def stack_attentions(attentions, n_layers: int, name: str) -> np.ndarray:
    """transformers' per-layer tuple of (1, H, n, n) -> float32 (L, H, n, n)."""
    if not attentions or len(attentions) != n_layers:
        raise UserFacingError("lm.err.no_attention", name=name)
    return torch.stack(attentions)[:, 0].float().numpy()


def forward_attention(lm: LoadedModel, enc: Encoded) -> np.ndarray:
    """One forward pass of the model body (no LM head), weights (L, H, n, n)."""
    with torch.inference_mode():
        out = lm.model.base_model(**model_inputs(enc), output_attentions=True)
    return stack_attentions(out.attentions, lm.n_layers, lm.name)


def attention(model: LoadedModel | str, text: str, text_b: str | None = None,
              max_tokens: int | None = None) -> AttentionResult:
    """Attention of every layer and head for a text (or a pair A, B).

    maps.weights: (layers, heads, n, n), special tokens included; kind "causal"
    for GPT-style models (zero above the diagonal), "self" otherwise.
    """
    lm = as_loaded(model)
    enc = encode(lm, text, text_b, max_tokens)
    kind = "causal" if lm.kind == "causal-lm" else "self"
    maps = AttentionMaps(forward_attention(lm, enc), enc.tokens, enc.tokens, kind)
    trace = AttentionTrace({"decoder" if kind == "causal" else "encoder": maps})
    return AttentionResult(maps, trace, enc, enc.notices)


def display_maps(result: AttentionResult, words: bool = False,
                 hide_special: bool = False) -> tuple[AttentionMaps, int | None]:
    """The maps as the BERT page shows them, and where sentence B starts.

    words: word-level maps (keys summed over a word's pieces, queries averaged), each word
    labelled with the user's text from its first to its last piece (character offsets, so
    'un' '##believ' '##able' -> 'unbelievable' and a byte-split syllable is one word).
    hide_special: without the special tokens (words), each row renormalised over the rest.
    Returns (maps (layers, heads, n', n'), index of sentence B's first position or None).
    """
    enc, maps = result.encoded, result.maps
    special = np.asarray(enc.special, dtype=bool)
    segments = np.asarray(enc.segments)
    if words:
        ids = np.asarray(enc.word_ids)
        labels = word_labels(enc.word_ids, enc.tokens, enc.offsets, enc.segments, enc.special, enc.texts)
        maps = aggregate_words(maps, ids, labels)
        special = np.array([special[ids == w].all() for w in range(len(labels))])
        segments = np.array([segments[ids == w].max() for w in range(len(labels))])
    if hide_special and not special.all():
        maps = hide_tokens(maps, special)
        segments = segments[~special]
    b_start = int(np.argmax(segments > 0)) if (segments > 0).any() else None
    return maps, b_start


def report(model: LoadedModel | str, result: AttentionResult, threshold: float = 0.5) -> list[HeadStats]:
    """Clark et al. (2019) head report for a result; for GPT-style models the first
    token plays the role of [CLS] (it is where idle heads park their weight)."""
    lm = as_loaded(model)
    ids = result.encoded.input_ids
    tok = lm.tokenizer
    if lm.kind == "causal-lm":
        is_cls = [i == 0 for i in range(len(ids))]
    else:
        is_cls = [t == tok.cls_token_id for t in ids]
    is_sep = [t == tok.sep_token_id for t in ids] if tok.sep_token_id is not None else [False] * len(ids)
    return head_report(result.maps, threshold=threshold, is_cls=is_cls, is_sep=is_sep)
