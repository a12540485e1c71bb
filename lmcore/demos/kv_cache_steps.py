"""The key/value cache, step by step, for the from-scratch Transformer translator.

Prefill: the encoder runs once over the source and every decoder layer's cross-attention keys
and values are computed from its output once (the cache's fixed part). Then each step feeds
one new target position: one query row per layer and head attends to the cached keys of the
positions so far, and the position's own key and value are appended (lmcore.kv_cache).
The uncached reference (lmcore.transformer.PrefixDecoder) re-runs the whole prefix each step;
its rows are compared with the cached ones, and both are timed here, on the spot.

    translator_steps(translator, text) -> lmcore.kv_cache.CacheSteps
"""
from __future__ import annotations

import numpy as np
import torch

from lmcore.kv_cache import CacheSteps, best_seconds, tensors_bytes
from lmcore.record import AttentionMaps
from lmcore.transformer import PrefixDecoder, Transformer
from lmcore.translation.ablation import as_transformer
from lmcore.translation.decoding import allowed_logits, default_max_len, greedy_decode
from lmcore.translation.translators import Translator


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
