"""The key/value cache, step by step, for a GPT model (transformers' cache, formerly past_key_values).

Prefill: one forward pass over the whole prompt computes every layer's keys and values of
its n positions (and the prompt's square causal map). Each step then feeds one new token:
per layer and head one query row attends to the t cached keys, and the token's key and
value are appended. The uncached reference is one forward pass over the final text; its
rows are compared with the cached ones, and greedy decoding with and without the cache is
timed here, on the spot.

    gpt_steps(model, prompt, steps=8) -> lmcore.record.CacheSteps
"""
from __future__ import annotations

import numpy as np
import torch

from lmcore.pretrained.encoding import encode, stack_attentions, wordpiece_causal
from lmcore.pretrained.loading import LoadedModel, as_loaded, require_kind
from lmcore.pretrained.predict import _not_offered, _prediction
from lmcore.record import AttentionMaps, CacheSteps
from lmcore.timing import best_seconds

MAX_STEPS = 16


def _cache_tensors(cache) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(keys, values) (B, H, t, d_head) per layer of a transformers cache."""
    return [(layer.keys, layer.values) for layer in cache.layers]


def _next(lm: LoadedModel, logits: torch.Tensor) -> int:
    """The greedy next token (vocab,) -> id, never a token the model does not offer, and never
    [SEP]: the lesson decodes the number of tokens asked for (a WordPiece model would otherwise
    end its sentence after three or four, too few for the cache to pay off)."""
    logits = logits.float().clone()
    banned = _not_offered(lm) + ([lm.tokenizer.sep_token_id] if wordpiece_causal(lm) else [])
    if banned:
        logits[banned] = -float("inf")
    return int(logits.argmax())


@torch.inference_mode()
def _with_cache(lm: LoadedModel, ids: list[int], steps: int):
    """Prefill, then `steps` one-token steps. Returns ids, prefill map (L, H, n, n), per-step rows
    (L, H, t) and the cache's nbytes after each length."""
    out = lm.model(input_ids=torch.tensor([ids]), use_cache=True, output_attentions=True)
    prefill = stack_attentions(out.attentions, lm.n_layers, lm.name)
    cache, rows, ids = out.cache, [], list(ids)
    sizes = [sum(k[:, :, :t].nbytes + v[:, :, :t].nbytes for k, v in _cache_tensors(cache))
             for t in range(1, len(ids) + 1)]
    for _ in range(steps):
        ids.append(_next(lm, out.logits[0, -1]))
        if len(ids) > lm.max_length:
            ids.pop()
            break
        out = lm.model(input_ids=torch.tensor([ids[-1:]]), cache=cache, use_cache=True,
                       output_attentions=True)
        cache = out.cache
        rows.append(stack_attentions(out.attentions, lm.n_layers, lm.name)[:, :, 0])  # (L, H, t)
        sizes.append(sum(k.nbytes + v.nbytes for k, v in _cache_tensors(cache)))
    d_head = _cache_tensors(cache)[0][0].shape[-1]
    return ids, prefill, rows, sizes, d_head, _cache_tensors(cache)[0][0].element_size()


@torch.inference_mode()
def _greedy(lm: LoadedModel, ids: list[int], steps: int, cached: bool) -> list[int]:
    """Greedy decoding for timing: with the cache (one token per step) or re-running the prefix."""
    ids, cache = list(ids), None
    for _ in range(steps):
        if cached:
            feed = ids if cache is None else ids[-1:]
            out = lm.model(input_ids=torch.tensor([feed]), cache=cache, use_cache=True)
            cache = out.cache
        else:
            out = lm.model(input_ids=torch.tensor([ids]), use_cache=False)
        ids.append(_next(lm, out.logits[0, -1]))
    return ids


def gpt_steps(model: LoadedModel | str, prompt: str, steps: int = 8) -> CacheSteps:
    """Greedy decoding of `steps` tokens (at most MAX_STEPS) after `prompt`, kept step by step."""
    lm = as_loaded(model)
    require_kind(lm, "causal-lm")
    enc = encode(lm, prompt)
    steps = max(0, min(int(steps), MAX_STEPS, lm.max_length - len(enc.input_ids)))
    ids, prefill, rows, sizes, d_head, width = _with_cache(lm, enc.input_ids, steps)
    n, total = len(enc.input_ids), len(ids)
    cached = np.zeros(prefill.shape[:2] + (total, total), np.float32)
    cached[:, :, :n, :n] = prefill
    for i, row in enumerate(rows):
        cached[:, :, n + i, : n + i + 1] = row
    with torch.inference_mode():
        full = lm.model(input_ids=torch.tensor([ids]), output_attentions=True)
    uncached = stack_attentions(full.attentions, lm.n_layers, lm.name)
    with lm.lock:
        previous = lm.tokenizer.convert_ids_to_tokens(ids[n - 1]) if n else None
    new = [_prediction(lm, i, 1.0, previous).display for i in ids[n:]]
    labels = tuple(enc.tokens) + tuple(new)
    maps = AttentionMaps(cached, labels, labels, "causal")
    return CacheSteps(maps, n, int(d_head), int(width), tuple(sizes), 0,
                      float(np.abs(cached - uncached).max()),
                      best_seconds(lambda: _greedy(lm, enc.input_ids, len(rows), True)),
                      best_seconds(lambda: _greedy(lm, enc.input_ids, len(rows), False)), len(rows))
