"""Attention from scratch: score -> weight -> context vector (multi-head: lmcore.transformer).

The chapter's three steps, each one small function:

    score   e_ij  = score(q_i, k_j)                      (dot, scaled dot, general, additive)
    weight  a_ij  = softmax_j(e_ij)  over the keys q_i may see   (masked_softmax)
    context c_i   = sum_j a_ij v_j                       (context_vector)

`scaled_dot_product_attention` (Vaswani et al. 2017, eq. 1) is what
lmcore.transformer's `MultiHeadAttention` runs per head.

Masks are boolean everywhere: True = "may attend". Masked weights are exactly 0
and a query that may see no key at all gets a row of zeros (never NaN).
"""
from __future__ import annotations

import math
from typing import Callable, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lmcore.errors import UserFacingError

ScoreFn = Callable[[Tensor, Tensor], Tensor]


# ---------------------------------------------------------------- score functions

def dot_score(query: Tensor, keys: Tensor) -> Tensor:
    """Luong et al. 2015 "dot": score(q, k) = q . k.

    query (..., q, d), keys (..., k, d) -> scores (..., q, k)
    """
    return query @ keys.transpose(-2, -1)  # (..., q, k)


def scaled_dot_score(query: Tensor, keys: Tensor) -> Tensor:
    """Vaswani et al. 2017, eq. 1: score(q, k) = q . k / sqrt(d_k).

    The query is scaled before the product (fewer multiplications, as torch does).
    query (..., q, d), keys (..., k, d) -> scores (..., q, k)
    """
    return (query * (1.0 / math.sqrt(query.size(-1)))) @ keys.transpose(-2, -1)


class GeneralScore(nn.Module):
    """Luong et al. 2015 "general": score(q, k) = q^T W_a k.

    W_a (d_query, d_key) is a bias-free Linear applied to the query, (q W_a) k^T,
    which is cheaper than W_a k when there are fewer queries than keys.
    """

    def __init__(self, d_query: int, d_key: int) -> None:
        super().__init__()
        self.W_a = nn.Linear(d_query, d_key, bias=False)  # x -> x W_a, W_a (d_query, d_key)

    def forward(self, query: Tensor, keys: Tensor) -> Tensor:
        """query (..., q, d_query), keys (..., k, d_key) -> scores (..., q, k)"""
        return self.W_a(query) @ keys.transpose(-2, -1)  # (..., q, d_key) @ (..., d_key, k)


class AdditiveScore(nn.Module):
    """Bahdanau et al. 2015 (eq. 6 / appendix A.1.2): score(q, k) = v_a^T tanh(W_a q + U_a k).

    Also called "concat" by Luong et al. 2015. No biases, as in the paper.
    """

    def __init__(self, d_query: int, d_key: int, d_hidden: int) -> None:
        super().__init__()
        self.W_a = nn.Linear(d_query, d_hidden, bias=False)
        self.U_a = nn.Linear(d_key, d_hidden, bias=False)
        self.v_a = nn.Linear(d_hidden, 1, bias=False)

    def forward(self, query: Tensor, keys: Tensor) -> Tensor:
        """query (..., q, d_query), keys (..., k, d_key) -> scores (..., q, k)"""
        wq = self.W_a(query).unsqueeze(-2)  # (..., q, 1, h)
        uk = self.U_a(keys).unsqueeze(-3)   # (..., 1, k, h)
        return self.v_a(torch.tanh(wq + uk)).squeeze(-1)  # (..., q, k)


# Name -> score. "dot" and "scaled_dot" are plain functions; "general" and
# "additive" are classes with learned weights: build them with `make_score`.
SCORE_FUNCTIONS: dict[str, Union[ScoreFn, type[nn.Module]]] = {
    "dot": dot_score,
    "scaled_dot": scaled_dot_score,
    "general": GeneralScore,
    "additive": AdditiveScore,
}


def make_score(name: str, d_query: int, d_key: int, d_hidden: int | None = None) -> ScoreFn:
    """A ready-to-call score by name; learned scores are freshly initialised modules.

    Raises UserFacingError("attn_core.err.unknown_score") for a name not in SCORE_FUNCTIONS.
    """
    if name not in SCORE_FUNCTIONS:
        raise UserFacingError("attn_core.err.unknown_score", name=name,
                              choices=", ".join(SCORE_FUNCTIONS))
    if name in ("dot", "scaled_dot") and d_query != d_key:
        raise UserFacingError("attn_core.err.dim_mismatch", name=name, d_query=d_query, d_key=d_key)
    if name == "general":
        return GeneralScore(d_query, d_key)
    if name == "additive":
        return AdditiveScore(d_query, d_key, d_hidden or d_key)
    return SCORE_FUNCTIONS[name]  # type: ignore[return-value]


def _resolve_score(score: Union[str, ScoreFn]) -> ScoreFn:
    if callable(score):
        return score
    if score in ("dot", "scaled_dot"):
        return SCORE_FUNCTIONS[score]  # type: ignore[return-value]
    if score in SCORE_FUNCTIONS:
        raise ValueError(f"score {score!r} has learned weights: pass make_score({score!r}, ...) "
                         "or a GeneralScore/AdditiveScore module instead of its name")
    raise UserFacingError("attn_core.err.unknown_score", name=score,
                          choices=", ".join(SCORE_FUNCTIONS))


# ---------------------------------------------------------------- weights and context

def masked_softmax(scores: Tensor, mask: Tensor | None = None, inplace: bool = False) -> Tensor:
    """a_ij = exp(e_ij) / sum_{j' allowed} exp(e_ij'), and a_ij = 0 where not allowed.

    scores (..., q, k); mask bool broadcastable to scores, True = may attend.
    Masked positions are exactly 0; a row with every key masked is all zeros.
    Stable for any finite scores (softmax subtracts the row maximum).
    inplace=True overwrites `scores` (no autograd): for callers that own a fresh tensor.
    """
    if mask is not None and mask.dtype != torch.bool:
        raise TypeError(f"mask must be bool (True = may attend), got {mask.dtype}")
    if mask is not None and mask.dim() > scores.dim():  # e.g. (B, 1, 1, k) over (q, k)
        scores, inplace = scores.expand(torch.broadcast_shapes(scores.shape, mask.shape)), False
    if mask is None:
        return torch.softmax(scores, -1, out=scores) if inplace else torch.softmax(scores, -1)
    # The most negative finite value (not -inf): an all-masked row stays finite
    # (uniform) in softmax, and its gradient too; the final fill zeroes it.
    blocked, lowest = ~mask, torch.finfo(scores.dtype).min
    if inplace:
        return torch.softmax(scores.masked_fill_(blocked, lowest), -1, out=scores).masked_fill_(
            blocked, 0.0)
    weights = torch.softmax(scores.masked_fill(blocked, lowest), dim=-1)  # (..., q, k)
    if weights.requires_grad:  # softmax's backward needs its output unchanged
        return weights.masked_fill(blocked, 0.0)
    return weights.masked_fill_(blocked, 0.0)


def context_vector(weights: Tensor, values: Tensor) -> Tensor:
    """c_i = sum_j a_ij v_j (Bahdanau et al. 2015, eq. 5).

    weights (..., q, k), values (..., k, d_v) -> context (..., q, d_v)
    """
    return weights @ values


def attend(query: Tensor, keys: Tensor, values: Tensor,
           score: Union[str, ScoreFn] = "scaled_dot",
           mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Score -> weight -> context vector, in one call.

    query (..., q, d_q), keys (..., k, d_k), values (..., k, d_v);
    score: "dot", "scaled_dot", or any callable/module (query, keys) -> (..., q, k).
    Returns (context (..., q, d_v), weights (..., q, k)).
    """
    weights = masked_softmax(_resolve_score(score)(query, keys), mask)  # (..., q, k)
    return context_vector(weights, values), weights


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None,
                                 need_weights: bool = True,
                                 dropout_p: float = 0.0) -> tuple[Tensor, Tensor | None]:
    """Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V (Vaswani et al. 2017, eq. 1).

    q (..., q, d), k (..., k, d), v (..., k, d_v); mask bool broadcastable to (..., q, k).
    need_weights=True: the explicit path, returns (out, weights (..., q, k)).
    need_weights=False: torch's fused kernel, returns (out, None); same numbers.
    dropout_p drops weights (on both paths) and should be 0 outside training.
    Weights returned are before dropout (each row sums to 1 over allowed keys).
    """
    if not need_weights:
        if mask is not None and mask.dtype != torch.bool:
            raise TypeError(f"mask must be bool (True = may attend), got {mask.dtype}")
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p), None
    if torch.is_grad_enabled() and (q.requires_grad or k.requires_grad):
        weights = masked_softmax(scaled_dot_score(q, k), mask)  # (..., q, k)
    else:  # no autograd: scale and normalise the fresh scores in place (no extra copies)
        scores = dot_score(q, k).mul_(1.0 / math.sqrt(q.size(-1)))  # (..., q, k)
        weights = masked_softmax(scores, mask, inplace=True)
    dropped = F.dropout(weights, dropout_p) if dropout_p > 0.0 else weights
    return context_vector(dropped, v), weights


# ---------------------------------------------------------------- masks

def causal_mask(n_queries: int, n_keys: int | None = None,
                device: torch.device | str | None = None) -> Tensor:
    """bool (q, k), True on and below the diagonal: query i may see keys j <= i.

    With more keys than queries (queries are the last positions of the keys,
    as when decoding with a cache) the diagonal is shifted to the right.
    """
    n_keys = n_queries if n_keys is None else n_keys
    ones = torch.ones(n_queries, n_keys, dtype=torch.bool, device=device)
    return torch.tril(ones, diagonal=n_keys - n_queries)  # (q, k)


def padding_mask(lengths: Tensor, max_len: int) -> Tensor:
    """(B, 1, 1, max_len) bool, True for the first lengths[b] (real) tokens of each row.

    Broadcasts over heads and queries of (B, H, q, k) scores.
    """
    positions = torch.arange(max_len, device=lengths.device)  # (T,)
    return (positions[None, :] < lengths[:, None])[:, None, None, :]  # (B, 1, 1, T)
