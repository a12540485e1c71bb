"""The next-token bars from one model call: logits once, then any temperature, top-k and top-p.

The GPT page caches `next_token_logits` per (model, text) and redraws the bars with
`next_token_view` when a sampling control moves: the model never runs again.

    logits = next_token_logits("tiny-gpt2", "To be or")
    view = next_token_view("tiny-gpt2", logits, top_k=10, temperature=0.8, top_p=0.9)
    view.candidates[0].in_nucleus, view.nucleus_probability
    nucleus_predictions("tiny-gpt2", logits, temperature=1.0, top_p=0.9)   # the whole nucleus
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lmcore.notices import Notice
from lmcore.pretrained import sampling
from lmcore.pretrained.encoding import Encoded, encode, model_inputs
from lmcore.pretrained.loading import LoadedModel, as_loaded, require_kind
from lmcore.pretrained.predict import Prediction, _not_offered, _prediction

MAX_NUCLEUS_LISTED = 50_000  # P = 1 lists the whole vocabulary (GPT-2: 50,257 tokens)


@dataclass(frozen=True)
class NextTokenLogits:
    """One forward pass on the prompt: the last position's logits."""
    logits: np.ndarray            # (vocab,) float32; tokens the model never offers are -inf
    encoded: Encoded
    previous: str | None          # the prompt's last vocabulary piece (WordPiece joining)
    notices: tuple[Notice, ...]


@dataclass(frozen=True)
class Candidate:
    """One of the top-k bars."""
    prediction: Prediction        # probability: p_T, the model's at this temperature, before renormalising
    in_nucleus: bool
    sampled_probability: float    # in the distribution one samples from (0 outside top-k ∩ nucleus)


@dataclass(frozen=True)
class NucleusView:
    candidates: tuple[Candidate, ...]   # the top-k, most likely first
    nucleus_size: int                   # tokens in the nucleus (may exceed top-k)
    nucleus_probability: float          # sum of p_T over the nucleus (>= top_p)
    predictions: tuple[Prediction, ...]  # top-k ∩ nucleus renormalised: what a sample is drawn from
    top_p: float


def next_token_logits(model: LoadedModel | str, text: str) -> NextTokenLogits:
    """logits (vocab,) of p(x_{t+1} | x_<=t) for a causal LM, one forward pass."""
    lm = as_loaded(model)
    require_kind(lm, "causal-lm")
    enc = encode(lm, text)
    with torch.inference_mode():
        logits = lm.model(**model_inputs(enc)).logits[0, -1].float().numpy().copy()  # (vocab,)
    logits[_not_offered(lm)] = -np.inf
    previous = enc.raw_tokens[-1] if enc.raw_tokens else None
    return NextTokenLogits(logits, enc, previous, enc.notices)


def next_token_view(model: LoadedModel | str, cached: NextTokenLogits, top_k: int = 10,
                    temperature: float = 1.0, top_p: float = 1.0) -> NucleusView:
    """The top-k bars at (T, k, P), marked in/out of the nucleus; no model call."""
    lm = as_loaded(model)
    dist = sampling.distribution(torch.from_numpy(cached.logits), temperature, top_k, top_p)
    sampled = dist.sampling_probabilities()
    shown = min(int(top_k), int((dist.probabilities > 0).sum()))
    candidates, predictions = [], []
    for i in range(max(1, shown)):
        token_id, p = int(dist.ids[i]), float(dist.probabilities[i])
        pred = _prediction(lm, token_id, p, cached.previous)
        q = float(sampled[i]) if i < dist.kept else 0.0
        candidates.append(Candidate(pred, i < dist.nucleus, q))
        if i < dist.kept:
            predictions.append(Prediction(pred.token, pred.display, token_id, q))
    return NucleusView(tuple(candidates), dist.nucleus, dist.nucleus_probability, tuple(predictions),
                       float(top_p))


def nucleus_predictions(model: LoadedModel | str, cached: NextTokenLogits, temperature: float = 1.0,
                        top_p: float = 1.0) -> tuple[tuple[Prediction, ...], float]:
    """(the nucleus, most likely first, each with p_T before renormalising; their sum)."""
    lm = as_loaded(model)
    dist = sampling.distribution(torch.from_numpy(cached.logits), temperature, 1, top_p)
    n = min(dist.nucleus, MAX_NUCLEUS_LISTED)
    listed = tuple(_prediction(lm, int(dist.ids[i]), float(dist.probabilities[i]), cached.previous)
                   for i in range(n))
    return listed, dist.nucleus_probability
