"""The Transformer's layers (Vaswani et al. 2017), built from lmcore.multi_head:

    EncoderLayer   x = x + SelfAttn(LN(x)),  x = x + FFN(LN(x))          (pre-norm, or post-norm)
    DecoderLayer   y = y + MaskedSelfAttn(LN(y)), y = y + CrossAttn(LN(y), memory), y = y + FFN(LN(y))
    run_layers     one new decoder position through every layer, with the key/value cache
    source_mask, target_mask   the padding and causal masks they take

FFN(x) = max(0, x W_1 + b_1) W_2 + b_2 (eq. 2). Parameters are named like
torch.nn.TransformerEncoderLayer / TransformerDecoderLayer (self_attn, multihead_attn,
linear1, linear2, norm1..3), so their state dicts copy over exactly.
lmcore.transformer stacks them into the model.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lmcore.attention import causal_mask
from lmcore.kv_cache import DecoderCache
from lmcore.multi_head import KeyValues, MultiHeadAttention


class HeadMask(NamedTuple):
    """Which heads run, per attention of the Transformer: 1 keeps a head, 0 switches its output
    off (before W^O). Each is (layers, H), or (B, layers, H) for one mask per batch row;
    None keeps every head of that attention (the computation is then exactly the unmasked one)."""

    encoder: Tensor | None = None  # encoder self-attention
    decoder: Tensor | None = None  # decoder masked self-attention
    cross: Tensor | None = None    # decoder cross-attention

    def at(self, part: str, layer: int) -> Tensor | None:
        """The mask of one layer of `part`: (H,) or (B, H), or None."""
        mask = getattr(self, part)
        return None if mask is None else mask[..., layer, :]


def _at(head_mask: HeadMask | None, part: str, layer: int) -> Tensor | None:
    return None if head_mask is None else head_mask.at(part, layer)


class EncoderLayer(nn.Module):
    """Self-attention + FFN sublayers, each with a residual connection and LayerNorm."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.0,
                 norm_first: bool = True) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.linear1 = nn.Linear(d_model, d_ff)   # W_1
        self.linear2 = nn.Linear(d_ff, d_model)   # W_2
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def _ffn(self, x: Tensor) -> Tensor:
        """max(0, x W_1 + b_1) W_2 + b_2 (eq. 2)"""
        return self.dropout(self.linear2(self.dropout(F.relu(self.linear1(x)))))

    def _attn(self, x: Tensor, mask: Tensor | None, need_weights: bool,
              head_mask: Tensor | None) -> tuple[Tensor, Tensor | None]:
        out, w = self.self_attn(x, x, x, mask, need_weights, head_mask)
        return self.dropout(out), w

    def forward(self, x: Tensor, mask: Tensor | None = None, need_weights: bool = True,
                head_mask: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """x (B, T, D); mask bool (B, 1, 1|T, T), True = may attend; head_mask (H,) or (B, H).
        Returns x (B, T, D) and weights (B, H, T, T) or None."""
        if self.norm_first:
            a, w = self._attn(self.norm1(x), mask, need_weights, head_mask)
            x = x + a
            return x + self._ffn(self.norm2(x)), w
        a, w = self._attn(x, mask, need_weights, head_mask)
        x = self.norm1(x + a)
        return self.norm2(x + self._ffn(x)), w


class DecoderLayer(nn.Module):
    """Masked self-attention, cross-attention over the encoder output, and FFN."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.0,
                 norm_first: bool = True) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.multihead_attn = MultiHeadAttention(d_model, n_heads, dropout)  # cross-attention
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))
        self.dropout = nn.Dropout(dropout)

    def _ffn(self, x: Tensor) -> Tensor:
        return self.dropout(self.linear2(self.dropout(F.relu(self.linear1(x)))))

    def _wire(self, y: Tensor, self_attend, cross_attend) -> tuple:
        """The residual + LayerNorm wiring of the three sublayers (pre- or post-norm), shared
        by forward and step. self_attend(h) -> (out, *extra), cross_attend(h) -> (out, weights).
        Returns (y, *extra, cross weights)."""
        drop = self.dropout
        if self.norm_first:
            a, *extra = self_attend(self.norm1(y))
            y = y + drop(a)
            c, wc = cross_attend(self.norm2(y))
            y = y + drop(c)
            return (y + self._ffn(self.norm3(y)), *extra, wc)
        a, *extra = self_attend(y)
        y = self.norm1(y + drop(a))
        c, wc = cross_attend(y)
        y = self.norm2(y + drop(c))
        return (self.norm3(y + self._ffn(y)), *extra, wc)

    def forward(self, y: Tensor, memory: Tensor, self_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, need_weights: bool = True,
                self_heads: Tensor | None = None, cross_heads: Tensor | None = None
                ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """y (B, Tt, D), memory (B, Ts, D); self_mask (B|1, 1, Tt, Tt), memory_mask (B, 1, 1, Ts);
        self_heads / cross_heads: head masks (H,) or (B, H) of the two attentions, or None.
        Returns y (B, Tt, D), self weights (B, H, Tt, Tt), cross weights (B, H, Tt, Ts)."""
        return self._wire(
            y, lambda h: self.self_attn(h, h, h, self_mask, need_weights, self_heads),
            lambda h: self.multihead_attn(h, memory, memory, memory_mask, need_weights, cross_heads))

    def step(self, y: Tensor, past: KeyValues | None, cross: KeyValues, self_mask: Tensor,
             memory_mask: Tensor, self_heads: Tensor | None = None,
             cross_heads: Tensor | None = None) -> tuple[Tensor, KeyValues, Tensor, Tensor]:
        """The layer for one new position, reusing the keys/values of the earlier ones.
        y (B, 1, D); past keys/values (B, H, t-1, dh) or None; cross: the memory's (B, H, Ts, dh);
        self_mask (B, 1, 1, t), memory_mask (B, 1, 1, Ts). Returns y (B, 1, D), keys/values
        (B, H, t, dh), self weights (B, H, 1, t), cross weights (B, H, 1, Ts)."""
        return self._wire(
            y, lambda h: self.self_attn.attend_with_cache(h, past, self_mask, self_heads),
            lambda h: self.multihead_attn.attend_to_memory(h, cross, memory_mask, cross_heads))


def run_layers(layers: Sequence[DecoderLayer], y: Tensor, cache: DecoderCache, self_mask: Tensor,
               memory_mask: Tensor, head_mask: HeadMask | None = None
               ) -> tuple[Tensor, tuple[KeyValues, ...], Tensor, Tensor]:
    """The new position y (B, 1, D) through every decoder layer, with the cache's keys/values
    (and the decoder/cross parts of head_mask, if given).
    Returns y (B, 1, D), the grown self-attention keys/values per layer, and the position's
    rows of every layer's and head's maps: self (B, layers, H, t), cross (B, layers, H, Ts)."""
    kvs, self_w, cross_w = [], [], []
    for i, layer in enumerate(layers):
        past = cache.self_kv[i] if cache.self_kv else None
        y, kv, ws, wc = layer.step(y, past, cache.cross_kv[i], self_mask, memory_mask,
                                   _at(head_mask, "decoder", i), _at(head_mask, "cross", i))
        kvs.append(kv)
        self_w.append(ws[:, :, 0])   # (B, H, t)
        cross_w.append(wc[:, :, 0])  # (B, H, Ts)
    return y, tuple(kvs), torch.stack(self_w, dim=1), torch.stack(cross_w, dim=1)


def source_mask(src: Tensor, pad_id: int) -> Tensor:
    """(B, 1, 1, Ts) True at real source tokens."""
    return (src != pad_id)[:, None, None, :]


def target_mask(tgt: Tensor, pad_id: int) -> Tensor:
    """(B, 1, Tt, Tt): causal (query i sees keys j <= i) and not padding."""
    causal = causal_mask(tgt.size(1), device=tgt.device)  # (Tt, Tt)
    return causal[None, None] & (tgt != pad_id)[:, None, None, :]
