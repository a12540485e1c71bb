"""Positional encodings: how a Transformer learns word order.

Self-attention alone is blind to order (permute the words and the weights are
permuted the same way), so a position signal is added to each token embedding:

    sinusoidal  PE(pos, 2i)   = sin(pos / 10000^(2i / d_model))
                PE(pos, 2i+1) = cos(pos / 10000^(2i / d_model))   (Vaswani et al. 2017, sec. 3.5)
    learned     P[pos] is a trained row of an embedding table (BERT, GPT-2)
    rotary      q, k rotated by pos * theta_i per pair of dims (Su et al. 2021, RoFormer eq. 34)

A length beyond a table's size raises `UserFacingError("tf.err.positions_too_long")`:
the caller truncates and tells the user, it never crashes.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from lmcore.errors import UserFacingError


def check_length(length: int, max_len: int) -> None:
    """Raise a translated error when `length` positions do not fit a table of `max_len`."""
    if length > max_len:
        raise UserFacingError("tf.err.positions_too_long", length=length, max_len=max_len)


def sinusoidal_encoding(length: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    """PE (length, d_model), float32: sin on even dims, cos on odd dims (Vaswani eq. in 3.5).

    Works for odd d_model too (the last, even, dimension is a sine).
    """
    if length < 0 or d_model < 1:
        raise ValueError(f"need length >= 0 and d_model >= 1, got {length}, {d_model}")
    pos = np.arange(length, dtype=np.float64)[:, None]            # (T, 1)
    two_i = np.arange(0, d_model, 2, dtype=np.float64)[None, :]   # (1, ceil(D/2))
    angle = pos / np.power(base, two_i / d_model)                 # (T, ceil(D/2))
    pe = np.zeros((length, d_model), dtype=np.float64)
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle[:, : d_model // 2])
    return pe.astype(np.float32)                                  # (T, D)


def wavelengths(d_model: int, base: float = 10000.0) -> np.ndarray:
    """Wavelength (in positions) of each dimension's wave: 2 pi * base^(2i/d_model), (D,)."""
    two_i = (np.arange(d_model) // 2) * 2
    return (2 * np.pi * np.power(base, two_i / d_model)).astype(np.float64)


class SinusoidalPositionalEncoding(nn.Module):
    """x + PE[:T] with a fixed (not trained) sinusoidal table of max_len rows."""

    def __init__(self, d_model: int, max_len: int = 512) -> None:
        super().__init__()
        self.max_len = max_len
        table = torch.from_numpy(sinusoidal_encoding(max_len, d_model))
        self.register_buffer("table", table, persistent=False)  # (max_len, D)

    def forward(self, x: Tensor) -> Tensor:
        """x (B, T, D) -> x + PE (B, T, D)"""
        check_length(x.size(1), self.max_len)
        return x + self.table[: x.size(1)].to(x.dtype)


class LearnedPositionalEmbedding(nn.Module):
    """x + P[0..T-1], P a trained (max_len, d_model) table, as in BERT and GPT-2."""

    def __init__(self, d_model: int, max_len: int = 512) -> None:
        super().__init__()
        self.max_len = max_len
        self.table = nn.Embedding(max_len, d_model)  # (max_len, D)
        nn.init.normal_(self.table.weight, std=0.02)

    def forward(self, x: Tensor) -> Tensor:
        """x (B, T, D) -> x + P (B, T, D)"""
        check_length(x.size(1), self.max_len)
        return x + self.table.weight[: x.size(1)]


def make_positional(kind: str, d_model: int, max_len: int) -> nn.Module:
    """"sinusoidal" | "learned" | "none" (identity, for the order-blindness demo)."""
    if kind == "sinusoidal":
        return SinusoidalPositionalEncoding(d_model, max_len)
    if kind == "learned":
        return LearnedPositionalEmbedding(d_model, max_len)
    if kind == "none":
        return nn.Identity()
    raise UserFacingError("tf.err.unknown_positional", name=kind)


# ---------------------------------------------------------------- rotary (for comparison)

def rotary_angles(length: int, d_head: int, base: float = 10000.0) -> np.ndarray:
    """theta (length, d_head // 2): position m times theta_i = base^(-2i / d_head)."""
    inv = np.power(base, -np.arange(0, d_head - d_head % 2, 2) / d_head)  # (d/2,)
    return np.arange(length)[:, None] * inv[None, :]                       # (T, d/2)


def apply_rotary(x: np.ndarray, base: float = 10000.0) -> np.ndarray:
    """Rotate each pair (x_2i, x_2i+1) of row m by angle m * theta_i (RoFormer eq. 34).

    x (T, d) with even d -> (T, d). Then (R_m q) . (R_n k) depends only on n - m.
    """
    T, d = x.shape
    if d % 2:
        raise ValueError(f"rotary needs an even dimension, got {d}")
    ang = rotary_angles(T, d, base)                         # (T, d/2)
    cos, sin = np.cos(ang), np.sin(ang)
    even, odd = x[:, 0::2], x[:, 1::2]                      # (T, d/2) each
    out = np.empty_like(x, dtype=np.float64)
    out[:, 0::2] = even * cos - odd * sin
    out[:, 1::2] = even * sin + odd * cos
    return out.astype(np.float32)


def rotary_similarity(length: int, d_head: int, seed: int = 0) -> np.ndarray:
    """(T, T) dot products of one fixed vector rotated to every position; a function of n - m."""
    vec = np.random.default_rng(seed).standard_normal(d_head).astype(np.float32)
    rotated = apply_rotary(np.tile(vec, (length, 1)))      # (T, d)
    return (rotated @ rotated.T / d_head).astype(np.float32)


# ---------------------------------------------------------------- similarity

def position_similarity(table: np.ndarray, metric: str = "cosine") -> np.ndarray:
    """(T, T) similarity of every pair of position vectors; table (T, D).

    metric "cosine" (in [-1, 1], 1 on the diagonal) or "dot".
    """
    t = np.asarray(table, dtype=np.float64)
    if metric == "cosine":
        norms = np.linalg.norm(t, axis=1, keepdims=True)
        t = t / np.where(norms == 0, 1.0, norms)
    elif metric != "dot":
        raise ValueError(f"metric must be 'cosine' or 'dot', got {metric!r}")
    return (t @ t.T).astype(np.float32)
