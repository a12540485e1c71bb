"""Generation with a GPT-style model, token by token, each step's choice, rivals and attention.

    generate_trace(lm, prompt, steps=20, top_k=10, temperature=1.0, seed=0, greedy=False,
                   top_p=1.0, min_tokens=0) -> GenerationTrace
    new_token_maps(step.attention, key_tokens, row_label) -> AttentionMaps   (one row per head)

Every function also accepts a model name instead of a LoadedModel; bad input and models of the
wrong kind raise lmcore.errors.UserFacingError.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from lmcore.notices import Notice
from lmcore.pretrained.encoding import (
    AttentionResult,
    Encoded,
    encode,
    forward_attention,
    wordpiece_causal,
)
from lmcore.pretrained.loading import LoadedModel, as_loaded, require_kind
from lmcore.pretrained.predict import Prediction, _top
from lmcore.record import AttentionMaps, AttentionTrace


@dataclass(frozen=True)
class GenerationStep:
    chosen: Prediction                 # the token added at this step
    rivals: tuple[Prediction, ...]     # the top-k it was drawn from (chosen included), the model's own p
    position: int                      # index of the new token in the final text
    attention: np.ndarray              # (layers, heads, position + 1): its row in the final map


@dataclass(frozen=True)
class GenerationTrace:
    steps: tuple[GenerationStep, ...]
    final: AttentionResult             # one forward pass on prompt + generated tokens (square map)
    text: str                          # prompt + generated text
    notices: tuple[Notice, ...]


def new_token_maps(attention: np.ndarray, key_tokens: Sequence[str],
                   row_label: Callable[[int, int], str]) -> AttentionMaps:
    """One generated token's attention, every (layer, head) as a row: (1, 1, L*H, k).

    attention: (layers, heads, k), a GenerationStep's `attention` (its row of the final causal
    map); row_label(layer, head) names each row (the page passes a translated label).
    """
    layers, heads, k = attention.shape
    rows = attention.reshape(1, 1, layers * heads, k)
    labels = [row_label(layer, head) for layer in range(layers) for head in range(heads)]
    return AttentionMaps(rows, tuple(labels), tuple(key_tokens[:k]), "cross")


def generate_trace(model: LoadedModel | str, prompt: str, steps: int = 20, top_k: int = 10,
                   temperature: float = 1.0, seed: int = 0, greedy: bool = False,
                   top_p: float = 1.0, min_tokens: int = 0) -> GenerationTrace:
    """Generate token by token, keeping each step's choice and rivals.

    A fixed seed makes a longer run extend a shorter one (step i is the same). A WordPiece
    causal LM stops once it chooses [SEP] (end of sentence; that step is kept), but not before
    `min_tokens` tokens: until then [SEP] is not offered.
    The square causal map comes from one forward pass on the final text; a step's
    attention is the new token's row there (identical to the incremental pass).
    """
    lm = as_loaded(model)
    require_kind(lm, "causal-lm")
    enc = encode(lm, prompt)
    ids = list(enc.input_ids)
    room = max(0, min(int(steps), lm.max_length - len(ids)))
    gen = torch.Generator().manual_seed(int(seed))
    chosen: list[tuple[Prediction, tuple[Prediction, ...]]] = []
    stop = lm.tokenizer.sep_token_id if wordpiece_causal(lm) else None
    with lm.lock:
        previous = lm.tokenizer.convert_ids_to_tokens(ids[-1]) if ids else None
    with torch.inference_mode():
        for _ in range(room):
            logits = lm.model(input_ids=torch.tensor([ids])).logits[0, -1]  # (vocab,)
            if len(chosen) < min_tokens and stop is not None:
                logits[stop] = -float("inf")  # not yet: the sentence may not end so soon
            rivals = _top(lm, logits, top_k, temperature, previous=previous, top_p=top_p)
            pick = 0 if greedy else int(torch.multinomial(
                torch.tensor([r.probability for r in rivals]), 1, generator=gen))
            chosen.append((rivals[pick], rivals))
            ids.append(rivals[pick].token_id)
            with lm.lock:
                previous = lm.tokenizer.convert_ids_to_tokens(ids[-1])
            if ids[-1] == stop:
                break
    final = _extend(lm, enc, [c for c, _ in chosen])
    start = len(enc.input_ids)
    steps_out = tuple(GenerationStep(c, r, start + i, final.maps.weights[:, :, start + i, : start + i + 1])
                      for i, (c, r) in enumerate(chosen))
    if stop is not None:  # pieces joined as words; [SEP] adds nothing
        text = prompt + "".join(c.token for c, _ in chosen)
    else:
        with lm.lock:
            text = prompt + lm.tokenizer.decode([c.token_id for c, _ in chosen])
    ended = bool(chosen) and chosen[-1][0].token_id == stop
    notices = enc.notices + ((Notice("lm.notice.context_full", {"limit": lm.max_length}),) if room < steps and not ended else ())
    notices += (Notice("lm.notice.sentence_end"),) if ended else ()
    return GenerationTrace(steps_out, final, text, notices)


def _extend(lm: LoadedModel, enc: Encoded, new: list[Prediction]) -> AttentionResult:
    """The prompt's encoding plus generated tokens (kept as ids, never re-tokenised),
    and one forward pass over all of them for the square causal map."""
    g = len(new)
    stop = lm.tokenizer.sep_token_id if wordpiece_causal(lm) else None
    words, last = list(enc.word_ids), (enc.word_ids[-1] if enc.word_ids else -1)
    for p in new:
        last += 1 if (p.token[:1].isspace() or not words or p.token_id == stop) else 0
        words.append(last)
    with lm.lock:
        pieces = tuple(lm.tokenizer.convert_ids_to_tokens([p.token_id for p in new]))
    full = Encoded(enc.input_ids + [p.token_id for p in new], None, enc.raw_tokens + pieces,
                   enc.tokens + tuple(p.display for p in new), enc.offsets + ((0, 0),) * g,
                   enc.segments + (0,) * g, enc.special + tuple(p.token_id == stop for p in new), tuple(words), enc.notices,
                   enc.texts)
    maps = AttentionMaps(forward_attention(lm, full), full.tokens, full.tokens, "causal")
    return AttentionResult(maps, AttentionTrace({"decoder": maps}), full, full.notices)
