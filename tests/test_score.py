"""lmcore.demos.score: the numbers of one attention step, and every kind of bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lmcore.demos import score as score_demo
from lmcore.attention import attend, scaled_dot_score
from lmcore.errors import UserFacingError
from lmcore.i18n import catalog, translate

S = (1.0, 0.5)
H = ((1.0, 0.0), (0.0, 1.0), (0.6, 0.6))


def _error_key(**kwargs) -> str:
    with pytest.raises(UserFacingError) as info:
        score_demo.compute(**kwargs)
    return info.value.key


def test_dot_matches_hand_computation():
    r = score_demo.compute(S, H, "dot")
    np.testing.assert_allclose(r.raw_scores, [1.0, 0.5, 0.9])
    expected = np.exp([1.0, 0.5, 0.9]) / np.exp([1.0, 0.5, 0.9]).sum()
    np.testing.assert_allclose(r.weights, expected)
    np.testing.assert_allclose(r.terms, expected[:, None] * np.array(H))
    np.testing.assert_allclose(r.context, r.terms.sum(0))
    assert r.scaled_scores is None


@pytest.mark.parametrize("name", score_demo.SCORE_NAMES)
def test_every_score_gives_a_distribution(name):
    r = score_demo.compute(S, H, name)
    assert r.weights.sum() == pytest.approx(1.0) and (r.weights > 0).all()
    assert np.isfinite(r.context).all()
    maps = r.to_maps()
    assert maps.weights.shape == (1, 1, 1, 3) and maps.kind == "cross"


def test_scaling_divides_by_sqrt_d_and_equals_scaled_dot():
    plain = score_demo.compute(S, H, "dot")
    scaled = score_demo.compute(S, H, "dot", scale=True)
    np.testing.assert_allclose(scaled.scaled_scores, plain.raw_scores / math.sqrt(2))
    reference = scaled_dot_score(torch.tensor([S]), torch.tensor(H))[0].numpy()
    np.testing.assert_allclose(scaled.scores, reference)
    np.testing.assert_allclose(score_demo.compute(S, H, "scaled_dot").weights, scaled.weights)
    assert not np.allclose(plain.weights, scaled.weights)


def test_weights_equal_lmcore_attend():
    context, weights = attend(torch.tensor([S]), torch.tensor(H), torch.tensor(H), score="dot")
    r = score_demo.compute(S, H, "dot")
    np.testing.assert_allclose(r.weights, weights[0].numpy())
    np.testing.assert_allclose(r.context, context[0].numpy())


def test_parameters_are_fixed_small_and_used():
    a = score_demo.compute(S, H, "general")
    b = score_demo.compute(S, H, "general")
    w = a.parameters["W_a"]
    assert w.shape == (2, 2) and np.abs(w).max() <= 1.0
    np.testing.assert_array_equal(w, b.parameters["W_a"])
    np.testing.assert_allclose(a.raw_scores, np.array(S) @ w @ np.array(H).T)
    add = score_demo.compute(S, H, "additive")
    p = add.parameters
    expected = [p["v_a"] @ np.tanh(p["W_a"] @ np.array(S) + p["U_a"] @ np.array(h)) for h in H]
    np.testing.assert_allclose(add.raw_scores, expected)


def test_general_and_additive_accept_different_sizes_dot_does_not():
    r = score_demo.compute((1.0, 2.0, 3.0), H, "additive")
    assert r.context.shape == (2,)
    assert _error_key(decoder_state=(1.0, 2.0, 3.0), encoder_states=H,
                      score_name="dot") == "attn.err.dim_mismatch"


def test_masked_position_gets_exactly_zero():
    r = score_demo.compute(S, H, "dot", masked_positions=[0])
    assert r.weights[0] == 0.0 and r.weights[1:].sum() == pytest.approx(1.0)
    assert r.raw_scores[0] == 1.0  # the score is still shown
    assert r.table()[0]["masked"] is True


def test_all_masked_is_a_clear_error():
    key = _error_key(decoder_state=S, encoder_states=H, masked_positions=[0, 1, 2])
    assert key == "attn.err.all_masked"
    assert "nothing to attend" in translate(key, "en")


@pytest.mark.parametrize("big", [1e4, -1e4])
def test_huge_scores_stay_finite_and_correct(big):
    r = score_demo.compute((1.0,), ((big,), (big - 1,), (0.0,)), "dot")
    assert np.isfinite(r.weights).all() and np.isfinite(r.context).all()
    e = np.array([big, big - 1, 0.0])
    expected = np.exp(e - e.max()) / np.exp(e - e.max()).sum()
    np.testing.assert_allclose(r.weights, expected, atol=1e-12)


@pytest.mark.parametrize("cell, key", [
    (None, "attn.err.empty_cell"), ("", "attn.err.empty_cell"), (float("nan"), "attn.err.empty_cell"),
    ("abc", "attn.err.not_a_number"), ("</script><img src=x onerror=alert(1)>", "attn.err.not_a_number"),
    ("nan", "attn.err.not_finite"), (float("inf"), "attn.err.not_finite"),
    (1e300, "attn.err.too_large"), (True, "attn.err.not_a_number"),
])
def test_bad_cells(cell, key):
    assert _error_key(decoder_state=(1.0, cell), encoder_states=H) == key


def test_numeric_text_is_accepted():
    r = score_demo.compute(("1", " 0.5 "), (("1", "0"), ("0", "1e-1")))
    np.testing.assert_allclose(r.decoder_state, [1.0, 0.5])
    np.testing.assert_allclose(r.encoder_states, [[1.0, 0.0], [0.0, 0.1]])
    # "1,000" could mean 1000 or 1.0: refused rather than guessed
    assert _error_key(decoder_state=("1,000", "1"), encoder_states=H) == "attn.err.not_a_number"


@pytest.mark.parametrize("kwargs, key", [
    (dict(encoder_states=()), "attn.err.no_states"),
    (dict(encoder_states=((1.0, 0.0), (1.0,))), "attn.err.ragged"),
    (dict(encoder_states=H * 3), "attn.err.too_many_states"),
    (dict(encoder_states=H, decoder_state=()), "attn.err.empty_vector"),
    (dict(encoder_states=H, masked_positions=[5]), "attn.err.bad_position"),
    (dict(encoder_states=H, score_name="cosine"), "attn_core.err.unknown_score"),
])
def test_bad_shapes_and_names(kwargs, key):
    assert _error_key(**({"decoder_state": S} | kwargs)) == key


def test_labels_are_cleaned_and_defaulted():
    r = score_demo.compute(S, H, labels=["  I\n", None, "x" * 50])
    assert r.labels == ("I", "h2", "x" * score_demo.MAX_LABEL_CHARS)


@pytest.mark.parametrize("name", list(score_demo.PRESETS))
def test_presets_compute(name):
    for lang in ("en", "ko"):
        r = score_demo.compute_preset(name, lang)
        assert r.weights.sum() == pytest.approx(1.0)


def test_sentence_preset_is_bilingual_and_decoder_is_nearest_one_word():
    en = score_demo.compute_preset("sentence", "en")
    ko = score_demo.compute_preset("sentence", "ko")
    assert en.labels == ("I", "love", "you") and ko.labels == ("나는", "너를", "사랑해")
    assert int(np.argmax(en.weights)) == 1


def test_every_error_key_is_translated_in_both_languages():
    import re
    from pathlib import Path

    source = Path(score_demo.__file__).read_text(encoding="utf-8")
    keys = set(re.findall(r'"(attn(?:_core)?\.err\.[a-z_]+)"', source))
    assert len(keys) >= 10
    table = catalog()
    for key in keys:
        assert table[key]["en"] and table[key]["ko"], key
