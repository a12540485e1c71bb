"""lmcore.attention: invariants, hand-computed examples and parity with torch."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bench.common import interleaved_samples, median_times, paired_ratio, pick_clock
from lmcore import attention as A
from lmcore.errors import UserFacingError
from lmcore.i18n import catalog

D_MODEL, N_HEADS = 32, 4
TOL = 1e-5


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _pair(bias: bool = True) -> tuple[A.MultiHeadAttention, nn.MultiheadAttention]:
    ref = nn.MultiheadAttention(D_MODEL, N_HEADS, bias=bias, batch_first=True).eval()
    with torch.no_grad():  # non-zero biases, so a bias mix-up would show
        for p in ref.parameters():
            p.add_(0.1 * torch.randn_like(p))
    ours = A.MultiHeadAttention(D_MODEL, N_HEADS, bias=bias).eval()
    return ours.load_from_torch(ref), ref


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


def test_causal_weights_zero_above_diagonal() -> None:
    mha, _ = _pair()
    x = torch.randn(2, 6, D_MODEL)
    _, w = mha(x, x, x, mask=A.causal_mask(6))
    upper = torch.triu(torch.ones(6, 6, dtype=torch.bool), diagonal=1)
    assert torch.all(w[..., upper] == 0.0)
    assert torch.all(w[..., ~upper] > 0.0)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, N_HEADS, 6))
    torch.testing.assert_close(w[..., 0, 0], torch.ones(2, N_HEADS))  # first token sees itself


def test_padding_mask_shape_and_zero_weight_on_padding() -> None:
    lengths = torch.tensor([5, 2, 3])
    mask = A.padding_mask(lengths, 5)
    assert mask.shape == (3, 1, 1, 5) and mask.dtype == torch.bool
    assert mask[:, 0, 0].sum(-1).tolist() == [5, 2, 3]
    mha, _ = _pair()
    x = torch.randn(3, 5, D_MODEL)
    _, w = mha(x, x, x, mask=mask)
    assert w.shape == (3, N_HEADS, 5, 5)
    for b, n in enumerate(lengths.tolist()):
        assert torch.all(w[b, :, :, n:] == 0.0)
    torch.testing.assert_close(w.sum(-1), torch.ones(3, N_HEADS, 5))


def test_padding_does_not_change_real_tokens_output() -> None:
    mha, _ = _pair()
    x = torch.randn(1, 3, D_MODEL)
    padded = torch.cat([x, torch.randn(1, 2, D_MODEL)], dim=1)
    out, _ = mha(x, x, x)
    out_p, _ = mha(padded, padded, padded, mask=A.padding_mask(torch.tensor([3]), 5))
    torch.testing.assert_close(out_p[:, :3], out, atol=TOL, rtol=TOL)


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


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", ["self", "cross", "separate"])
def test_multi_head_matches_torch(kind: str, bias: bool) -> None:
    ours, ref = _pair(bias)
    x = torch.randn(2, 5, D_MODEL)
    memory = torch.randn(2, 7, D_MODEL)
    query, key, value = {"self": (x, x, x), "cross": (x, memory, memory),
                         "separate": (x, memory, torch.randn(2, 7, D_MODEL))}[kind]
    out, w = ours(query, key, value)
    out_ref, w_ref = ref(query, key, value, need_weights=True, average_attn_weights=False)
    assert out.shape == (2, 5, D_MODEL) and w.shape == (2, N_HEADS, 5, key.shape[1])
    torch.testing.assert_close(out, out_ref, atol=TOL, rtol=TOL)
    torch.testing.assert_close(w, w_ref, atol=TOL, rtol=TOL)


@pytest.mark.parametrize("inference", [False, True])
def test_multi_head_matches_torch_with_causal_and_padding_masks(inference: bool) -> None:
    ours, ref = _pair()
    x = torch.randn(2, 6, D_MODEL)
    lengths = torch.tensor([6, 4])
    mask = A.causal_mask(6) & A.padding_mask(lengths, 6)  # (B, 1, 6, 6)
    with torch.inference_mode(inference):
        out, w = ours(x, x, x, mask=mask)
    out_ref, w_ref = ref(x, x, x, attn_mask=~A.causal_mask(6),
                         key_padding_mask=~A.padding_mask(lengths, 6)[:, 0, 0],
                         need_weights=True, average_attn_weights=False)
    torch.testing.assert_close(out, out_ref, atol=TOL, rtol=TOL)
    torch.testing.assert_close(w, w_ref, atol=TOL, rtol=TOL)


def test_multi_head_fast_equals_slow() -> None:
    mha, _ = _pair()
    x, memory = torch.randn(2, 5, D_MODEL), torch.randn(2, 7, D_MODEL)
    mask = torch.rand(2, N_HEADS, 5, 7) > 0.5
    mask[0, 1, 2] = False  # one query that may see nothing
    for query, kv, m in [(x, x, A.causal_mask(5)), (x, memory, mask), (x, memory, None)]:
        slow, w = mha(query, kv, kv, mask=m)
        fast, none = mha(query, kv, kv, mask=m, need_weights=False)
        assert none is None and torch.isfinite(fast).all()
        torch.testing.assert_close(fast, slow, atol=TOL, rtol=TOL)


def test_to_torch_round_trip() -> None:
    ours, _ = _pair()
    ref = ours.to_torch().eval()
    x = torch.randn(2, 4, D_MODEL)
    torch.testing.assert_close(ours(x, x, x)[0],
                               ref(x, x, x, need_weights=False)[0], atol=TOL, rtol=TOL)


def test_load_from_torch_rejects_other_sizes() -> None:
    with pytest.raises(ValueError):
        A.MultiHeadAttention(D_MODEL, N_HEADS).load_from_torch(
            nn.MultiheadAttention(D_MODEL, 2, batch_first=True))
    with pytest.raises(ValueError):
        A.MultiHeadAttention(D_MODEL, N_HEADS, bias=False).load_from_torch(
            nn.MultiheadAttention(D_MODEL, N_HEADS, batch_first=True))
    with pytest.raises(ValueError):
        A.MultiHeadAttention(30, 4)
    with pytest.raises(ValueError):  # width that is not d_model
        x = torch.randn(1, 3, D_MODEL + 1)
        A.MultiHeadAttention(D_MODEL, N_HEADS)(x, x, x)


# ---------------------------------------------------------------- training behaviour

@pytest.mark.parametrize("need_weights", [True, False])
def test_gradients_flow_to_every_parameter_and_input(need_weights: bool) -> None:
    mha = A.MultiHeadAttention(D_MODEL, N_HEADS)
    x = torch.randn(2, 5, D_MODEL, requires_grad=True)
    out, _ = mha(x, x, x, mask=A.causal_mask(5), need_weights=need_weights)
    out.square().mean().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    for name, p in mha.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("name", list(A.SCORE_FUNCTIONS))
def test_gradients_flow_through_each_score(name: str) -> None:
    score = A.make_score(name, 4, 4, d_hidden=3)
    q = torch.randn(1, 2, 4, requires_grad=True)
    ctx, _ = A.attend(q, torch.randn(1, 3, 4), torch.randn(1, 3, 4), score)
    ctx.sum().backward()
    assert q.grad is not None and q.grad.abs().sum() > 0
    for p in getattr(score, "parameters", lambda: [])():
        assert p.grad is not None and p.grad.abs().sum() > 0


def test_train_mode_dropout_keeps_returned_weights_normalised() -> None:
    mha = A.MultiHeadAttention(D_MODEL, N_HEADS, dropout=0.5).train()
    x = torch.randn(2, 5, D_MODEL)
    out1, w = mha(x, x, x)
    out2, _ = mha(x, x, x)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, N_HEADS, 5))
    assert not torch.allclose(out1, out2)  # dropout is active on the output path


def test_nothing_is_stored_on_the_module() -> None:
    mha = A.MultiHeadAttention(D_MODEL, N_HEADS).eval()
    before = {k: v for k, v in vars(mha).items() if not k.startswith("_")}
    buffers = dict(mha.named_buffers())
    x = torch.randn(1, 3, D_MODEL)
    mha(x, x, x)
    after = {k: v for k, v in vars(mha).items() if not k.startswith("_")}
    assert after.keys() == before.keys() and dict(mha.named_buffers()) == buffers
    assert not mha._forward_hooks and not mha._forward_pre_hooks


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
