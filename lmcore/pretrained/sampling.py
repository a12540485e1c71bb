"""Sampling the next token: temperature, top-k and top-p (nucleus, Holtzman et al. 2020).

Pure tensor maths on one row of logits (no model, no tokenizer), used by
`lmcore.pretrained.predict` (generation) and `lmcore.pretrained.nucleus` (the GPT page's bars).

    p_T = softmax(logits / T)                       over the tokens the model may offer
    nucleus(P) = the smallest most-likely-first prefix of p_T whose sum reaches P
    sampled from: top-k ∩ nucleus, renormalised

Both top-k and the nucleus are prefixes of the same order, so their intersection is the
shorter of the two. P = 1 keeps every token; a tiny P keeps the most likely one.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from lmcore.errors import UserFacingError

MIN_TEMPERATURE = 1e-4


def check_sampling(top_k: int, temperature: float, top_p: float = 1.0) -> None:
    """Raise a translated error for T <= 0 or k < 1 ('lm.err.sampling'), or P outside (0, 1]."""
    if not temperature > 0 or int(top_k) < 1:
        raise UserFacingError("lm.err.sampling")
    if not 0 < top_p <= 1:
        raise UserFacingError("inside.err.top_p", value=top_p)


def tempered(logits: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(p_T sorted most likely first (V,), float64, and their token ids (V,)).

    logits: (V,); a token set to -inf (one the model never offers) gets probability 0
    and sorts last.
    """
    scaled = logits.double() / max(float(temperature), MIN_TEMPERATURE)
    probs = torch.softmax(scaled, dim=-1)
    order = torch.argsort(probs, descending=True, stable=True)
    return probs[order], order


def nucleus_size(sorted_probs: torch.Tensor, top_p: float) -> int:
    """Length of the smallest prefix of sorted_probs (V,) whose sum reaches top_p (>= 1).

    P >= 1 keeps every token with a probability above 0 (float sums may stop short of 1).
    """
    offered = int((sorted_probs > 0).sum())
    if top_p >= 1:
        return max(1, offered)
    cumulative = torch.cumsum(sorted_probs, dim=-1)
    first = int(torch.searchsorted(cumulative, torch.tensor([float(top_p)], dtype=cumulative.dtype)))
    return max(1, min(first + 1, offered))


@dataclass(frozen=True)
class Distribution:
    """The next-token distribution at one temperature, with its nucleus and top-k."""
    ids: torch.Tensor             # (V,) token ids, most likely first
    probabilities: torch.Tensor   # (V,) p_T before renormalising (float64), same order
    nucleus: int                  # tokens in the nucleus (a prefix of `ids`)
    kept: int                     # tokens sampled from: min(top_k, nucleus)

    @property
    def nucleus_probability(self) -> float:
        """Sum of p_T over the nucleus (>= top_p, unless P = 1 and float sums fall short)."""
        return float(self.probabilities[: self.nucleus].sum())

    def sampling_probabilities(self) -> torch.Tensor:
        """(kept,) the distribution one samples from: p_T over top-k ∩ nucleus, renormalised."""
        kept = self.probabilities[: self.kept]
        return kept / kept.sum()


def distribution(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 10,
                 top_p: float = 1.0) -> Distribution:
    """Temperature, then the nucleus on p_T, then top-k: logits (V,) -> Distribution."""
    check_sampling(top_k, temperature, top_p)
    probs, ids = tempered(logits, temperature)
    size = nucleus_size(probs, top_p)
    return Distribution(ids, probs, size, max(1, min(int(top_k), size)))
