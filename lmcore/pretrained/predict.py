"""Predictions of pretrained models: fill-mask, next sentence, next token.

Built on `lmcore.pretrained.encoding` (encoding, attention record) and `lmcore.pretrained.loading`
(models). Everything returns plain data: `Prediction`s and `Notice`s.

    next_token("tiny-gpt2", "To be or", top_k=5, temperature=0.8).predictions

API (every function also accepts a model name instead of a LoadedModel):
    fill_mask(lm, text_with_[MASK], top_k=5) -> FillMaskResult
    next_sentence(lm, text_a, text_b) -> NextSentenceResult
    next_token(lm, text, top_k=10, temperature=1.0, top_p=1.0) -> NextTokenResult
Generation, token by token, is lmcore.pretrained.generation.
Bad input and models of the wrong kind raise lmcore.errors.UserFacingError.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import torch

from lmcore.errors import UserFacingError
from lmcore.notices import Notice
from lmcore.pretrained import sampling
from lmcore.pretrained.analysis import clean_token
from lmcore.pretrained.encoding import (
    Encoded,
    check_text,
    encode,
    model_inputs,
    wordpiece_causal,
)
from lmcore.pretrained.loading import LoadedModel, as_loaded, require_kind


@dataclass(frozen=True)
class Prediction:
    token: str          # decoded text of the token (GPT-2: may start with a space)
    display: str        # readable label ('##ing' -> 'ing', ' the' -> 'the')
    token_id: int
    probability: float

    def to_dict(self) -> dict:
        return {"token": self.token, "display": self.display, "token_id": self.token_id,
                "probability": round(self.probability, 6)}


@dataclass(frozen=True)
class FillMaskResult:
    masks: tuple[tuple[Prediction, ...], ...]  # top-k for each [MASK], left to right
    encoded: Encoded
    notices: tuple[Notice, ...]


@dataclass(frozen=True)
class NextTokenResult:
    predictions: tuple[Prediction, ...]  # top-k, probabilities after temperature and top-k
    encoded: Encoded
    notices: tuple[Notice, ...]


USER_MASK = "[MASK]"
_USER_MASK_RE = re.compile(r"\[mask\]", re.IGNORECASE)  # "[MASK]", "[mask]": the model's own token


def _prediction(lm: LoadedModel, token_id: int, probability: float, previous: str | None = None) -> Prediction:
    with lm.lock:
        piece = lm.tokenizer.convert_ids_to_tokens(token_id)
        text = lm.tokenizer.decode([token_id]) if lm.byte_level else piece
    if wordpiece_causal(lm):  # the text this piece adds after `previous` (the piece before it)
        text = "" if token_id == lm.tokenizer.sep_token_id else wordpiece_surface(piece, previous)
    if lm.byte_level:
        shown = text.strip() or ("↵" if "\n" in text else "␣")
        if "\ufffd" in text:  # a byte fragment of a multi-byte character (Korean...)
            shown = f"⟨{piece}⟩"
    else:
        shown = clean_token(piece)
    return Prediction(text, shown, int(token_id), float(probability))


_NO_SPACE_BEFORE = set(".,!?;:%)]}'\"")
_CONTRACTIONS = {"t", "s", "re", "ll", "ve", "m", "d"}


def wordpiece_surface(piece: str, previous: str | None) -> str:
    """The text a WordPiece adds to a generated sentence: "##ing" -> "ing", "go" -> " go",
    "." -> ".", and "t" after "'" -> "t" (don't)."""
    if piece.startswith("##") and len(piece) > 2:
        return piece[2:]
    if piece in _NO_SPACE_BEFORE or (previous == "'" and piece in _CONTRACTIONS):
        return piece
    return " " + piece


def _not_offered(lm: LoadedModel) -> list[int]:
    """Tokens a WordPiece causal LM never offers as the next token ([PAD], [UNK], [CLS], [MASK],
    and BERT's ~1,000 reserved [unusedN] slots, which no text contains: in a peaked
    distribution they would tie at ~0 with real words among the top-k)."""
    if not wordpiece_causal(lm):
        return []
    tok = lm.tokenizer
    special = [i for i in (tok.pad_token_id, tok.unk_token_id, tok.cls_token_id, tok.mask_token_id) if i is not None]
    return special + list(_reserved_ids(tok))


@lru_cache(maxsize=8)
def _reserved_ids(tokenizer) -> tuple[int, ...]:
    """Ids of a WordPiece vocabulary's [unusedN] placeholders (scanned once per tokenizer)."""
    return tuple(i for token, i in tokenizer.get_vocab().items() if token.startswith("[unused"))


def _top(lm: LoadedModel, logits: torch.Tensor, top_k: int, temperature: float = 1.0,
         banned: list[int] | None = None, previous: str | None = None,
         top_p: float = 1.0) -> tuple[Prediction, ...]:
    """Top-k (∩ the top-p nucleus) of softmax(logits / T) over every token the model offers:
    each probability is the model's own (the GPT page's bars), not renormalised over those
    kept; a sample drawn from them (torch.multinomial takes weights) is top-k sampling."""
    banned = list(banned or []) + _not_offered(lm)
    logits = logits.float().clone()
    if banned:
        logits[banned] = -float("inf")
    k = max(1, min(int(top_k), logits.numel() - len(set(banned))))  # never a banned token
    if top_p < 1:  # lmcore.pretrained.sampling: the nucleus is a prefix, like top-k
        k = sampling.distribution(logits, temperature, k, top_p).kept
    probs, ids = torch.topk(torch.softmax(logits / max(float(temperature), 1e-4), dim=-1), k)
    return tuple(_prediction(lm, int(i), float(p), previous) for i, p in zip(ids, probs))


@lru_cache(maxsize=16)
def _not_a_word(lm: LoadedModel) -> list[int]:
    """Ids that cannot fill a one-word blank: special tokens and, for WordPiece, '##' pieces."""
    banned = set(lm.tokenizer.all_special_ids)
    if not lm.byte_level:
        with lm.lock:
            banned |= {i for piece, i in lm.tokenizer.get_vocab().items() if piece.startswith("##")}
    return sorted(banned)


def encode_masked(lm: LoadedModel, text: str) -> tuple[Encoded, list[int]]:
    """The text with every user blank ("[MASK]", "[mask]") as the model's own mask token, encoded,
    and the blanks' token positions (at least one: else a UserFacingError)."""
    text = check_text(text)
    if not _USER_MASK_RE.search(text):
        raise UserFacingError("lm.err.no_mask")
    enc = encode(lm, _USER_MASK_RE.sub(lambda _: lm.tokenizer.mask_token, text))
    positions = [i for i, t in enumerate(enc.input_ids) if t == lm.tokenizer.mask_token_id]
    if not positions:
        raise UserFacingError("lm.err.mask_truncated")
    return enc, positions


def fill_mask(model: LoadedModel | str, text: str, top_k: int = 5) -> FillMaskResult:
    """Top-k words for each blank the user marked as [MASK] (whatever the model's mask token).

    p(w | context) = softmax(MLM logits at the mask position), over the real vocabulary
    (special tokens and WordPiece '##' continuation pieces excluded: a blank holds a whole word);
    several masks are predicted independently.
    """
    lm = as_loaded(model)
    require_kind(lm, "masked-lm")
    enc, positions = encode_masked(lm, text)
    with torch.inference_mode():
        out = lm.model(**model_inputs(enc))
    logits = out.prediction_logits if lm.has_nsp else out.logits  # (1, n, vocab)
    probs_all = torch.softmax(logits[0, positions].float(), dim=-1)  # (masks, vocab)
    banned = _not_a_word(lm)
    masks = []
    for row in probs_all:
        row = row.clone()
        row[banned] = 0.0
        p, ids = torch.topk(row, max(1, min(top_k, row.numel())))
        masks.append(tuple(_prediction(lm, int(i), float(q)) for i, q in zip(ids, p)))
    return FillMaskResult(tuple(masks), enc, enc.notices)


@dataclass(frozen=True)
class NextSentenceResult:
    probability: float       # P(B follows A) from the NSP head
    encoded: Encoded
    notices: tuple[Notice, ...]


def next_sentence(model: LoadedModel | str, text_a: str, text_b: str) -> NextSentenceResult:
    """P(IsNext | [CLS] A [SEP] B [SEP]) = softmax(NSP logits)[0]."""
    lm = as_loaded(model)
    if not lm.has_nsp:
        raise UserFacingError("lm.err.no_nsp", name=lm.name)
    enc = encode(lm, text_a, text_b)
    with torch.inference_mode():
        out = lm.model(**model_inputs(enc))
    p = torch.softmax(out.seq_relationship_logits[0].float(), dim=-1)[0]
    return NextSentenceResult(float(p), enc, enc.notices)


def next_token(model: LoadedModel | str, text: str, top_k: int = 10,
               temperature: float = 1.0, top_p: float = 1.0) -> NextTokenResult:
    """The top k (∩ nucleus) of p(x_{t+1} | x_<=t) = softmax(logits / T), the model's own numbers."""
    lm = as_loaded(model)
    require_kind(lm, "causal-lm")
    enc = encode(lm, text)
    with torch.inference_mode():
        logits = lm.model(**model_inputs(enc)).logits[0, -1]  # (vocab,)
    previous = enc.raw_tokens[-1] if enc.raw_tokens else None
    return NextTokenResult(_top(lm, logits, top_k, temperature, previous=previous, top_p=top_p),
                           enc, enc.notices)
