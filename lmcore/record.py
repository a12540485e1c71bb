"""The one attention record every model in lmcore returns.

`AttentionMaps` holds the weights of one attention kind (encoder self-attention,
masked decoder self-attention, cross-attention, ...) for every layer and head:

    weights: float32 array (layers, heads, queries, keys); each row sums to 1
             over the keys a query may see; masked cells are exactly 0.

Views take this record and never ask which model made it. A model's forward or
decode returns an `AttentionTrace`: named records ("encoder", "decoder",
"cross" or "self").

`CacheSteps` is the key/value cache page's record: a causal map built one row per decoding
step, with the cache's bytes and the timings measured beside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping, NamedTuple

import numpy as np

AttentionKind = Literal["self", "causal", "cross"]
KINDS: tuple[str, ...] = ("self", "causal", "cross")


@dataclass(frozen=True)
class AttentionMaps:
    """Attention weights of one kind, for all layers and heads.

    weights:      (layers, heads, queries, keys), float32
    query_tokens: one display string per query position
    key_tokens:   one display string per key position
    kind:         "self", "causal" (self with a causal mask) or "cross"
    """

    weights: np.ndarray
    query_tokens: tuple[str, ...]
    key_tokens: tuple[str, ...]
    kind: AttentionKind

    def __post_init__(self) -> None:
        w = np.asarray(self.weights, dtype=np.float32)
        if w.ndim != 4:
            raise ValueError(f"weights must be 4-D (layers, heads, queries, keys), got {w.shape}")
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "query_tokens", tuple(str(t) for t in self.query_tokens))
        object.__setattr__(self, "key_tokens", tuple(str(t) for t in self.key_tokens))
        if w.shape[2] != len(self.query_tokens) or w.shape[3] != len(self.key_tokens):
            raise ValueError(
                f"weights {w.shape} do not match {len(self.query_tokens)} query and "
                f"{len(self.key_tokens)} key tokens"
            )
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    @property
    def n_layers(self) -> int:
        return self.weights.shape[0]

    @property
    def n_heads(self) -> int:
        return self.weights.shape[1]

    def head(self, layer: int, head: int) -> np.ndarray:
        """One head's map, (queries, keys)."""
        return self.weights[layer, head]

    def mean_over_heads(self) -> "AttentionMaps":
        """Average the heads of each layer into one head: (layers, 1, q, k)."""
        return AttentionMaps(self.weights.mean(axis=1, keepdims=True),
                             self.query_tokens, self.key_tokens, self.kind)

    def select(self, layers: slice | list[int] | None = None,
               heads: slice | list[int] | None = None,
               queries: slice | list[int] | None = None) -> "AttentionMaps":
        """A record restricted to some layers, heads and query rows (with their tokens).

        queries=slice(n): the first n rows, e.g. the alignment after n decoding steps.
        """
        w, query_tokens = self.weights, self.query_tokens
        if layers is not None:
            w = w[layers] if isinstance(layers, slice) else w[list(layers)]
        if heads is not None:
            w = w[:, heads] if isinstance(heads, slice) else w[:, list(heads)]
        if isinstance(queries, slice):
            w, query_tokens = w[:, :, queries], query_tokens[queries]
        elif queries is not None:
            w, query_tokens = w[:, :, list(queries)], tuple(query_tokens[i] for i in queries)
        return AttentionMaps(w, query_tokens, self.key_tokens, self.kind)

    def to_dict(self, decimals: int = 4) -> dict:
        """Plain JSON-ready data (weights rounded)."""
        return {
            "kind": self.kind,
            "query_tokens": list(self.query_tokens),
            "key_tokens": list(self.key_tokens),
            "weights": np.round(self.weights.astype(np.float64), decimals).tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "AttentionMaps":
        return cls(np.asarray(data["weights"], dtype=np.float32), tuple(data["query_tokens"]),
                   tuple(data["key_tokens"]), data["kind"])


@dataclass(frozen=True)
class AttentionTrace:
    """Named attention records from one forward pass or decode.

    Usual names: "encoder" (self), "decoder" (causal), "cross", or "self".
    """

    maps: Mapping[str, AttentionMaps] = field(default_factory=dict)

    def __getitem__(self, name: str) -> AttentionMaps:
        return self.maps[name]

    def __contains__(self, name: object) -> bool:
        return name in self.maps

    def names(self) -> list[str]:
        return list(self.maps)


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

    maps: AttentionMaps                # kind "causal"
    prefill: int                       # positions computed by the prefill pass (GPT: the prompt)
    d_head: int
    bytes_per_value: int
    measured_bytes: tuple[int, ...]    # cache tensors' nbytes once position t is in (t = 1..T)
    fixed_bytes: int                   # keys/values computed once (translator: the source's, cross-attention)
    max_difference: float              # largest |cached - uncached| over every map entry
    cached_seconds: float              # decoding the same tokens with the cache...
    uncached_seconds: float            # ...and re-running the whole prefix at every step
    generated: int                     # tokens decoded step by step

    def maps_at(self, length: int) -> AttentionMaps:
        """The map as far as the cache holds `length` positions: (layers, H, length, length)."""
        m = self.maps
        return AttentionMaps(m.weights[:, :, :length, :length], m.query_tokens[:length],
                             m.key_tokens[:length], "causal")

    def bytes_at(self, length: int, layers: int | None = None, heads: int | None = None,
                 d_head: int | None = None) -> int:
        """The formula at this length (for this model, or another shape)."""
        return cache_bytes(layers or self.maps.n_layers, heads or self.maps.n_heads, length,
                           d_head or self.d_head, self.bytes_per_value)
