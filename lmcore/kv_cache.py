"""The key/value cache of lmcore.transformer's incremental decoding: one new position per step.

Without a cache, step t re-runs the whole prefix y_1..y_t through every decoder layer
(O(t) positions per step, O(T^2) per sentence). A decoder position only ever looks at
itself and earlier positions, so their keys and values never change once computed:

    self-attention   K_l, V_l of past target positions, per layer, grow by one row per step
    cross-attention  K_l = memory W^K, V_l = memory W^V, per layer, computed once per sentence

and a step runs only the new position: q = h W^Q, K = [K_past; h W^K], V = [V_past; h W^V],
softmax(q K^T / sqrt(d_k)) V. The weights of that one query are the new row of the causal
map (its keys are every position so far) and of the cross map, for every layer and head.

The attention maths of a cached step lives with the attention it caches
(MultiHeadAttention.memory_keys_values / attend_with_cache / attend_to_memory); this module
holds what the cache *is*: the state a Transformer's decoding carries between steps.
lmcore.transformer builds and reads it (and keeps PrefixDecoder, the uncached reference).
"""
from __future__ import annotations

from typing import Any, NamedTuple

from torch import Tensor

from lmcore.multi_head import KeyValues


class TransformerMemory(NamedTuple):
    """What the Transformer's encoder hands its decoder (the decoding protocol of
    lmcore.translation.decoding). Unlike lmcore.seq2seq.RNNMemory there is no final state to
    start the decoder from; the source ids give cross-attention its padding mask."""

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
