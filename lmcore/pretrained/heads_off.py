"""Switching heads off in a pretrained masked LM or GPT model, and ranking heads by their effect.

A head is switched off by zeroing its output before the output projection W^O (what
transformers' old `head_mask` argument did; transformers 5 dropped it):

    MultiHead(x) = Concat(m_1 head_1, ..., m_h head_h) W^O,  m_i in {0, 1}

transformers 5 picks each attention's function by name (AttentionInterface). We register
"lab_head_mask": the model family's own eager attention, then the mask, read from the forward
call's `lab_head_mask` keyword ((layers, H), or (B, layers, H): one mask per batch row). The
shared loaded model is never changed: a twin (`_twin`) shares its parameters and differs only in
the attention name, so each call carries its own mask and sessions do not see each other's.
No heads switched off -> the loaded model's own forward pass, bit for bit.

API (model: a LoadedModel or a name):
    predictions(model, text, heads=(), top_k=5) -> HeadsOffPrediction   ([MASK] -> fill-mask,
        else the next token; what `fill-mask` / `next-token` print, with those heads off)
    head_ranking(model, text, word=None) -> HeadRanking   (each head off alone, batched)
"""
from __future__ import annotations

import copy
import sys
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from lmcore.errors import UserFacingError
from lmcore.heads_off import Head, check_heads, keep_mask, one_off_masks, rank_correlation
from lmcore.notices import Notice
from lmcore.pretrained.encoding import Encoded, check_text, encode, model_inputs, stack_attentions
from lmcore.pretrained.loading import LoadedModel, as_loaded
from lmcore.pretrained.predict import Prediction, _not_a_word, _prediction, _top, encode_masked

ATTENTION_NAME = "lab_head_mask"
RANKING_BATCH = 48  # one-off masks per batched forward pass


@dataclass(frozen=True)
class HeadsOffPrediction:
    predictions: tuple[Prediction, ...]  # fill-mask: the first [MASK]'s top-k; GPT: next token's
    encoded: Encoded
    position: int                        # the token position being predicted (the [MASK], the last)
    heads: tuple[Head, ...]              # switched off
    notices: tuple[Notice, ...]


@dataclass(frozen=True)
class HeadRanking:
    """For the current prediction: what each head, switched off alone, changes."""
    token: Prediction          # the prediction with every head on (top-1)
    probability: float         # its full-softmax probability with every head on
    effect: np.ndarray         # (layers, heads): probability drop of `token` with that head off
    attention: np.ndarray      # (layers, heads): attention from `position` to `word`
    word: int                  # the key position the attention is measured on
    rows: np.ndarray           # (layers, heads, n): attention from `position` to every token
    position: int              # the query position (the prediction's)
    tokens: tuple[str, ...]
    forward_passes: int        # model passes the ranking took (one per head + the plain one)
    batches: int               # batched forward calls they were grouped in

    def order(self) -> list[Head]:
        """Heads by effect, largest first."""
        flat = np.argsort(-self.effect.ravel(), kind="stable")
        return [divmod(int(i), self.effect.shape[1]) for i in flat]

    def correlation(self) -> float:
        """Spearman's rho between effect and attention on the word (near 0: they disagree)."""
        return rank_correlation(self.effect, self.attention)


# ---------------------------------------------------------------- the masked attention
def _masked_attention(module, query, key, value, attention_mask, lab_head_mask=None, **kwargs):
    """The module family's eager attention, then each head's output (B, T, H, d_head) times its
    mask entry (read at module.layer_idx)."""
    eager = sys.modules[type(module).__module__].eager_attention_forward
    out, weights = eager(module, query, key, value, attention_mask, **kwargs)
    if lab_head_mask is not None:
        mask = lab_head_mask[..., module.layer_idx, :]             # (H,) or (B, H)
        out = out * mask.to(out.dtype).reshape(-1, 1, mask.shape[-1], 1)
    return out, weights


@lru_cache(maxsize=1)
def _register() -> None:
    # Heavy and rarely needed: transformers' attention registry loads modeling_utils (~1.5 s
    # of the CLI's and a page's start-up), so it is imported when heads are first switched off.
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, eager_mask

    AttentionInterface.register(ATTENTION_NAME, _masked_attention)
    AttentionMaskInterface.register(ATTENTION_NAME, eager_mask)  # the masks eager attention takes


@lru_cache(maxsize=16)
def _twin(lm: LoadedModel) -> torch.nn.Module:
    """The loaded model's twin: the same parameter and buffer tensors (no copy of the weights),
    its own config naming the masked attention."""
    _register()
    shared = {id(t): t for t in (*lm.model.parameters(), *lm.model.buffers())}
    twin = copy.deepcopy(lm.model, shared)
    twin.config._attn_implementation = ATTENTION_NAME
    return twin.eval()


def _logits(out, lm: LoadedModel) -> torch.Tensor:
    return out.prediction_logits if lm.has_nsp else out.logits


def run(lm: LoadedModel, inputs: dict, mask: torch.Tensor | None, attentions: bool = False):
    """One forward pass; mask (layers, H) or (B, layers, H), None = the loaded model itself."""
    with torch.inference_mode():
        if mask is None:
            return lm.model(**inputs, output_attentions=attentions)
        return _twin(lm)(**inputs, output_attentions=attentions, lab_head_mask=mask)


# ---------------------------------------------------------------- predictions
def _encode(lm: LoadedModel, text: str) -> tuple[Encoded, int]:
    """The encoding and the predicted position: the first [MASK] (masked LM) or the last token."""
    text = check_text(text)
    if lm.kind == "masked-lm":
        enc, positions = encode_masked(lm, text)
        return enc, positions[0]
    if lm.kind != "causal-lm":
        raise UserFacingError("abl.err.kind", name=lm.name, kind=lm.kind)
    enc = encode(lm, text)
    return enc, len(enc.input_ids) - 1


def _top_k(lm: LoadedModel, enc: Encoded, row: torch.Tensor, top_k: int) -> tuple[Prediction, ...]:
    """The usual command's list from one position's logits (vocab,): fill-mask's top-k of the
    full softmax over whole words, or next-token's top-k of the full softmax (temperature 1)."""
    if lm.kind == "masked-lm":
        probs = torch.softmax(row.float(), dim=-1)
        probs[_not_a_word(lm)] = 0.0
        p, ids = torch.topk(probs, max(1, min(top_k, probs.numel())))
        return tuple(_prediction(lm, int(i), float(q)) for i, q in zip(ids, p))
    previous = enc.raw_tokens[-1] if enc.raw_tokens else None
    return _top(lm, row, top_k, 1.0, previous=previous)


def predictions(model: LoadedModel | str, text: str, heads=(), top_k: int = 5) -> HeadsOffPrediction:
    """The prediction for `text` with `heads` ((layer, head) pairs) switched off.
    A masked LM fills the first [MASK]; a GPT model gives the next token."""
    lm = as_loaded(model)
    heads = check_heads(heads, lm.n_layers, lm.n_heads)
    enc, position = _encode(lm, text)
    mask = keep_mask(heads, lm.n_layers, lm.n_heads) if heads else None
    logits = _logits(run(lm, model_inputs(enc), mask), lm)[0, position]  # (vocab,)
    return HeadsOffPrediction(_top_k(lm, enc, logits, top_k), enc, position, heads, enc.notices)


def _probability(lm: LoadedModel, logits: torch.Tensor, token: int) -> torch.Tensor:
    """p(token) per row of logits (B, vocab): the full softmax (the whole-word one for a masked LM)."""
    probs = torch.softmax(logits.float(), dim=-1)
    if lm.kind == "masked-lm":
        probs[:, _not_a_word(lm)] = 0.0
    return probs[:, token]


def default_word(attention: np.ndarray, special: tuple[bool, ...], position: int) -> int:
    """The key most attended from `position`, mean over layers and heads, leaving out special
    tokens and the position itself (falls back to them if nothing else is there).
    attention: (layers, heads, n) rows of the query position."""
    mean = attention.mean(axis=(0, 1))  # (n,)
    keep = [j for j in range(len(mean)) if not special[j] and j != position]
    candidates = keep or list(range(len(mean)))
    return max(candidates, key=lambda j: float(mean[j]))


def head_ranking(model: LoadedModel | str, text: str, word: int | None = None) -> HeadRanking:
    """Switch each head off alone and measure the drop in the current prediction's probability,
    beside the attention that head puts from the predicted position on `word` (a token index;
    None: the most attended, see default_word). layers * heads passes, batched."""
    lm = as_loaded(model)
    enc, position = _encode(lm, text)
    inputs = model_inputs(enc)
    out = run(lm, inputs, None, attentions=True)
    rows = stack_attentions(out.attentions, lm.n_layers, lm.name)[:, :, position]  # (L, H, n)
    if word is None or not 0 <= int(word) < len(enc.input_ids):
        word = default_word(rows, enc.special, position)
    top = _top_k(lm, enc, _logits(out, lm)[0, position], 1)[0]
    base = float(_probability(lm, _logits(out, lm)[:, position], top.token_id)[0])
    masks, drops = one_off_masks(lm.n_layers, lm.n_heads), []
    for start in range(0, len(masks), RANKING_BATCH):
        chunk = masks[start:start + RANKING_BATCH]                    # (b, L, H)
        batch = {k: v.expand(len(chunk), -1) for k, v in inputs.items()}
        logits = _logits(run(lm, batch, chunk), lm)[:, position]    # (b, vocab)
        drops.append(base - _probability(lm, logits, top.token_id))
    effect = torch.cat(drops).reshape(lm.n_layers, lm.n_heads).numpy()
    return HeadRanking(top, base, effect, rows[:, :, int(word)].copy(), int(word), rows, position,
                       enc.tokens, len(masks) + 1, -(-len(masks) // RANKING_BATCH) + 1)

