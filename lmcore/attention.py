"""Attention from scratch: score -> weight -> context vector, then multi-head.

The chapter's three steps, each one small function:

    score   e_ij  = score(q_i, k_j)                      (dot, scaled dot, general, additive)
    weight  a_ij  = softmax_j(e_ij)  over the keys q_i may see   (masked_softmax)
    context c_i   = sum_j a_ij v_j                       (context_vector)

`MultiHeadAttention` (Vaswani et al. 2017, eq. 1 and section 3.2.2) runs scaled
dot-product attention per head on a separate head axis (B, H, T, d_head) and
returns `(output, weights)`; nothing is stored on the module. Its parameters
are laid out like `torch.nn.MultiheadAttention`, so weights copy both ways.

Masks are boolean everywhere: True = "may attend". Masked weights are exactly 0
and a query that may see no key at all gets a row of zeros (never NaN).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lmcore.errors import UserFacingError

ScoreFn = Callable[[Tensor, Tensor], Tensor]
KeyValues = tuple[Tensor, Tensor]  # keys, values as heads (B, H, T, d_head)


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


# ---------------------------------------------------------------- multi-head attention

@dataclass(frozen=True)
class AttentionWeights:
    """One layer's W^Q, W^K, W^V (d_model, d_model), W^O and their biases (d_model,) unpacked,
    in torch layout (y = x W^T + b), plus the head count: what the self-attention steps show."""

    wq: Tensor
    bq: Tensor
    wk: Tensor
    bk: Tensor
    wv: Tensor
    bv: Tensor
    wo: Tensor
    bo: Tensor
    n_heads: int


class MultiHeadAttention(nn.Module):
    """MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,
    head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V).

    Vaswani et al. 2017, section 3.2.2. Parameters mirror torch.nn.MultiheadAttention
    (in_proj_weight (3 d_model, d_model) = [W^Q; W^K; W^V], in_proj_bias, out_proj),
    so `load_from_torch` / `to_torch` copy weights exactly. Inputs are batch-first.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, bias: bool = True) -> None:
        super().__init__()
        if d_model % n_heads != 0:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.d_model = d_model
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.dropout = dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))  # [W^Q; W^K; W^V]
        # [b^Q; b^K; b^V]
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model)) if bias else None
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)  # W^O
        nn.init.xavier_uniform_(self.in_proj_weight)
        if bias:
            nn.init.zeros_(self.out_proj.bias)

    def _heads(self, x: Tensor, n: int, contiguous: bool) -> tuple[Tensor, ...]:
        """(B, T, n * d_model) -> n tensors (B, H, T, d_head); one copy for all if contiguous."""
        B, T, _ = x.shape
        heads = x.view(B, T, n, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)  # (n,B,H,T,dh)
        return (heads.contiguous() if contiguous else heads).unbind(0)

    def _project(self, query: Tensor, key: Tensor, value: Tensor,
                 contiguous: bool) -> tuple[Tensor, ...]:
        """Q W^Q, K W^K, V W^V as heads (B, H, T, d_head); one matmul for shared inputs.

        The fused kernel takes strided views; the explicit path copies them once, up
        front (one copy for shared inputs), instead of every matmul copying its operands.
        """
        w, b, d = self.in_proj_weight, self.in_proj_bias, self.d_model
        if query is key and key is value:  # self-attention
            return self._heads(F.linear(query, w, b), 3, contiguous)
        bq, bk, bv = (None, None, None) if b is None else (b[:d], b[d:2 * d], b[2 * d:])
        (q,) = self._heads(F.linear(query, w[:d], bq), 1, contiguous)
        if key is value:  # cross-attention over one memory
            bkv = None if b is None else b[d:]
            return (q, *self._heads(F.linear(key, w[d:], bkv), 2, contiguous))
        (k,) = self._heads(F.linear(key, w[d:2 * d], bk), 1, contiguous)
        (v,) = self._heads(F.linear(value, w[2 * d:], bv), 1, contiguous)
        return q, k, v

    def forward(self, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None,
                need_weights: bool = True) -> tuple[Tensor, Tensor | None]:
        """query (B, Tq, d_model), key/value (B, Tk, d_model);
        mask bool broadcastable to (B, H, Tq, Tk), True = may attend.
        Returns output (B, Tq, d_model) and weights (B, H, Tq, Tk) or None on the fast path.
        """
        if query.dim() != 3 or key.dim() != 3 or query.size(-1) != self.d_model:
            raise ValueError(f"expected (B, T, {self.d_model}) inputs, got query "
                             f"{tuple(query.shape)} and key {tuple(key.shape)}")
        q, k, v = self._project(query, key, value, contiguous=need_weights)  # (B, H, T, d_head)
        out, weights = scaled_dot_product_attention(q, k, v, mask, need_weights, self._dropout_p())
        # out (B, H, Tq, d_head), weights (B, H, Tq, Tk) or None
        return self._merge(out), weights

    def _dropout_p(self) -> float:
        return self.dropout if self.training else 0.0

    def _merge(self, out: Tensor) -> Tensor:
        """Heads (B, H, T, d_head) -> Concat(head_1, ..., head_h) W^O (B, T, d_model)."""
        B, _, T, _ = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(B, T, self.d_model))

    # ------------------------------------------------------------ cached decoding (lmcore.kv_cache)
    def memory_keys_values(self, memory: Tensor) -> KeyValues:
        """K = memory W^K + b^K, V = memory W^V + b^V: (B, Ts, D) -> two (B, H, Ts, d_head).
        The encoder output never changes while decoding, so a cache computes this once."""
        d, b = self.d_model, self.in_proj_bias
        k, v = self._heads(F.linear(memory, self.in_proj_weight[d:], None if b is None else b[d:]),
                           2, contiguous=True)
        return k, v

    def attend_with_cache(self, h: Tensor, past: KeyValues | None,
                          mask: Tensor) -> tuple[Tensor, KeyValues, Tensor]:
        """Self-attention of one new position h (B, 1, D) over itself and the past positions.
        past: keys/values of the earlier positions (B, H, t-1, d_head) or None; mask (B, 1, 1, t).
        Returns output (B, 1, D), keys/values with the new position appended (B, H, t, d_head)
        and weights (B, H, 1, t) -- the last row of the causal map."""
        q, k, v = self._heads(F.linear(h, self.in_proj_weight, self.in_proj_bias), 3,
                              contiguous=False)
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        out, weights = scaled_dot_product_attention(q.contiguous(), k, v, mask, True,
                                                    self._dropout_p())
        return self._merge(out), (k.contiguous(), v.contiguous()), weights

    def attend_to_memory(self, h: Tensor, memory: KeyValues, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Cross-attention of h (B, 1, D) over precomputed memory keys/values (B, H, Ts, d_head)
        (memory_keys_values); mask (B, 1, 1, Ts). Returns output (B, 1, D), weights (B, H, 1, Ts)."""
        d, b = self.d_model, self.in_proj_bias
        (q,) = self._heads(F.linear(h, self.in_proj_weight[:d], None if b is None else b[:d]), 1,
                           contiguous=True)
        out, weights = scaled_dot_product_attention(q, memory[0], memory[1], mask, True,
                                                    self._dropout_p())
        return self._merge(out), weights

    def unpacked_weights(self) -> AttentionWeights:
        """The packed [W^Q; W^K; W^V] and out_proj as AttentionWeights (views, no copies)."""
        wq, wk, wv = self.in_proj_weight.chunk(3)
        bq, bk, bv = self.in_proj_bias.chunk(3)
        return AttentionWeights(wq, bq, wk, bk, wv, bv, self.out_proj.weight, self.out_proj.bias,
                                self.n_heads)

    @torch.no_grad()
    def load_from_torch(self, mha: nn.MultiheadAttention) -> "MultiHeadAttention":
        """Copy weights from a torch.nn.MultiheadAttention of the same size."""
        return load_from_torch(self, mha)

    @torch.no_grad()
    def to_torch(self) -> nn.MultiheadAttention:
        """A torch.nn.MultiheadAttention(batch_first=True) with these weights."""
        mha = nn.MultiheadAttention(self.d_model, self.n_heads, dropout=self.dropout,
                                    bias=self.in_proj_bias is not None, batch_first=True)
        mha.load_state_dict(self.state_dict())
        return mha.to(self.in_proj_weight.device, self.in_proj_weight.dtype)


@torch.no_grad()
def load_from_torch(module: MultiHeadAttention, mha: nn.MultiheadAttention) -> MultiHeadAttention:
    """Copy torch.nn.MultiheadAttention weights (packed in_proj, out_proj) into `module`."""
    if mha.embed_dim != module.d_model or mha.num_heads != module.n_heads:
        raise ValueError(f"size mismatch: torch ({mha.embed_dim}, {mha.num_heads} heads) vs "
                         f"lmcore ({module.d_model}, {module.n_heads} heads)")
    if not mha._qkv_same_embed_dim or mha.bias_k is not None:
        raise ValueError("only nn.MultiheadAttention with kdim == vdim == embed_dim and "
                         "add_bias_kv=False can be copied")
    if (mha.in_proj_bias is None) != (module.in_proj_bias is None):
        raise ValueError("one module has biases and the other has not (bias=True/False)")
    module.load_state_dict(mha.state_dict())
    return module
