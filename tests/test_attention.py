"""lmcore.attention: invariants, hand-computed examples and parity with torch."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from bench.common import interleaved_samples, median_times, paired_ratio, pick_clock
from lmcore import attention as A
from lmcore.errors import UserFacingError
from lmcore.i18n import catalog

TOL = 1e-5


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


# ---------------------------------------------------------------- masked softmax

def test_rows_sum_to_one_without_mask() -> None:
    w = A.masked_softmax(torch.randn(2, 3, 5, 7))
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 3, 5))


def test_masked_positions_exactly_zero_and_rows_sum_to_one() -> None:
    scores = torch.randn(2, 4, 5, 6) * 10
    mask = torch.rand(2, 1, 5, 6) > 0.4
    mask[..., 0] = True  # every row keeps at least one key
    w = A.masked_softmax(scores, mask)
    assert w.shape == scores.shape
    assert torch.all(w[~mask.expand_as(w)] == 0.0)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 4, 5))


def test_masked_softmax_matches_softmax_over_allowed_keys() -> None:
    scores = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    mask = torch.tensor([[True, False, True, False]])
    expected = torch.softmax(torch.tensor([1.0, 3.0]), -1)
    w = A.masked_softmax(scores, mask)
    torch.testing.assert_close(w[0, [0, 2]], expected)


def test_all_masked_row_is_zeros_not_nan_and_gradient_finite() -> None:
    scores = torch.randn(3, 4, requires_grad=True)
    mask = torch.ones(3, 4, dtype=torch.bool)
    mask[1] = False
    w = A.masked_softmax(scores, mask)
    assert torch.all(w[1] == 0.0)
    assert torch.isfinite(w).all()
    torch.testing.assert_close(w[[0, 2]].sum(-1), torch.ones(2))
    (w * torch.randn(3, 4)).sum().backward()
    assert torch.isfinite(scores.grad).all()
    assert torch.all(scores.grad[1] == 0.0)


@pytest.mark.parametrize("big", [1e4, 1e8, 1e30])
def test_large_scores_are_stable(big: float) -> None:
    scores = torch.tensor([[big, 0.0, -big], [-big, -big, -big], [big, big, -big]])
    w = A.masked_softmax(scores, torch.ones(3, 3, dtype=torch.bool))
    assert torch.isfinite(w).all()
    torch.testing.assert_close(w, torch.tensor([[1.0, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]]))
    masked = A.masked_softmax(scores, torch.tensor([False, True, True]))
    assert torch.isfinite(masked).all() and torch.all(masked[:, 0] == 0.0)
    torch.testing.assert_close(masked.sum(-1), torch.ones(3))


@pytest.mark.parametrize("mask_index", range(4))
def test_inplace_softmax_equals_out_of_place(mask_index: int) -> None:
    scores = torch.randn(2, 3, 5, 7) * 5
    mask = _sdpa_masks(2, 3, 5, 7)[mask_index]
    expected = A.masked_softmax(scores, mask)
    fresh = scores.clone()
    got = A.masked_softmax(fresh, mask, inplace=True)
    assert torch.equal(got, expected)
    assert got.data_ptr() == fresh.data_ptr()  # really in place


def test_sdpa_weights_path_same_with_and_without_autograd() -> None:
    q, k, v = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 6)
    mask = A.padding_mask(torch.tensor([7, 3]), 7)
    with torch.inference_mode():
        out_inf, w_inf = A.scaled_dot_product_attention(q, k, v, mask)
    qg = q.clone().requires_grad_()
    out_g, w_g = A.scaled_dot_product_attention(qg, k, v, mask)
    torch.testing.assert_close(out_inf, out_g.detach(), atol=TOL, rtol=TOL)
    torch.testing.assert_close(w_inf, w_g.detach(), atol=TOL, rtol=TOL)
    assert torch.all(w_inf[1, ..., 3:] == 0.0)


def test_mask_with_more_dims_than_scores_broadcasts() -> None:
    w = A.masked_softmax(torch.randn(3, 4), A.padding_mask(torch.tensor([4, 1]), 4))
    assert w.shape == (2, 1, 3, 4)
    torch.testing.assert_close(w[1, 0, :, 0], torch.ones(3))


def test_mask_must_be_bool() -> None:
    with pytest.raises(TypeError):
        A.masked_softmax(torch.randn(2, 2), torch.ones(2, 2))


# ---------------------------------------------------------------- masks

def test_causal_mask_values() -> None:
    expected = torch.tensor([[1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=torch.bool)
    assert torch.equal(A.causal_mask(3), expected)
    # 2 new queries at the end of 4 keys (decoding with a cache)
    rect = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]], dtype=torch.bool)
    assert torch.equal(A.causal_mask(2, 4), rect)
    assert A.causal_mask(3).dtype == torch.bool


# ---------------------------------------------------------------- score functions

def test_dot_and_scaled_dot_hand_example() -> None:
    q = torch.tensor([[1.0, 2.0]])
    k = torch.tensor([[3.0, 4.0], [1.0, -1.0]])
    torch.testing.assert_close(A.dot_score(q, k), torch.tensor([[11.0, -1.0]]))
    torch.testing.assert_close(A.scaled_dot_score(q, k),
                               torch.tensor([[11.0, -1.0]]) / math.sqrt(2))


def test_general_score_hand_example() -> None:
    score = A.GeneralScore(2, 3)
    with torch.no_grad():  # W_a = [[1, 0, 2], [0, 1, 0]]  (d_query=2, d_key=3)
        score.W_a.weight.copy_(torch.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]]).T)
    q = torch.tensor([[1.0, 2.0]])                    # q W_a = [1, 2, 2]
    k = torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 1.0]])
    torch.testing.assert_close(score(q, k), torch.tensor([[5.0, 2.0]]))


def test_additive_score_hand_example() -> None:
    score = A.AdditiveScore(1, 1, 2)
    with torch.no_grad():
        score.W_a.weight.copy_(torch.tensor([[1.0], [2.0]]))
        score.U_a.weight.copy_(torch.tensor([[1.0], [-1.0]]))
        score.v_a.weight.copy_(torch.tensor([[1.0, 3.0]]))
    q = torch.tensor([[0.5]])
    k = torch.tensor([[1.0], [0.0]])
    # k=1: v . tanh([0.5 + 1, 1 - 1]) ; k=0: v . tanh([0.5, 1])
    expected = torch.tensor([[math.tanh(1.5), math.tanh(0.5) + 3 * math.tanh(1.0)]])
    torch.testing.assert_close(score(q, k), expected)


@pytest.mark.parametrize("name", list(A.SCORE_FUNCTIONS))
def test_score_shapes_with_batch_dims(name: str) -> None:
    score = A.make_score(name, 8, 8, d_hidden=5)
    out = score(torch.randn(2, 3, 4, 8), torch.randn(2, 3, 6, 8))
    assert out.shape == (2, 3, 4, 6)
    ctx, w = A.attend(torch.randn(2, 4, 8), torch.randn(2, 6, 8), torch.randn(2, 6, 3), score)
    assert ctx.shape == (2, 4, 3) and w.shape == (2, 4, 6)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 4))


def test_learned_scores_accept_different_query_and_key_sizes() -> None:
    q, k = torch.randn(2, 1, 6), torch.randn(2, 5, 10)
    assert A.GeneralScore(6, 10)(q, k).shape == (2, 1, 5)
    assert A.AdditiveScore(6, 10, 7)(q, k).shape == (2, 1, 5)


def test_unknown_and_mismatched_scores_give_user_facing_errors() -> None:
    with pytest.raises(UserFacingError) as err:
        A.make_score("cosine", 4, 4)
    assert err.value.key == "attn_core.err.unknown_score"
    assert "cosine" in err.value.message("ko")
    with pytest.raises(UserFacingError):
        A.attend(torch.randn(1, 4), torch.randn(2, 4), torch.randn(2, 4), score="nope")
    with pytest.raises(UserFacingError) as err:
        A.make_score("dot", 4, 5)
    assert err.value.key == "attn_core.err.dim_mismatch"
    with pytest.raises(ValueError):  # learned score by bare name: which weights?
        A.attend(torch.randn(1, 4), torch.randn(2, 4), torch.randn(2, 4), score="general")


def test_locale_keys_have_both_languages() -> None:
    keys = [k for k in catalog() if k.startswith("attn_core.")]
    assert len(keys) >= 2
    for key in keys:
        assert catalog()[key]["en"] and catalog()[key]["ko"]


# ---------------------------------------------------------------- context and attend

def test_context_vector_is_weighted_sum() -> None:
    w = torch.tensor([[0.25, 0.75]])
    v = torch.tensor([[4.0, 0.0], [0.0, 8.0]])
    torch.testing.assert_close(A.context_vector(w, v), torch.tensor([[1.0, 6.0]]))


def test_attend_hand_example() -> None:
    q = torch.tensor([[1.0, 0.0]])
    k = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    v = torch.tensor([[10.0], [20.0]])
    ctx, w = A.attend(q, k, v, score="dot")
    e = math.exp(1.0)
    torch.testing.assert_close(w, torch.tensor([[e / (e + 1), 1 / (e + 1)]]))
    torch.testing.assert_close(ctx, torch.tensor([[(10 * e + 20) / (e + 1)]]))


# ---------------------------------------------------------------- parity with torch

def _sdpa_masks(b: int, h: int, tq: int, tk: int) -> list[torch.Tensor | None]:
    rand = torch.rand(b, h, tq, tk) > 0.3
    rand[..., 0] = True
    return [None, A.causal_mask(tq, tk), A.padding_mask(torch.tensor([tk, 2]), tk), rand]


@pytest.mark.parametrize("mask_index", range(4))
def test_sdpa_slow_and_fast_match_torch(mask_index: int) -> None:
    q, k, v = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 6)
    mask = _sdpa_masks(2, 3, 5, 7)[mask_index]
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    slow, w = A.scaled_dot_product_attention(q, k, v, mask)
    fast, none = A.scaled_dot_product_attention(q, k, v, mask, need_weights=False)
    assert none is None and w.shape == (2, 3, 5, 7)
    torch.testing.assert_close(slow, ref, atol=TOL, rtol=TOL)
    torch.testing.assert_close(fast, ref, atol=TOL, rtol=TOL)


def test_sdpa_fast_equals_slow_with_fully_masked_row() -> None:
    q, k, v = torch.randn(1, 2, 3, 4), torch.randn(1, 2, 5, 4), torch.randn(1, 2, 5, 4)
    mask = torch.ones(3, 5, dtype=torch.bool)
    mask[1] = False
    slow, w = A.scaled_dot_product_attention(q, k, v, mask)
    fast, _ = A.scaled_dot_product_attention(q, k, v, mask, need_weights=False)
    assert torch.all(w[:, :, 1] == 0) and torch.all(slow[:, :, 1] == 0)
    torch.testing.assert_close(fast, slow, atol=TOL, rtol=TOL)


# ---------------------------------------------------------------- training behaviour

@pytest.mark.parametrize("name", list(A.SCORE_FUNCTIONS))
def test_gradients_flow_through_each_score(name: str) -> None:
    score = A.make_score(name, 4, 4, d_hidden=3)
    q = torch.randn(1, 2, 4, requires_grad=True)
    ctx, _ = A.attend(q, torch.randn(1, 3, 4), torch.randn(1, 3, 4), score)
    ctx.sum().backward()
    assert q.grad is not None and q.grad.abs().sum() > 0
    for p in getattr(score, "parameters", lambda: [])():
        assert p.grad is not None and p.grad.abs().sum() > 0


# ---------------------------------------------------------------- bench helper

def test_interleaved_samples_runs_every_candidate_warmup_plus_repeats_times() -> None:
    calls = {"a": 0, "b": 0}

    def bump(name: str):
        return lambda: calls.__setitem__(name, calls[name] + 1)

    samples = interleaved_samples({"a": bump("a"), "b": bump("b")}, repeats=5, warmup=2, inner=3)
    assert calls == {"a": 2 + 5 * 3, "b": 2 + 5 * 3}
    assert [len(samples["a"]), len(samples["b"])] == [5, 5]
    assert all(t >= 0 for t in samples["a"] + samples["b"])


def test_paired_ratio_and_median_times_see_a_slower_candidate() -> None:
    candidates = {"once": lambda: sum(range(20_000)), "four": lambda: sum(range(80_000))}
    samples = interleaved_samples(candidates, repeats=9, clock=pick_clock(1))
    assert paired_ratio(samples, "four", "once") > 1.5
    times = median_times(candidates, repeats=5)
    assert times["four"] > times["once"]
