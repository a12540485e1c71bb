"""Incremental decoding for lmcore.transformer: a key/value cache, one new position per step.

Without a cache, step t re-runs the whole prefix y_1..y_t through every decoder layer
(O(t) positions per step, O(T^2) per sentence). A decoder position only ever looks at
itself and earlier positions, so their keys and values never change once computed:

    self-attention   K_l, V_l of past target positions, per layer, grow by one row per step
    cross-attention  K_l = memory W^K, V_l = memory W^V, per layer, computed once per sentence

and a step runs only the new position: q = h W^Q, K = [K_past; h W^K], V = [V_past; h W^V],
softmax(q K^T / sqrt(d_k)) V. The weights of that one query are the new row of the causal
map (its keys are every position so far) and of the cross map, for every layer and head.
`PrefixDecoder` keeps the uncached way as the reference for tests and benchmarks.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from lmcore.attention import MultiHeadAttention, scaled_dot_product_attention

if TYPE_CHECKING:
    from lmcore.transformer import DecoderLayer, Transformer

KeyValues = tuple[Tensor, Tensor]  # keys, values as heads (B, H, T, d_head)


def _heads(x: Tensor, n_heads: int) -> Tensor:
    """(B, T, D) -> (B, H, T, D / H), the head layout of MultiHeadAttention."""
    B, T, D = x.shape
    return x.view(B, T, n_heads, D // n_heads).transpose(1, 2)


def _merge(attn: MultiHeadAttention, out: Tensor) -> Tensor:
    """(B, H, 1, d_head) heads -> Concat(heads) W^O (B, 1, D)."""
    return attn.out_proj(out.transpose(1, 2).reshape(out.size(0), -1, attn.d_model))


def memory_keys_values(attn: MultiHeadAttention, memory: Tensor) -> KeyValues:
    """K = memory W^K + b^K, V = memory W^V + b^V: (B, Ts, D) -> two (B, H, Ts, d_head).
    The encoder output never changes while decoding, so this runs once per sentence."""
    d, w, b = attn.d_model, attn.in_proj_weight, attn.in_proj_bias
    k, v = F.linear(memory, w[d:], None if b is None else b[d:]).chunk(2, dim=-1)
    return _heads(k, attn.n_heads).contiguous(), _heads(v, attn.n_heads).contiguous()


def cached_self_attention(attn: MultiHeadAttention, h: Tensor, past: KeyValues | None,
                          mask: Tensor) -> tuple[Tensor, KeyValues, Tensor]:
    """Masked self-attention of the new position h (B, 1, D) over itself and the past.
    past: keys/values of the earlier positions (B, H, t-1, d_head) or None; mask (B, 1, 1, t).
    Returns output (B, 1, D), keys/values with the new position appended (B, H, t, d_head)
    and weights (B, H, 1, t) -- the last row of the causal map."""
    q, k, v = (_heads(x, attn.n_heads) for x in
               F.linear(h, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1))
    if past is not None:
        k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
    p = attn.dropout if attn.training else 0.0
    out, weights = scaled_dot_product_attention(q.contiguous(), k, v, mask, True, p)
    return _merge(attn, out), (k.contiguous(), v.contiguous()), weights


def memory_attention(attn: MultiHeadAttention, h: Tensor, memory: KeyValues,
                     mask: Tensor) -> tuple[Tensor, Tensor]:
    """Cross-attention of h (B, 1, D) over the encoder's precomputed keys/values
    (B, H, Ts, d_head); mask (B, 1, 1, Ts). Returns output (B, 1, D), weights (B, H, 1, Ts)."""
    d, w, b = attn.d_model, attn.in_proj_weight, attn.in_proj_bias
    q = _heads(F.linear(h, w[:d], None if b is None else b[:d]), attn.n_heads).contiguous()
    p = attn.dropout if attn.training else 0.0
    out, weights = scaled_dot_product_attention(q, memory[0], memory[1], mask, True, p)
    return _merge(attn, out), weights


class Memory(NamedTuple):
    """What the encoder hands the decoder (the decoding protocol of lmcore.translation.decoding)."""

    states: Tensor  # (B, Ts, D) encoder output
    mask: Tensor    # (B, Ts) bool, True at real source tokens
    src: Tensor     # (B, Ts) source ids (their padding masks cross-attention)


class DecoderCache(NamedTuple):
    """The decoding state: what earlier steps computed, so a step runs one new position only."""

    prefix: Tensor                       # (B, t) target ids fed so far, <bos> first
    self_kv: tuple[KeyValues, ...]       # per decoder layer: past keys, values (B, H, t, d_head)
    cross_kv: tuple[KeyValues, ...]      # per decoder layer: the memory's keys, values (B, H, Ts, d_head)

    def select(self, index: Tensor) -> "DecoderCache":
        """The rows `index` (K,) of every tensor (beam search keeps, drops and copies beams)."""
        def pick(kvs: tuple[KeyValues, ...]) -> tuple[KeyValues, ...]:
            return tuple((k.index_select(0, index), v.index_select(0, index)) for k, v in kvs)

        return DecoderCache(self.prefix.index_select(0, index), pick(self.self_kv), pick(self.cross_kv))


class TransformerStep(NamedTuple):
    """lmcore.translation.decoding's step output plus the new position's row of every attention map."""

    logits: Tensor                  # (B, V) next-token logits
    state: Any                      # DecoderCache (or the prefix (B, t) for PrefixDecoder)
    weights: Tensor                 # (B, Ts) last layer's cross-attention, mean over heads
    scores: None
    context: None
    query: None
    self_weights: Tensor | None     # (B, layers, H, t) masked self-attention row (causal map row)
    cross_weights: Tensor | None    # (B, layers, H, Ts) cross-attention row


def run_layers(layers: Sequence["DecoderLayer"], y: Tensor, cache: DecoderCache, self_mask: Tensor,
               memory_mask: Tensor) -> tuple[Tensor, tuple[KeyValues, ...], Tensor, Tensor]:
    """The new position y (B, 1, D) through every decoder layer, with the cache's keys/values.
    Returns y (B, 1, D), the grown self-attention keys/values per layer, and the position's
    rows of every layer's and head's maps: self (B, layers, H, t), cross (B, layers, H, Ts)."""
    kvs, self_w, cross_w = [], [], []
    for i, layer in enumerate(layers):
        past = cache.self_kv[i] if cache.self_kv else None
        y, kv, ws, wc = layer.step(y, past, cache.cross_kv[i], self_mask, memory_mask)
        kvs.append(kv)
        self_w.append(ws[:, :, 0])   # (B, H, t)
        cross_w.append(wc[:, :, 0])  # (B, H, Ts)
    return y, tuple(kvs), torch.stack(self_w, dim=1), torch.stack(cross_w, dim=1)


class PrefixDecoder:
    """The uncached reference (how Transformer.step worked before its cache): the state is
    the target prefix (B, t) ids, re-run through the whole decoder at every step. For tests
    and bench/transformer_decoding.py. layer_maps=True also returns every layer's rows of
    the new position (all layers take the explicit path; by default only the last does)."""

    def __init__(self, model: "Transformer", layer_maps: bool = False) -> None:
        self.model, self.layer_maps = model, layer_maps
        self.bos_id, self.eos_id = model.bos_id, model.eos_id
        self.encode, self.reorder_memory = model.encode, model.reorder_memory

    def init_state(self, memory: Memory) -> Tensor:
        return memory.src.new_zeros((memory.src.size(0), 0))  # (B, 0): nothing written yet

    def step(self, memory: Memory, state: Tensor, prev: Tensor) -> TransformerStep:
        prefix = torch.cat([state, prev[:, None]], dim=1)  # (B, t)
        logits, self_w, cross_w = self.model.run_decoder(prefix, memory.states, memory.src,
                                                         last_only=not self.layer_maps)
        logits = self.model.end_at_table(logits[:, -1], prefix.size(1))  # (B, V)
        rows = (None, None)
        if self.layer_maps:
            rows = tuple(torch.stack([w[:, :, -1] for w in ws], dim=1) for ws in (self_w, cross_w))
        return TransformerStep(logits, prefix, cross_w[-1][:, :, -1].mean(dim=1), None, None, None,
                               *rows)

    def reorder_state(self, state: Tensor, index: Tensor) -> Tensor:
        return state.index_select(0, index)
