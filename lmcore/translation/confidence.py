"""How sure a translator is of one translation, said before the class reads it.

    confidence(result) -> 0..1     the model's own: exp(mean log p(y_t | y_<t, x)) over the words it
                                   chose and its <eos>, the geometric mean of their probabilities
    verdict(conf, thresholds)      "likely-right" | "unsure" | "likely-wrong"
    calibrate(confidences, bleus)  the two thresholds, chosen on validation pairs

A model folder's `confidence.json` holds its thresholds, made on its own validation pairs by
`python -m scripts.calibrate_confidence MODEL` (never the test pairs): at or above `likely_right`
the validation translations had a mean sentence-BLEU of at least RIGHT_BLEU, below
`likely_wrong` at most WRONG_BLEU. A model without the file gives a confidence and no verdict.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

VERDICTS = ("likely-right", "unsure", "likely-wrong")
FILE = "confidence.json"
RIGHT_BLEU = 40.0   # mean sentence-BLEU (0-100) of the translations called likely right
WRONG_BLEU = 15.0   # ... and at most this for those called likely wrong
WINDOW = 0.1        # the local mean's window: a tenth of the validation translations
NEVER_RIGHT = 1.01  # a likely_right threshold no confidence reaches


@dataclass(frozen=True)
class Thresholds:
    likely_right: float   # confidence at or above: likely right
    likely_wrong: float   # confidence below: likely wrong (between the two: unsure)

    def to_dict(self) -> dict:
        return {"likely_right": round(self.likely_right, 4), "likely_wrong": round(self.likely_wrong, 4)}


def confidence(result) -> float:
    """The geometric mean probability of the chosen tokens (a TranslationResult's steps,
    <eos> included); 0 for an empty output."""
    probs = [max(step.prob, 1e-12) for step in result.steps]
    if not probs:
        return 0.0
    return math.exp(sum(math.log(p) for p in probs) / len(probs))


def verdict(conf: float, thresholds: Thresholds | None) -> str | None:
    if thresholds is None:
        return None
    if conf >= thresholds.likely_right:
        return VERDICTS[0]
    return VERDICTS[2] if conf < thresholds.likely_wrong else VERDICTS[1]


def read_thresholds(folder: str | Path) -> Thresholds | None:
    """A model folder's calibrated thresholds, or None (no file, or not a valid one)."""
    path = Path(folder) / FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Thresholds(float(data["likely_right"]), float(data["likely_wrong"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def calibrate(confidences: Sequence[float], bleus: Sequence[float]) -> Thresholds:
    """The two thresholds from the local mean sentence-BLEU along the confidence axis (a window
    of a tenth of the pairs, centred on each translation, sorted by confidence):
    likely_right is the lowest confidence from which every local mean up is at least RIGHT_BLEU,
    likely_wrong the highest below which every local mean is at most WRONG_BLEU. An end that no
    translation reaches is never said (likely_right above 1, likely_wrong 0): a model that is
    seldom right is never called right."""
    pairs = sorted(zip(confidences, bleus))
    n = len(pairs)
    if n < 10:
        raise ValueError("calibration needs at least 10 translations")
    half = max(2, math.ceil(WINDOW * n)) // 2
    windows = [[b for _, b in pairs[max(0, i - half):i + half + 1]] for i in range(n)]
    local = [sum(w) / len(w) for w in windows]
    right, wrong = NEVER_RIGHT, 0.0
    for i in range(n - 1, -1, -1):  # down from the most confident while it stays right
        if local[i] < RIGHT_BLEU:
            break
        right = pairs[i][0]
    for i in range(n):  # up from the least confident while it stays wrong
        if local[i] > WRONG_BLEU:
            break
        wrong = pairs[i + 1][0] if i + 1 < n else NEVER_RIGHT  # all wrong: every translation
    return Thresholds(right, min(wrong, right))


def halves_ratio(confidences: Sequence[float], bleus: Sequence[float]) -> dict:
    """Mean sentence-BLEU of the most confident half against the least confident half."""
    order = sorted(range(len(bleus)), key=lambda i: confidences[i])
    half = len(order) // 2
    low = [bleus[i] for i in order[:half]]
    high = [bleus[i] for i in order[len(order) - half:]]
    mean_low, mean_high = sum(low) / max(1, len(low)), sum(high) / max(1, len(high))
    return {"confident_half_bleu": round(mean_high, 2), "unsure_half_bleu": round(mean_low, 2),
            "ratio": round(mean_high / mean_low, 2) if mean_low > 0 else None, "n": len(order)}
