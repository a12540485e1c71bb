"""Attention sinks (Xiao et al. 2023): how much attention each head parks on the first token.

In a causal model the first token is visible from every position, so heads with nothing to
look at put their weight there. Per layer and head:
    sink[l, h] = mean over queries i >= 1 of a[l, h, i, 0]
(the first query can only attend to itself, so it is left out). `without_first` hides the
first token as query and key and renormalises each remaining row, as the BERT page's
[CLS]/[SEP] switch does (`lmcore.pretrained.analysis.hide_tokens`).
"""
from __future__ import annotations

import numpy as np

from lmcore.pretrained.analysis import hide_tokens
from lmcore.record import AttentionMaps


def first_token_mass(maps: AttentionMaps) -> np.ndarray:
    """(layers, heads) float32: mean weight the queries after the first put on key 0.

    maps.weights: (layers, heads, n, n). With one token only, its own row (all 1) is used.
    """
    w = maps.weights
    rows = w[:, :, 1:, 0] if w.shape[2] > 1 else w[:, :, :, 0]  # (L, H, n - 1)
    return rows.mean(axis=-1).astype(np.float32)


def without_first(maps: AttentionMaps) -> AttentionMaps:
    """The maps without the first token, each row renormalised: (layers, heads, n - 1, n - 1)."""
    hidden = [True] + [False] * (len(maps.key_tokens) - 1)
    return hide_tokens(maps, hidden)


def sink_table(mass: np.ndarray) -> dict[str, list]:
    """The Numbers export of the layer x head grid: one row per (layer, head)."""
    layers, heads = mass.shape
    return {"layer": [l for l in range(layers) for _ in range(heads)],
            "head": [h for _ in range(layers) for h in range(heads)],
            "first_token_mass": [round(float(mass[l, h]), 4) for l in range(layers) for h in range(heads)]}
