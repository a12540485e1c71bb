"""The encoder–decoder Transformer from scratch (Vaswani et al. 2017), in one file, top-down
in the order of the paper's Figure 1, from the smallest part to the whole:

    TransformerConfig    every size, with a comment on each field
    MultiHeadAttention   MultiHead(Q, K, V) = Concat(head_1..head_h) W^O            (sec. 3.2.2)
                         head_i = softmax(Q W_i^Q (K W_i^K)^T / sqrt(d_k)) V W_i^V  (lmcore.attention)
    TransformerLayer     FFN(x) = max(0, x W_1 + b_1) W_2 + b_2 (eq. 2) and the residual
                         wrapper around every sublayer: x + Sublayer(LN(x))          (sec. 3.1, 3.3)
    EncoderLayer         x = x + SelfAttn(LN(x)),  x = x + FFN(LN(x))
    DecoderLayer         y = y + MaskedSelfAttn(LN(y)), y = y + CrossAttn(LN(y), memory), y = y + FFN(LN(y))
    Embedder             token embedding * sqrt(d_model) + positional encoding      (sec. 3.4, 3.5)
    TransformerMemory, DecoderCache, TransformerStep
                         what decoding carries between steps: the key/value cache
    Transformer          encoder + decoder; `forward` returns logits, `forward_with_weights`
                         every attention weight; decoding runs one new position per step
    attention_trace      one forward pass -> the attention record (encoder, decoder, cross)

The key/value cache: a decoder position only ever looks at itself and earlier positions, so
their keys and values never change once computed. Self-attention keys/values grow by one row
per step, per layer; cross-attention keys/values (memory W^K, memory W^V) are computed once per
sentence; a step runs only the new position, and its weights are the new row of the causal
map and of the cross map, for every layer and head.

Layer parameters are named like torch.nn.TransformerEncoderLayer / TransformerDecoderLayer
(self_attn, multihead_attn, linear1, linear2, norm1..3) and MultiHeadAttention's like
torch.nn.MultiheadAttention, so state dicts copy over exactly.
Attention weights are returned, never stored on modules.

This file is exempt from the 300-line cap (tests/test_architecture.py): it is one idea,
read from top to bottom like nanoGPT's model.py.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lmcore.attention import causal_mask, scaled_dot_product_attention
from lmcore.positional import make_positional
from lmcore.record import AttentionMaps, AttentionTrace
from lmcore.special_ids import BOS_ID, EOS_ID, PAD_ID


@dataclass
class TransformerConfig:
    src_vocab_size: int
    tgt_vocab_size: int
    d_model: int = 128           # width of every token vector
    n_heads: int = 4             # d_model / n_heads = d_k = d_v per head
    n_encoder_layers: int = 2
    n_decoder_layers: int = 2
    d_ff: int = 512              # hidden width of the position-wise feed-forward net
    dropout: float = 0.1         # on sublayer outputs, embeddings and attention weights
    max_len: int = 64            # rows of the positional table: longest sequence, in tokens
    positional: str = "sinusoidal"  # "sinusoidal" | "learned" | "none"
    norm_first: bool = True      # pre-norm (stable for small data) or the paper's post-norm
    pad_id: int = PAD_ID         # padding id in both vocabularies; gets exactly 0 attention
    arch: str = "transformer"    # checkpoint architecture name (lmcore.translation.checkpoints)

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------- multi-head attention
KeyValues = tuple[Tensor, Tensor]  # keys, values as heads (B, H, T, d_head)


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
                need_weights: bool = True, head_mask: Tensor | None = None
                ) -> tuple[Tensor, Tensor | None]:
        """query (B, Tq, d_model), key/value (B, Tk, d_model);
        mask bool broadcastable to (B, H, Tq, Tk), True = may attend;
        head_mask (H,) or (B, H): 1 keeps a head, 0 zeroes its output before W^O (None: all kept).
        Returns output (B, Tq, d_model) and weights (B, H, Tq, Tk) or None on the fast path.
        """
        if query.dim() != 3 or key.dim() != 3 or query.size(-1) != self.d_model:
            raise ValueError(f"expected (B, T, {self.d_model}) inputs, got query "
                             f"{tuple(query.shape)} and key {tuple(key.shape)}")
        q, k, v = self._project(query, key, value, contiguous=need_weights)  # (B, H, T, d_head)
        out, weights = scaled_dot_product_attention(q, k, v, mask, need_weights, self._dropout_p())
        # out (B, H, Tq, d_head), weights (B, H, Tq, Tk) or None
        return self._merge(out, head_mask), weights

    def _dropout_p(self) -> float:
        return self.dropout if self.training else 0.0

    def _merge(self, out: Tensor, head_mask: Tensor | None = None) -> Tensor:
        """Heads (B, H, T, d_head) -> Concat(head_1, ..., head_h) W^O (B, T, d_model).
        head_mask (H,) or (B, H) scales each head's output first (0 = head switched off);
        None leaves the computation exactly as it is without a mask."""
        B, H, T, _ = out.shape
        if head_mask is not None:
            out = out * head_mask.to(out.dtype).reshape(-1, H, 1, 1)  # (B|1, H, 1, 1)
        return self.out_proj(out.transpose(1, 2).reshape(B, T, self.d_model))

    # ------------------------------------------------------------ cached decoding (DecoderCache)
    def memory_keys_values(self, memory: Tensor) -> KeyValues:
        """K = memory W^K + b^K, V = memory W^V + b^V: (B, Ts, D) -> two (B, H, Ts, d_head).
        The encoder output never changes while decoding, so a cache computes this once."""
        d, b = self.d_model, self.in_proj_bias
        k, v = self._heads(F.linear(memory, self.in_proj_weight[d:], None if b is None else b[d:]),
                           2, contiguous=True)
        return k, v

    def attend_with_cache(self, h: Tensor, past: KeyValues | None, mask: Tensor,
                          head_mask: Tensor | None = None) -> tuple[Tensor, KeyValues, Tensor]:
        """Self-attention of one new position h (B, 1, D) over itself and the past positions.
        past: keys/values of the earlier positions (B, H, t-1, d_head) or None; mask (B, 1, 1, t);
        head_mask as in forward.
        Returns output (B, 1, D), keys/values with the new position appended (B, H, t, d_head)
        and weights (B, H, 1, t) -- the last row of the causal map."""
        q, k, v = self._heads(F.linear(h, self.in_proj_weight, self.in_proj_bias), 3,
                              contiguous=False)
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        out, weights = scaled_dot_product_attention(q.contiguous(), k, v, mask, True,
                                                    self._dropout_p())
        return self._merge(out, head_mask), (k.contiguous(), v.contiguous()), weights

    def attend_to_memory(self, h: Tensor, memory: KeyValues, mask: Tensor,
                         head_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Cross-attention of h (B, 1, D) over precomputed memory keys/values (B, H, Ts, d_head)
        (memory_keys_values); mask (B, 1, 1, Ts); head_mask as in forward.
        Returns output (B, 1, D), weights (B, H, 1, Ts)."""
        d, b = self.d_model, self.in_proj_bias
        (q,) = self._heads(F.linear(h, self.in_proj_weight[:d], None if b is None else b[:d]), 1,
                           contiguous=True)
        out, weights = scaled_dot_product_attention(q, memory[0], memory[1], mask, True,
                                                    self._dropout_p())
        return self._merge(out, head_mask), weights

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


# ---------------------------------------------------------------- the layers
class TransformerLayer(nn.Module):
    """What both layers share: the position-wise feed-forward net and the residual wrapper
    around every sublayer (the annotated transformer's SublayerConnection)."""

    def __init__(self, d_model: int, d_ff: int, dropout: float, norm_first: bool) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.linear1 = nn.Linear(d_model, d_ff)   # W_1
        self.linear2 = nn.Linear(d_ff, d_model)   # W_2
        self.dropout = nn.Dropout(dropout)

    def feed_forward(self, x: Tensor) -> tuple[Tensor]:
        """FFN(x) = max(0, x W_1 + b_1) W_2 + b_2 (eq. 2), position by position: (B, T, D) -> (B, T, D)."""
        return (self.linear2(self.dropout(F.relu(self.linear1(x)))),)

    def sublayer(self, x: Tensor, norm: nn.LayerNorm, fn: Callable[[Tensor], tuple]) -> tuple:
        """x + Sublayer(LN(x)) (pre-norm) or LN(x + Sublayer(x)) (the paper's post-norm,
        section 5.4), with dropout on the sublayer's output. fn(h) -> (out, *extra), and
        the extras (attention weights, keys/values) come back after the new x."""
        out, *extra = fn(norm(x) if self.norm_first else x)
        x = x + self.dropout(out)
        return (x if self.norm_first else norm(x), *extra)


class EncoderLayer(TransformerLayer):
    """x = x + SelfAttn(LN(x)), x = x + FFN(LN(x)) (pre-norm; or post-norm)."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.0,
                 norm_first: bool = True) -> None:
        super().__init__(d_model, d_ff, dropout, norm_first)
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)

    def forward(self, x: Tensor, mask: Tensor | None = None, need_weights: bool = True,
                head_mask: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """x (B, T, D); mask bool (B, 1, 1|T, T), True = may attend; head_mask (H,) or (B, H).
        Returns x (B, T, D) and weights (B, H, T, T) or None."""
        x, w = self.sublayer(x, self.norm1, lambda h: self.self_attn(h, h, h, mask, need_weights, head_mask))
        (x,) = self.sublayer(x, self.norm2, self.feed_forward)
        return x, w


class DecoderLayer(TransformerLayer):
    """y = y + MaskedSelfAttn(LN(y)), y = y + CrossAttn(LN(y), memory), y = y + FFN(LN(y))."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.0,
                 norm_first: bool = True) -> None:
        super().__init__(d_model, d_ff, dropout, norm_first)
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.multihead_attn = MultiHeadAttention(d_model, n_heads, dropout)  # cross-attention
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))

    def _wire(self, y: Tensor, self_attend, cross_attend) -> tuple:
        """The three sublayers in order, shared by forward and step.
        self_attend(h) -> (out, *extra), cross_attend(h) -> (out, weights).
        Returns (y, *extra, cross weights)."""
        y, *extra = self.sublayer(y, self.norm1, self_attend)
        y, wc = self.sublayer(y, self.norm2, cross_attend)
        (y,) = self.sublayer(y, self.norm3, self.feed_forward)
        return (y, *extra, wc)

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


def source_mask(src: Tensor, pad_id: int) -> Tensor:
    """(B, 1, 1, Ts) True at real source tokens."""
    return (src != pad_id)[:, None, None, :]


def target_mask(tgt: Tensor, pad_id: int) -> Tensor:
    """(B, 1, Tt, Tt): causal (query i sees keys j <= i) and not padding."""
    causal = causal_mask(tgt.size(1), device=tgt.device)  # (Tt, Tt)
    return causal[None, None] & (tgt != pad_id)[:, None, None, :]


# ---------------------------------------------------------------- the whole model
class Embedder(nn.Module):
    """ids -> token embedding * sqrt(d_model) + positional encoding (section 3.4, 3.5)."""

    def __init__(self, vocab_size: int, cfg: TransformerConfig) -> None:
        super().__init__()
        self.scale = math.sqrt(cfg.d_model)
        self.tokens = nn.Embedding(vocab_size, cfg.d_model, padding_idx=cfg.pad_id)
        # std d_model^-0.5, so that after the sqrt(d_model) scale a token vector is about as
        # large as the positional code (entries in [-1, 1]). nn.Embedding's N(0, 1) would make
        # it ~14x larger at d_model 192 and drown word order (fairseq initialises the same way).
        nn.init.normal_(self.tokens.weight, std=cfg.d_model ** -0.5)
        with torch.no_grad():
            self.tokens.weight[cfg.pad_id].zero_()
        self.positions = make_positional(cfg.positional, cfg.d_model, cfg.max_len)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, ids: Tensor) -> Tensor:
        """ids (B, T) -> (B, T, D)"""
        return self.dropout(self.positions(self.tokens(ids) * self.scale))

    def at(self, ids: Tensor, position: int) -> Tensor:
        """ids (B, 1) standing at `position` -> (B, 1, D): that column of forward's output."""
        table = self.positions(self.tokens.weight.new_zeros((1, position + 1, self.tokens.embedding_dim)))
        return self.dropout(self.tokens(ids) * self.scale + table[:, -1:])  # (B, 1, D)


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


class Transformer(nn.Module):
    """Encoder–decoder Transformer.

    Training: forward(src, src_lengths, tgt_in) -> logits, the fused fast path.
    Views: forward_with_weights(src, tgt_in) -> logits and every attention weight.
    Decoding: encode / init_state / step / reorder_* (the protocol of lmcore.translation.decoding);
    the state is a DecoderCache, so each step runs only the new position
    (lmcore.demos.kv_cache_steps.PrefixDecoder is
    the uncached reference that re-runs the whole prefix).
    """

    bos_id, eos_id, pad_id = BOS_ID, EOS_ID, PAD_ID

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.config = cfg
        layer = (cfg.d_model, cfg.n_heads, cfg.d_ff, cfg.dropout, cfg.norm_first)
        self.src_embed = Embedder(cfg.src_vocab_size, cfg)
        self.tgt_embed = Embedder(cfg.tgt_vocab_size, cfg)
        self.encoder_layers = nn.ModuleList(EncoderLayer(*layer) for _ in range(cfg.n_encoder_layers))
        self.decoder_layers = nn.ModuleList(DecoderLayer(*layer) for _ in range(cfg.n_decoder_layers))
        self.encoder_norm = nn.LayerNorm(cfg.d_model) if cfg.norm_first else nn.Identity()
        self.decoder_norm = nn.LayerNorm(cfg.d_model) if cfg.norm_first else nn.Identity()
        self.generator = nn.Linear(cfg.d_model, cfg.tgt_vocab_size)  # final linear -> logits

    def run_encoder(self, src: Tensor, need_weights: bool = True,
                    head_mask: HeadMask | None = None) -> tuple[Tensor, list[Tensor]]:
        """src (B, Ts) ids -> memory (B, Ts, D), [weights (B, H, Ts, Ts)] per layer.
        head_mask (its encoder part) switches heads off; None runs every head."""
        x, weights, mask = self.src_embed(src), [], source_mask(src, self.config.pad_id)
        for i, layer in enumerate(self.encoder_layers):
            x, w = layer(x, mask, need_weights, None if head_mask is None else head_mask.at("encoder", i))
            weights.append(w)
        return self.encoder_norm(x), weights

    def run_decoder(self, tgt: Tensor, memory: Tensor, src: Tensor, need_weights: bool = True,
                    last_only: bool = False, head_mask: HeadMask | None = None
                    ) -> tuple[Tensor, list[Tensor], list[Tensor]]:
        """tgt (B, Tt) prefix ids, memory (B, Ts, D), src (B, Ts) ids (for its padding) ->
        logits (B, Tt, V), [self weights (B, H, Tt, Tt)], [cross weights (B, H, Tt, Ts)].
        last_only (uncached decoding, PrefixDecoder): logits of the last position only (B, 1, V), weights of the last
        layer only (the other layers take the fused fast path)."""
        y, self_w, cross_w = self.tgt_embed(tgt), [], []
        t_mask, s_mask = target_mask(tgt, self.config.pad_id), source_mask(src, self.config.pad_id)
        for i, layer in enumerate(self.decoder_layers):
            weights = need_weights and (not last_only or i == len(self.decoder_layers) - 1)
            heads = (None, None) if head_mask is None else \
                (head_mask.at("decoder", i), head_mask.at("cross", i))
            y, ws, wc = layer(y, memory, t_mask, s_mask, weights, *heads)
            self_w.append(ws)
            cross_w.append(wc)
        if last_only:
            y = y[:, -1:]  # (B, 1, D)
        return self.generator(self.decoder_norm(y)), self_w, cross_w

    def forward(self, src: Tensor, src_lengths: Tensor | None, tgt_in: Tensor) -> Tensor:
        """Teacher forcing: src (B, Ts), tgt_in (B, Tt) starting with <bos> -> logits (B, Tt, V).
        Padding is found from pad ids, so src_lengths is not needed (kept for the protocol)."""
        memory, _ = self.run_encoder(src, need_weights=False)
        return self.run_decoder(tgt_in, memory, src, need_weights=False)[0]

    def forward_with_weights(self, src: Tensor, tgt_in: Tensor, head_mask: HeadMask | None = None
                             ) -> tuple[Tensor, dict[str, list[Tensor]]]:
        """logits (B, Tt, V) and {"encoder", "decoder", "cross"}: per-layer (B, H, q, k) weights.
        head_mask switches heads off (None: every head runs)."""
        memory, enc_w = self.run_encoder(src, head_mask=head_mask)
        logits, dec_w, cross_w = self.run_decoder(tgt_in, memory, src, head_mask=head_mask)
        return logits, {"encoder": enc_w, "decoder": dec_w, "cross": cross_w}

    # ------------------------------------------------------------ decoding protocol
    def encode(self, src: Tensor, src_lengths: Tensor | None = None) -> TransformerMemory:
        states, _ = self.run_encoder(src, need_weights=False)
        return TransformerMemory(states, src != self.config.pad_id, src)

    def init_state(self, memory: TransformerMemory) -> DecoderCache:
        """Nothing written yet; the memory's cross-attention keys/values, computed once."""
        cross = tuple(layer.multihead_attn.memory_keys_values(memory.states)
                      for layer in self.decoder_layers)
        return DecoderCache(memory.src.new_zeros((memory.src.size(0), 0)), (), cross)

    def step(self, memory: TransformerMemory, state: DecoderCache, prev: Tensor,
             head_mask: HeadMask | None = None) -> TransformerStep:
        """prev (B,) the last token -> TransformerStep: next-token logits (B, V), the cache grown
        by the new position's keys/values, the last layer's cross-attention mean over heads
        (B, Ts), and the new position's row of every layer's and head's causal and cross map.
        Only the new position runs: the same numbers as re-running the whole prefix.
        head_mask (its decoder and cross parts) switches heads off."""
        prefix = torch.cat([state.prefix, prev[:, None]], dim=1)       # (B, t)
        y = self.tgt_embed.at(prev[:, None], prefix.size(1) - 1)       # (B, 1, D)
        self_mask = (prefix != self.config.pad_id)[:, None, None, :]  # (B, 1, 1, t)
        memory_mask = memory.mask[:, None, None, :]                    # (B, 1, 1, Ts)
        y, kvs, self_w, cross_w = run_layers(self.decoder_layers, y, state, self_mask, memory_mask,
                                             head_mask)
        logits = self.end_at_table(self.generator(self.decoder_norm(y))[:, 0], prefix.size(1))
        return TransformerStep(logits, DecoderCache(prefix, kvs, state.cross_kv),
                               cross_w[:, -1].mean(dim=1), None, None, None, self_w, cross_w)

    def end_at_table(self, logits: Tensor, length: int) -> Tensor:
        """logits (B, V); once the prefix fills the positional table (config.max_len) only
        <eos> remains possible."""
        if length < self.config.max_len:
            return logits
        return torch.full_like(logits, float("-inf")).index_fill_(1, torch.tensor([EOS_ID]), 0.0)

    def reorder_memory(self, memory: TransformerMemory, index: Tensor) -> TransformerMemory:
        return TransformerMemory(*(t.index_select(0, index) for t in memory))

    def reorder_state(self, state: DecoderCache, index: Tensor) -> DecoderCache:
        return state.select(index)

    @classmethod
    def from_config(cls, data: dict) -> "Transformer":
        return cls(TransformerConfig(**data))


def _stack(per_layer: list[Tensor], row: int, n_q: int, n_k: int) -> np.ndarray:
    """[(B, H, q, k)] per layer -> (layers, H, n_q, n_k) float32 numpy for batch row `row`."""
    return torch.stack([w[row, :, :n_q, :n_k] for w in per_layer]).float().cpu().numpy()


@torch.inference_mode()
def attention_trace(model: Transformer, src: Tensor, tgt: Tensor,
                    src_tokens: list[str], tgt_tokens: list[str], row: int = 0) -> AttentionTrace:
    """One forward pass with weights: AttentionTrace with "encoder" (self), "decoder" (causal)
    and "cross" AttentionMaps for every layer and head of batch row `row`.

    src (B, Ts), tgt (B, Tt) ids; src_tokens / tgt_tokens label the first len(...) positions
    of that row (the rest is padding and is left out).
    """
    model.eval()
    _, w = model.forward_with_weights(src, tgt)
    ns, nt = len(src_tokens), len(tgt_tokens)
    return AttentionTrace({
        "encoder": AttentionMaps(_stack(w["encoder"], row, ns, ns), src_tokens, src_tokens, "self"),
        "decoder": AttentionMaps(_stack(w["decoder"], row, nt, nt), tgt_tokens, tgt_tokens, "causal"),
        "cross": AttentionMaps(_stack(w["cross"], row, nt, ns), tgt_tokens, src_tokens, "cross"),
    })


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
