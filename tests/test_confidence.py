"""lmcore.translation.confidence: the model's own confidence, its verdict, its calibration."""
from __future__ import annotations

import json
import math

import pytest

from lmcore.translation.confidence import (NEVER_RIGHT, Thresholds, calibrate, confidence, halves_ratio,
                                           read_thresholds, verdict)
from lmcore.translation.translators import load_translator


class _Step:
    def __init__(self, prob):
        self.prob = prob


class _Result:
    def __init__(self, probs):
        self.steps = [_Step(p) for p in probs]


def test_confidence_is_the_geometric_mean_of_the_chosen_probabilities():
    assert confidence(_Result([0.5, 0.5])) == pytest.approx(0.5)
    assert confidence(_Result([0.9, 0.1])) == pytest.approx(math.sqrt(0.09))
    assert confidence(_Result([])) == 0.0


def test_verdicts_and_thresholds_file(tmp_path):
    th = Thresholds(0.7, 0.3)
    assert [verdict(c, th) for c in (0.9, 0.7, 0.5, 0.29)] == ["likely-right", "likely-right", "unsure", "likely-wrong"]
    assert verdict(0.9, None) is None and read_thresholds(tmp_path) is None
    (tmp_path / "confidence.json").write_text(json.dumps(th.to_dict()))
    assert read_thresholds(tmp_path) == th
    (tmp_path / "confidence.json").write_text("{broken")
    assert read_thresholds(tmp_path) is None


def test_calibration_finds_the_two_ends():
    confidences = [i / 100 for i in range(100)]
    bleus = [0.0] * 40 + [30.0] * 30 + [80.0] * 30   # wrong below 0.4, right from 0.7
    th = calibrate(confidences, bleus)
    assert 0.55 <= th.likely_right <= 0.7 and 0.4 <= th.likely_wrong <= 0.45
    assert halves_ratio(confidences, bleus)["ratio"] > 2


def test_a_model_that_is_seldom_right_is_never_called_right():
    th = calibrate([i / 50 for i in range(50)], [10.0] * 50)
    assert th.likely_right == NEVER_RIGHT and verdict(1.0, th) == "likely-wrong"
    with pytest.raises(ValueError):
        calibrate([0.5] * 3, [1.0] * 3)


def test_translations_carry_confidence_in_one_by_one_and_batch_runs():
    tr = load_translator("tf-en-fr")
    result = tr.translate("the cat is here .")
    assert 0 < result.confidence <= 1 and result.to_dict()["confidence"] == round(result.confidence, 4)
    batch: list[float] = []
    tr.translate_batch(["the cat is here ."], confidences=batch)
    assert batch[0] == pytest.approx(result.confidence, abs=1e-4)
