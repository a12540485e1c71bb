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

import time
from typing import Any, Callable, NamedTuple

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


# ---------------------------------------------------------------- what the cache costs (the KV cache page)
def cache_bytes(layers: int, heads: int, length: int, d_head: int, bytes_per_value: int = 4) -> int:
    """Bytes of a self-attention key/value cache holding `length` positions:
    2 (K and V) x layers x heads x length x d_head x bytes per value (float32: 4)."""
    return 2 * layers * heads * length * d_head * bytes_per_value


def tensors_bytes(kvs) -> int:
    """Bytes the tensors of a cache really hold: per layer (keys, values) of (B, H, t, d_head)."""
    return sum(k.nbytes + v.nbytes for k, v in kvs)


class CacheSteps(NamedTuple):
    """Decoding one token at a time with a key/value cache, kept for the step view.

    maps (layers, H, T, T): the causal self-attention of the T positions, row t computed at the
    step that added position t (its query against the t + 1 cached keys); rows before
    `prefill` came from the prefill pass over the whole prompt at once."""

    maps: Any                          # lmcore.record.AttentionMaps, kind "causal"
    prefill: int                       # positions computed by the prefill pass (GPT: the prompt)
    d_head: int
    bytes_per_value: int
    measured_bytes: tuple[int, ...]    # cache tensors' nbytes once position t is in (t = 1..T)
    fixed_bytes: int                   # keys/values computed once (translator: the source's, cross-attention)
    max_difference: float              # largest |cached - uncached| over every map entry
    cached_seconds: float              # decoding the same tokens with the cache...
    uncached_seconds: float            # ...and re-running the whole prefix at every step
    generated: int                     # tokens decoded step by step

    def maps_at(self, length: int):
        """The map as far as the cache holds `length` positions: (layers, H, length, length)."""
        from lmcore.record import AttentionMaps

        m = self.maps
        return AttentionMaps(m.weights[:, :, :length, :length], m.query_tokens[:length],
                             m.key_tokens[:length], "causal")

    def bytes_at(self, length: int, layers: int | None = None, heads: int | None = None,
                 d_head: int | None = None) -> int:
        """The formula at this length (for this model, or another shape)."""
        return cache_bytes(layers or self.maps.n_layers, heads or self.maps.n_heads, length,
                           d_head or self.d_head, self.bytes_per_value)


def best_seconds(fn: Callable[[], object], repeats: int = 1) -> float:
    """The fastest of `repeats` wall-clock timings of fn() (the KV page's on-the-spot numbers)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
