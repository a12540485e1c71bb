"""lmcore.transformer.MultiHeadAttention: parity with torch.nn.MultiheadAttention, training behaviour, no state."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from lmcore import attention as A
from lmcore.transformer import MultiHeadAttention

D_MODEL, N_HEADS = 32, 4
TOL = 1e-5


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _pair(bias: bool = True) -> tuple[MultiHeadAttention, nn.MultiheadAttention]:
    ref = nn.MultiheadAttention(D_MODEL, N_HEADS, bias=bias, batch_first=True).eval()
    with torch.no_grad():  # non-zero biases, so a bias mix-up would show
        for p in ref.parameters():
            p.add_(0.1 * torch.randn_like(p))
    ours = MultiHeadAttention(D_MODEL, N_HEADS, bias=bias).eval()
    return ours.load_from_torch(ref), ref


# ---------------------------------------------------------------- masks

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


# ---------------------------------------------------------------- parity with torch

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
        MultiHeadAttention(D_MODEL, N_HEADS).load_from_torch(
            nn.MultiheadAttention(D_MODEL, 2, batch_first=True))
    with pytest.raises(ValueError):
        MultiHeadAttention(D_MODEL, N_HEADS, bias=False).load_from_torch(
            nn.MultiheadAttention(D_MODEL, N_HEADS, batch_first=True))
    with pytest.raises(ValueError):
        MultiHeadAttention(30, 4)
    with pytest.raises(ValueError):  # width that is not d_model
        x = torch.randn(1, 3, D_MODEL + 1)
        MultiHeadAttention(D_MODEL, N_HEADS)(x, x, x)


# ---------------------------------------------------------------- training behaviour

@pytest.mark.parametrize("need_weights", [True, False])
def test_gradients_flow_to_every_parameter_and_input(need_weights: bool) -> None:
    mha = MultiHeadAttention(D_MODEL, N_HEADS)
    x = torch.randn(2, 5, D_MODEL, requires_grad=True)
    out, _ = mha(x, x, x, mask=A.causal_mask(5), need_weights=need_weights)
    out.square().mean().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    for name, p in mha.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_train_mode_dropout_keeps_returned_weights_normalised() -> None:
    mha = MultiHeadAttention(D_MODEL, N_HEADS, dropout=0.5).train()
    x = torch.randn(2, 5, D_MODEL)
    out1, w = mha(x, x, x)
    out2, _ = mha(x, x, x)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, N_HEADS, 5))
    assert not torch.allclose(out1, out2)  # dropout is active on the output path


def test_nothing_is_stored_on_the_module() -> None:
    mha = MultiHeadAttention(D_MODEL, N_HEADS).eval()
    before = {k: v for k, v in vars(mha).items() if not k.startswith("_")}
    buffers = dict(mha.named_buffers())
    x = torch.randn(1, 3, D_MODEL)
    mha(x, x, x)
    after = {k: v for k, v in vars(mha).items() if not k.startswith("_")}
    assert after.keys() == before.keys() and dict(mha.named_buffers()) == buffers
    assert not mha._forward_hooks and not mha._forward_pre_hooks
