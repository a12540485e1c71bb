"""The numbers behind the page "Attention: score, weight, context vector" (chapter 10.2).

One decoder state s (the query) looks at a few encoder states h_1..h_n (the keys,
which are also the values here, as in Bahdanau et al. 2015):

    score    e_j = score(s, h_j)          (dot, scaled dot, general, additive)
    scale    e_j <- e_j / sqrt(d)         (optional; always on for "scaled_dot")
    weight   a_j = softmax_j(e_j)         over the positions that are not masked
    context  c   = sum_j a_j h_j

Everything is computed with `lmcore.attention` in float64, so scores of +-1e4
give exact, finite weights. Bad input raises `UserFacingError("attn.err.*")`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from lmcore.attention import (AdditiveScore, GeneralScore, SCORE_FUNCTIONS, context_vector,
                              dot_score, masked_softmax)
from lmcore.errors import UserFacingError
from lmcore.record import AttentionMaps

SCORE_NAMES: tuple[str, ...] = ("dot", "scaled_dot", "general", "additive")
MAX_STATES = 8          # encoder states the demo accepts
MAX_DIM = 8             # vector size the demo accepts
MAX_ABS_VALUE = 1e6     # larger inputs would overflow the scores
MAX_LABEL_CHARS = 20    # longer word labels are cut
PARAM_SEED = 7          # fixed seed of the general/additive parameter matrices
D_HIDDEN = 3            # hidden size of the additive score (v_a has this length)


@dataclass(frozen=True)
class ScoreDemoResult:
    """Every intermediate number of one attention step (n positions, d dimensions).

    raw_scores:    (n,) score(s, h_j) before scaling (computed for masked positions too)
    scaled_scores: (n,) raw / sqrt(d_k) when scaling is on, else None
    weights:       (n,) softmax over unmasked positions; masked positions are exactly 0
    terms:         (n, d) a_j * h_j
    context:       (d,) sum of the terms
    parameters:    name -> matrix of the learned score (W_a, U_a, v_a), fixed seed
    """

    score_name: str
    scaled: bool
    labels: tuple[str, ...]
    decoder_state: np.ndarray
    encoder_states: np.ndarray
    mask: np.ndarray            # (n,) bool, True = may attend
    raw_scores: np.ndarray
    scaled_scores: np.ndarray | None
    weights: np.ndarray
    terms: np.ndarray
    context: np.ndarray
    parameters: dict[str, np.ndarray]

    @property
    def scores(self) -> np.ndarray:
        """The scores that go into the softmax."""
        return self.raw_scores if self.scaled_scores is None else self.scaled_scores

    def to_maps(self) -> AttentionMaps:
        """The weights as the attention record: one query (the decoder state), kind "cross"."""
        return AttentionMaps(self.weights.reshape(1, 1, 1, -1), ("s",), self.labels, "cross")

    def table(self, decimals: int = 4) -> list[dict[str, object]]:
        """One row per encoder state: label, masked, score(s), weight, weight x value (rounded)."""
        rows = []
        for j, label in enumerate(self.labels):
            row: dict[str, object] = {"label": label, "masked": not bool(self.mask[j]),
                                      "score": round(float(self.raw_scores[j]), decimals)}
            if self.scaled_scores is not None:
                row["scaled_score"] = round(float(self.scaled_scores[j]), decimals)
            row["weight"] = round(float(self.weights[j]), decimals)
            row["term"] = [round(float(x), decimals) for x in self.terms[j]]
            rows.append(row)
        return rows


@dataclass(frozen=True)
class Preset:
    """A ready-made example: labels (per language for sentence presets) and vectors."""

    name: str
    labels: dict[str, tuple[str, ...]]
    decoder_state: tuple[float, ...]
    encoder_states: tuple[tuple[float, ...], ...]
    score_name: str = "dot"


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("sentence", {"en": ("I", "love", "you"), "ko": ("나는", "너를", "사랑해")},
           (0.3, 1.0), ((1.0, 0.2), (0.2, 1.0), (-0.8, 0.4))),
    Preset("basic", {}, (1.0, 0.5), ((1.0, 0.0), (0.0, 1.0), (0.6, 0.6), (-1.0, 0.2))),
    Preset("equal", {}, (0.0, 0.0), ((1.0, 2.0), (-1.0, 0.5), (0.5, -1.5))),
    Preset("large", {}, (100.0, 0.0), ((100.0, 0.0), (99.9, 5.0), (-100.0, 0.0))),
    Preset("four_d", {}, (1.0, 0.0, 1.0, 0.0),
           ((1.0, 0.0, 1.0, 0.0), (0.0, 1.0, 0.0, 1.0), (1.0, 1.0, 0.0, 0.0))),
)}


def preset_labels(preset: Preset, lang: str = "en") -> tuple[str, ...]:
    """Word labels in `lang` for sentence presets, else h1, h2, ..."""
    if preset.labels:
        return preset.labels.get(lang, preset.labels["en"])
    return default_labels(len(preset.encoder_states))


def default_labels(n: int) -> tuple[str, ...]:
    return tuple(f"h{j + 1}" for j in range(n))


# ---------------------------------------------------------------- validation

def parse_number(value: object, where: str) -> float:
    """A finite float from a table cell or text field; `where` names the cell in messages."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise UserFacingError("attn.err.empty_cell", where=where)
    if isinstance(value, bool):
        raise UserFacingError("attn.err.not_a_number", where=where, value=str(value))
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise UserFacingError("attn.err.not_a_number", where=where, value=value[:20]) from None
    else:
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise UserFacingError("attn.err.not_a_number", where=where,
                                  value=str(value)[:20]) from None
    if math.isnan(number) and not isinstance(value, str):
        raise UserFacingError("attn.err.empty_cell", where=where)  # an emptied table cell
    if not math.isfinite(number):
        raise UserFacingError("attn.err.not_finite", where=where)
    if abs(number) > MAX_ABS_VALUE:
        raise UserFacingError("attn.err.too_large", where=where, limit=f"{MAX_ABS_VALUE:g}")
    return number


def parse_vector(values: Sequence[object], where: str) -> np.ndarray:
    """(d,) float64 from a row of cells."""
    if len(values) == 0:
        raise UserFacingError("attn.err.empty_vector", where=where)
    if len(values) > MAX_DIM:
        raise UserFacingError("attn.err.too_many_dims", limit=MAX_DIM)
    return np.array([parse_number(v, f"{where}[{i + 1}]") for i, v in enumerate(values)])


def clean_labels(labels: Sequence[object] | None, n: int) -> tuple[str, ...]:
    """One short display label per encoder state; blanks become h1, h2, ..."""
    defaults = default_labels(n)
    labels = list(labels or [])[:n] + [None] * max(0, n - len(labels or []))
    out = []
    for j, label in enumerate(labels):
        text = "" if label is None or (isinstance(label, float) and math.isnan(label)) else str(label)
        text = " ".join(text.split())[:MAX_LABEL_CHARS].rstrip()
        out.append(text or defaults[j])
    return tuple(out)


def _check_shapes(query: np.ndarray, keys: np.ndarray, score_name: str) -> None:
    if score_name in ("dot", "scaled_dot") and query.shape[0] != keys.shape[1]:
        raise UserFacingError("attn.err.dim_mismatch", d_query=query.shape[0], d_key=keys.shape[1])


# ---------------------------------------------------------------- parameters

def score_parameters(score_name: str, d_query: int, d_key: int) -> dict[str, np.ndarray]:
    """Fixed, small, rounded parameter matrices for the learned scores (same every call).

    general:  W_a (d_query, d_key)                 score = s^T W_a h
    additive: W_a (D_HIDDEN, d_query), U_a (D_HIDDEN, d_key), v_a (D_HIDDEN,)
              score = v_a^T tanh(W_a s + U_a h)
    """
    gen = torch.Generator().manual_seed(PARAM_SEED)

    def matrix(*shape: int) -> np.ndarray:
        return np.round((torch.rand(*shape, generator=gen, dtype=torch.float64) * 2 - 1).numpy(), 1)

    if score_name == "general":
        return {"W_a": matrix(d_query, d_key)}
    if score_name == "additive":
        return {"W_a": matrix(D_HIDDEN, d_query), "U_a": matrix(D_HIDDEN, d_key),
                "v_a": matrix(D_HIDDEN)}
    return {}


def _score_module(score_name: str, params: dict[str, np.ndarray], d_query: int, d_key: int):
    """The lmcore.attention score with the fixed parameters loaded (float64)."""
    if score_name == "general":
        module = GeneralScore(d_query, d_key).double()
        module.W_a.weight.data = torch.from_numpy(params["W_a"].T.copy())  # Linear: x W_a
        return module
    if score_name == "additive":
        module = AdditiveScore(d_query, d_key, D_HIDDEN).double()
        module.W_a.weight.data = torch.from_numpy(params["W_a"].copy())
        module.U_a.weight.data = torch.from_numpy(params["U_a"].copy())
        module.v_a.weight.data = torch.from_numpy(params["v_a"][None, :].copy())
        return module
    return dot_score  # dot and scaled_dot: the scaling is its own visible step


# ---------------------------------------------------------------- the computation

def compute(decoder_state: Sequence[object], encoder_states: Sequence[Sequence[object]],
            score_name: str = "dot", scale: bool = False,
            masked_positions: Sequence[int] = (), labels: Sequence[object] | None = None
            ) -> ScoreDemoResult:
    """Score -> (scale) -> masked softmax -> weighted sum for one decoder state.

    decoder_state: d_q cells; encoder_states: n rows of d_k cells (numbers or numeric text);
    masked_positions: 0-based encoder positions the decoder may not attend to.
    "scaled_dot" is "dot" with scaling always on.
    """
    if score_name not in SCORE_FUNCTIONS:
        raise UserFacingError("attn_core.err.unknown_score", name=str(score_name)[:30],
                              choices=", ".join(SCORE_NAMES))
    n = len(encoder_states)
    if n == 0:
        raise UserFacingError("attn.err.no_states")
    if n > MAX_STATES:
        raise UserFacingError("attn.err.too_many_states", limit=MAX_STATES)
    query = parse_vector(decoder_state, "s")
    rows = [parse_vector(row, f"h{j + 1}") for j, row in enumerate(encoder_states)]
    if len({len(r) for r in rows}) != 1:
        raise UserFacingError("attn.err.ragged")
    keys = np.stack(rows)  # (n, d_k)
    _check_shapes(query, keys, score_name)
    mask = np.ones(n, dtype=bool)
    for p in masked_positions:
        if not 0 <= int(p) < n:
            raise UserFacingError("attn.err.bad_position", position=int(p) + 1, n=n)
        mask[int(p)] = False
    if not mask.any():
        raise UserFacingError("attn.err.all_masked")
    return _run(query, keys, score_name, scale or score_name == "scaled_dot", mask,
                clean_labels(labels, n))


def _run(query: np.ndarray, keys: np.ndarray, score_name: str, scale: bool,
         mask: np.ndarray, labels: tuple[str, ...]) -> ScoreDemoResult:
    d_q, d_k = query.shape[0], keys.shape[1]
    params = score_parameters(score_name, d_q, d_k)
    q, k = torch.from_numpy(query)[None, :], torch.from_numpy(keys)  # (1, d_q), (n, d_k)
    with torch.inference_mode():
        raw = _score_module(score_name, params, d_q, d_k)(q, k)  # (1, n)
        scaled = raw / math.sqrt(d_k) if scale else None
        used = raw if scaled is None else scaled
        if not torch.isfinite(used).all():
            raise UserFacingError("attn.err.overflow")
        weights = masked_softmax(used, torch.from_numpy(mask)[None, :])  # (1, n)
        context = context_vector(weights, k)  # (1, d_k)
    w = weights[0].numpy()
    return ScoreDemoResult(
        score_name=score_name, scaled=scale, labels=labels, decoder_state=query,
        encoder_states=keys, mask=mask, raw_scores=raw[0].numpy(),
        scaled_scores=None if scaled is None else scaled[0].numpy(), weights=w,
        terms=w[:, None] * keys, context=context[0].numpy(), parameters=params)


def compute_preset(name: str, lang: str = "en", score_name: str | None = None,
                   scale: bool = False, masked_positions: Sequence[int] = ()) -> ScoreDemoResult:
    """`compute` on a named preset (see PRESETS)."""
    if name not in PRESETS:
        raise UserFacingError("attn.err.unknown_preset", name=str(name)[:30],
                              choices=", ".join(PRESETS))
    p = PRESETS[name]
    return compute(p.decoder_state, p.encoder_states, score_name or p.score_name, scale,
                   masked_positions, preset_labels(p, lang))
