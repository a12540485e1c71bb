"""Seq2seq models: fast path == step path, padding gets exactly 0 weight, batch == one by one."""
from __future__ import annotations

import pytest
import torch

from lmcore.seq2seq import ATTENTIONS, CELLS, Seq2Seq, Seq2SeqConfig

VARIANTS = [(a, c) for a in ATTENTIONS for c in CELLS]


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny(attention: str, cell: str = "lstm", layers: int = 2) -> Seq2Seq:
    torch.manual_seed(0)
    cfg = Seq2SeqConfig(src_vocab_size=100, tgt_vocab_size=90, emb_dim=32, hidden_dim=32,
                        cell=cell, num_layers=layers, attention=attention, dropout=0.0)
    return Seq2Seq(cfg).eval()


def batch():
    torch.manual_seed(1)
    src = torch.randint(4, 100, (3, 7))
    lengths = torch.tensor([7, 4, 2])
    src[1, 4:] = 0
    src[2, 2:] = 0
    return src, lengths, torch.randint(4, 90, (3, 6))


def step_logits(model, src, lengths, tgt_in):
    memory = model.encode(src, lengths)
    state, logits, weights = model.init_state(memory), [], []
    for t in range(tgt_in.size(1)):
        out = model.step(memory, state, tgt_in[:, t])
        state = out.state
        logits.append(out.logits)
        weights.append(out.weights)
    return torch.stack(logits, 1), weights


@pytest.mark.parametrize("attention,cell", VARIANTS)
def test_teacher_forcing_equals_step_by_step(attention, cell):
    model = tiny(attention, cell)
    src, lengths, tgt = batch()
    with torch.no_grad():
        fast = model(src, lengths, tgt)
        slow, _ = step_logits(model, src, lengths, tgt)
    assert fast.shape == (3, 6, 90)
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("attention", ["bahdanau", "luong-dot", "luong-general"])
def test_padding_gets_exactly_zero_weight_and_rows_sum_to_one(attention):
    model = tiny(attention)
    src, lengths, tgt = batch()
    with torch.no_grad():
        _, weights = step_logits(model, src, lengths, tgt)
    for w in weights:
        assert w.shape == (3, 7)
        assert torch.all(w[1, 4:] == 0) and torch.all(w[2, 2:] == 0)
        torch.testing.assert_close(w.sum(-1), torch.ones(3))


@pytest.mark.parametrize("attention,cell", VARIANTS)
def test_batch_equals_one_by_one_and_padding_ids_do_not_matter(attention, cell):
    model = tiny(attention, cell)
    src, lengths, tgt = batch()
    with torch.no_grad():
        together = model(src, lengths, tgt)
        noisy = src.clone()
        noisy[1, 4:] = 55  # garbage where the padding is: masked, so nothing changes
        torch.testing.assert_close(model(noisy, lengths, tgt), together)
        for i in range(3):
            alone = model(src[i:i + 1, : lengths[i]], lengths[i:i + 1], tgt[i:i + 1])
            torch.testing.assert_close(alone, together[i:i + 1], atol=1e-5, rtol=1e-5)


def test_plain_model_reports_no_attention():
    model = tiny("none")
    src, lengths, tgt = batch()
    memory = model.encode(src, lengths)
    out = model.step(memory, model.init_state(memory), tgt[:, 0])
    assert out.weights is None and out.scores is None and out.context is None


def test_plain_decoder_starts_from_the_encoder_final_state():
    model = tiny("none", "gru", layers=1)
    src, lengths, _ = batch()
    memory = model.encode(src, lengths)
    # the final state is the last real token's output, not a padding position
    torch.testing.assert_close(memory.final[0][-1], memory.states[torch.arange(3), lengths - 1])
    assert model.init_state(memory) is memory.final


def test_context_is_the_weighted_sum_of_encoder_states():
    model = tiny("luong-general")
    src, lengths, tgt = batch()
    memory = model.encode(src, lengths)
    out = model.step(memory, model.init_state(memory), tgt[:, 0])
    expected = torch.einsum("bs,bsh->bh", out.weights, memory.states)
    torch.testing.assert_close(out.context, expected)


def test_config_rejects_unknown_choices():
    with pytest.raises(ValueError):
        Seq2SeqConfig(10, 10, attention="sideways")
    with pytest.raises(ValueError):
        Seq2SeqConfig(10, 10, cell="transformer")
    assert Seq2SeqConfig(10, 10).to_dict()["emb_dim"] == 256


def test_precomputed_additive_keys_match_lmcore_attention():
    model = tiny("bahdanau")
    src, lengths, _ = batch()
    memory = model.encode(src, lengths)
    assert memory.keys is not None  # U_a h_j computed once per sentence
    query = torch.randn(3, 2, 32)
    expected = model.attention.score(query, memory.states)  # lmcore.attention.AdditiveScore
    torch.testing.assert_close(model.attention.scores(query, memory), expected)
