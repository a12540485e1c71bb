"""The key/value cache, step by step, for the from-scratch Transformer translator.

Prefill: the encoder runs once over the source and every decoder layer's cross-attention keys
and values are computed from its output once (the cache's fixed part). Then each step feeds
one new target position: one query row per layer and head attends to the cached keys of the
positions so far, and the position's own key and value are appended (lmcore.transformer's DecoderCache).
The uncached reference (PrefixDecoder, below) re-runs the whole prefix each step;
its rows are compared with the cached ones, and both are timed here, on the spot.

    translator_steps(translator, text) -> lmcore.record.CacheSteps
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from lmcore.record import AttentionMaps, CacheSteps, tensors_bytes
from lmcore.timing import best_seconds
from lmcore.transformer import Transformer, TransformerMemory, TransformerStep
from lmcore.translation.decoding import allowed_logits, default_max_len, greedy_decode
from lmcore.translation.heads_off import as_transformer
from lmcore.translation.translators import Translator


class PrefixDecoder:
    """The uncached reference (how Transformer.step worked before its cache): the state is
    the target prefix (B, t) ids, re-run through the whole decoder at every step: this page's
    "without the cache", the tests and bench/transformer_decoding.py. layer_maps=True also
    returns every layer's rows of the new position (all layers take the explicit path; by
    default only the last does)."""

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


@torch.inference_mode()
def _decode_rows(model, src: torch.Tensor, max_len: int) -> tuple[list[int], list[np.ndarray], list]:
    """Greedy decoding; per step the new position's self-attention rows (layers, H, t) and,
    for the cached model, the cache after the step."""
    memory = model.encode(src, None)
    state, prev = model.init_state(memory), torch.tensor([model.bos_id])
    tokens, rows, caches = [model.bos_id], [], []
    for _ in range(max_len):
        out = model.step(memory, state, prev)
        rows.append(out.self_weights[0].float().numpy())      # (layers, H, t)
        state, prev = out.state, allowed_logits(out.logits).argmax(-1)
        caches.append(state)
        if int(prev) == model.eos_id:
            break
        tokens.append(int(prev))
    return tokens, rows, caches


def _square(rows: list[np.ndarray]) -> np.ndarray:
    """Rows (layers, H, t) for t = 1..T -> (layers, H, T, T), zeros above the diagonal."""
    n = len(rows)
    out = np.zeros(rows[0].shape[:2] + (n, n), np.float32)
    for t, row in enumerate(rows):
        out[:, :, t, : t + 1] = row
    return out


def translator_steps(translator: Translator | str, text: str) -> CacheSteps:
    """The translator's greedy decoding of `text`, one position per step, with its cache."""
    tr = as_transformer(translator)
    model: Transformer = tr.model
    model.eval()
    enc = tr.encode(text)
    src, max_len = torch.tensor([enc.ids]), default_max_len(len(enc.ids))
    tokens, rows, caches = _decode_rows(model, src, max_len)
    _, ref_rows, _ = _decode_rows(PrefixDecoder(model, layer_maps=True), src, max_len)
    cached, uncached = _square(rows), _square(ref_rows[: len(rows)])
    words = [tr.ckpt.tgt_vocab.itos[i] for i in tokens]
    words += ["<eos>"] * (len(rows) - len(words))  # the step that wrote <eos> has a row too
    maps = AttentionMaps(cached, tuple(words), tuple(words), "causal")
    cfg = model.config
    first = caches[0]
    reference = PrefixDecoder(model)
    return CacheSteps(
        maps, 1, cfg.d_model // cfg.n_heads, first.self_kv[0][0].element_size(),
        tuple(tensors_bytes(c.self_kv) for c in caches), tensors_bytes(first.cross_kv),
        float(np.abs(cached - uncached).max()),
        best_seconds(lambda: greedy_decode(model, enc.ids, max_len)),
        best_seconds(lambda: greedy_decode(reference, enc.ids, max_len)), len(rows))
