"""Positional encodings: the sinusoid formula, tables, rotary, similarity, length notices."""
import numpy as np
import pytest
import torch

from lmcore import positional as P
from lmcore.errors import UserFacingError
from lmcore.i18n import catalog


def test_sinusoidal_matches_formula():
    pe = P.sinusoidal_encoding(7, 10)
    pos, i = 5, 3
    assert pe.shape == (7, 10) and pe.dtype == np.float32
    assert pe[pos, 2 * i] == pytest.approx(np.sin(pos / 10000 ** (2 * i / 10)), abs=1e-6)
    assert pe[pos, 2 * i + 1] == pytest.approx(np.cos(pos / 10000 ** (2 * i / 10)), abs=1e-6)
    assert np.allclose(pe[0, 0::2], 0) and np.allclose(pe[0, 1::2], 1)


def test_sinusoidal_odd_dimension_and_bounds():
    pe = P.sinusoidal_encoding(4, 5)
    assert pe.shape == (4, 5) and np.all(np.abs(pe) <= 1.0)
    assert np.isfinite(pe).all()


def test_wavelengths_grow_geometrically():
    w = P.wavelengths(8)
    assert w[0] == pytest.approx(2 * np.pi) and w[0] == w[1]
    assert np.all(np.diff(w[0::2]) > 0)


def test_modules_add_positions_and_refuse_long_input():
    x = torch.zeros(2, 6, 8)
    sin = P.SinusoidalPositionalEncoding(8, max_len=10)
    assert torch.allclose(sin(x)[0], torch.from_numpy(P.sinusoidal_encoding(6, 8)))
    learned = P.LearnedPositionalEmbedding(8, max_len=10)
    assert torch.equal(learned(x)[1], learned.table.weight[:6])
    for module in (sin, learned):
        with pytest.raises(UserFacingError) as err:
            module(torch.zeros(1, 11, 8))
        assert err.value.key == "tf.err.positions_too_long"
        assert "11" in err.value.message("en") and "10" in err.value.message("ko")


def test_make_positional_unknown_name():
    assert isinstance(P.make_positional("none", 4, 4), torch.nn.Identity)
    with pytest.raises(UserFacingError):
        P.make_positional("spiral", 4, 4)


def test_rotary_preserves_norm_and_is_relative():
    x = np.random.default_rng(1).standard_normal((6, 8)).astype(np.float32)
    r = P.apply_rotary(x)
    assert np.allclose(np.linalg.norm(r, axis=1), np.linalg.norm(x, axis=1), atol=1e-5)
    sim = P.rotary_similarity(9, 8)
    # a Toeplitz matrix: the same along each diagonal (depends only on n - m)
    assert np.allclose(np.diag(sim, 2), np.diag(sim, 2)[0], atol=1e-5)
    assert not np.allclose(np.diag(sim, 0)[0], np.diag(sim, 3)[0])
    with pytest.raises(ValueError):
        P.apply_rotary(np.zeros((3, 5), dtype=np.float32))


def test_position_similarity():
    pe = P.sinusoidal_encoding(20, 16)
    cos = P.position_similarity(pe)
    assert cos.shape == (20, 20) and np.allclose(np.diag(cos), 1, atol=1e-6)
    assert np.allclose(cos, cos.T)
    assert cos[5, 6] > cos[5, 15]  # near positions look more alike
    dot = P.position_similarity(pe, "dot")
    assert np.allclose(np.diag(dot), 8, atol=1e-5)  # |PE|^2 = d_model / 2
    with pytest.raises(ValueError):
        P.position_similarity(pe, "euclid")


def test_error_keys_are_translated():
    for key in ("tf.err.positions_too_long", "tf.err.unknown_positional",
                "tf.err.no_learned_positions"):
        assert set(catalog()[key]) == {"en", "ko"}
