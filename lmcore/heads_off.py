"""Heads chosen by the user ("switch heads off"): parsing `L:H` lists, the mask, the ranking maths.

Layers and heads are counted from 0, as in the attention record's axes
(`weights[layer, head]`) and the `attention --json` output.

    parse_heads("0:3, 2:1", n_layers=6, n_heads=12) -> ((0, 3), (2, 1))
    keep_mask(((0, 3),), 6, 12) -> float32 (6, 12), 0 at layer 0 head 3, 1 elsewhere
    one_off_masks(6, 12) -> (72, 6, 12): row r switches off head r alone (layer r // 12, head r % 12)
    rank_correlation(a, b) -> Spearman's rho of two score tables

Bad input raises lmcore.errors.UserFacingError("abl.err.heads").
"""
from __future__ import annotations

import re
from typing import Iterable

import numpy as np
import torch

from lmcore.errors import UserFacingError

Head = tuple[int, int]  # (layer, head), from 0
_ITEM = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")


def parse_heads(text: str, n_layers: int, n_heads: int) -> tuple[Head, ...]:
    """'L:H[,L:H...]' -> sorted unique (layer, head) pairs; '' -> (). Out of range or
    malformed items raise UserFacingError naming the item and the model's size."""
    heads: set[Head] = set()
    for item in (part for part in str(text).split(",") if part.strip()):
        match = _ITEM.match(item)
        if match is None:
            raise UserFacingError("abl.err.heads", item=item.strip(), layers=n_layers - 1,
                                  heads=n_heads - 1)
        layer, head = int(match.group(1)), int(match.group(2))
        if layer >= n_layers or head >= n_heads:
            raise UserFacingError("abl.err.heads", item=item.strip(), layers=n_layers - 1,
                                  heads=n_heads - 1)
        heads.add((layer, head))
    return tuple(sorted(heads))


def check_heads(heads: Iterable[Head], n_layers: int, n_heads: int) -> tuple[Head, ...]:
    """Pairs from code (e.g. a click in the grid) checked like parse_heads' items."""
    return parse_heads(",".join(f"{int(l)}:{int(h)}" for l, h in heads), n_layers, n_heads)


def format_heads(heads: Iterable[Head]) -> str:
    """((0, 3), (2, 1)) -> '0:3,2:1' (what parse_heads reads back)."""
    return ",".join(f"{layer}:{head}" for layer, head in heads)


def keep_mask(heads: Iterable[Head], n_layers: int, n_heads: int) -> torch.Tensor:
    """(layers, heads) float32: 1 keeps a head, 0 switches it off."""
    mask = torch.ones(n_layers, n_heads)
    for layer, head in heads:
        mask[layer, head] = 0.0
    return mask


def one_off_masks(n_layers: int, n_heads: int) -> torch.Tensor:
    """(layers * heads, layers, heads): row r has only head r (layer-major order) switched off."""
    return (1.0 - torch.eye(n_layers * n_heads)).reshape(n_layers * n_heads, n_layers, n_heads)


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho between two equally shaped score tables (ties get their mean rank);
    0.0 when either is constant."""
    ra, rb = _ranks(np.asarray(a, np.float64).ravel()), _ranks(np.asarray(b, np.float64).ravel())
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x), dtype=np.float64)
    for value in np.unique(x):  # ties: mean rank
        tied = x == value
        ranks[tied] = ranks[tied].mean()
    return ranks
