"""The encoder–decoder Transformer from scratch (Vaswani et al. 2017), built from lmcore.multi_head.

Reads top-down from small parts to the whole (the layers are in lmcore.transformer_layers):

    EncoderLayer   x = x + SelfAttn(LN(x)),  x = x + FFN(LN(x))          (pre-norm, or post-norm)
    DecoderLayer   y = y + MaskedSelfAttn(LN(y)), y = y + CrossAttn(LN(y), memory), y = y + FFN(LN(y))
    Encoder        token embedding * sqrt(d_model) + positional encoding -> N encoder layers
    Decoder        same for the target prefix -> N decoder layers -> linear -> logits
    Transformer    encoder + decoder; `forward` returns logits and every attention weight;
                   decoding runs one new position per step (key/value cache, lmcore.kv_cache)

Layer parameters are named like torch.nn.TransformerEncoderLayer / TransformerDecoderLayer,
so their state dicts copy over exactly.
Attention weights are returned, never stored on modules.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor, nn

from lmcore.kv_cache import DecoderCache, TransformerMemory, TransformerStep
from lmcore.positional import make_positional
from lmcore.record import AttentionMaps, AttentionTrace
from lmcore.translation.text import BOS_ID, EOS_ID, PAD_ID
from lmcore.transformer_layers import (DecoderLayer, EncoderLayer, HeadMask, run_layers, source_mask,
                                       target_mask)


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


class Transformer(nn.Module):
    """Encoder–decoder Transformer.

    Training: forward(src, src_lengths, tgt_in) -> logits, the fused fast path.
    Views: forward_with_weights(src, tgt_in) -> logits and every attention weight.
    Decoding: encode / init_state / step / reorder_* (the protocol of lmcore.translation.decoding);
    the state is a DecoderCache, so each step runs only the new position (PrefixDecoder is
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


class PrefixDecoder:
    """The uncached reference (how Transformer.step worked before its cache): the state is
    the target prefix (B, t) ids, re-run through the whole decoder at every step. For tests
    and bench/transformer_decoding.py. layer_maps=True also returns every layer's rows of
    the new position (all layers take the explicit path; by default only the last does)."""

    def __init__(self, model: Transformer, layer_maps: bool = False) -> None:
        self.model, self.layer_maps = model, layer_maps
        self.bos_id, self.eos_id = model.bos_id, model.eos_id
        self.encode, self.reorder_memory = model.encode, model.reorder_memory

    def init_state(self, memory: TransformerMemory) -> Tensor:
        return memory.src.new_zeros((memory.src.size(0), 0))  # (B, 0): nothing written yet

    def step(self, memory: TransformerMemory, state: Tensor, prev: Tensor) -> TransformerStep:
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


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
