"""Self-attention step by step: each step follows from the last, and MiniLM matches transformers."""
import numpy as np
import pytest
import torch

from lmcore.transformer import AttentionWeights
from lmcore.demos import self_attention_steps as S
from lmcore.errors import UserFacingError
from lmcore.catalog import minilm_folder

needs_minilm = pytest.mark.skipif(minilm_folder() is None, reason="MiniLM package missing")


def tiny_weights(d=8, heads=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    return AttentionWeights(r(d, d), r(d), r(d, d), r(d), r(d, d), r(d), r(d, d), r(d), heads)


def test_steps_chain_and_match_multihead_attention():
    from lmcore.transformer import MultiHeadAttention

    w = tiny_weights()
    x = torch.randn(5, 8)
    heads, concat, out = S.layer_steps(x, w, causal=True)
    for h in heads:
        assert np.allclose(h.scores, h.q @ h.k.T, atol=1e-5)
        assert np.allclose(h.scaled, h.scores / np.sqrt(4), atol=1e-6)
        assert np.allclose(h.weights.sum(1), 1, atol=1e-6)
        assert np.all(h.weights[np.triu_indices(5, 1)] == 0)
        assert np.isnan(h.masked[0, 1]) and not np.isnan(h.masked[1, 0])
        assert np.allclose(h.output, h.weights @ h.v, atol=1e-5)
    assert np.allclose(concat[:, 4:], heads[1].output)
    mha = MultiHeadAttention(8, 2).eval()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([w.wq, w.wk, w.wv]))
        mha.in_proj_bias.copy_(torch.cat([w.bq, w.bk, w.bv]))
        mha.out_proj.weight.copy_(w.wo)
        mha.out_proj.bias.copy_(w.bo)
        ref, ref_w = mha(x[None], x[None], x[None], torch.tril(torch.ones(5, 5, dtype=torch.bool)))
    assert np.allclose(out, ref[0].numpy(), atol=1e-4)
    assert np.allclose(heads[0].weights, ref_w[0, 0].numpy(), atol=1e-5)


def test_random_source_is_deterministic_and_labelled():
    a = S.compute_steps("the cat sat", S.RANDOM, layer=1)
    b = S.compute_steps("the cat sat", S.RANDOM, layer=1)
    assert a.tokens == ("the", "cat", "sat") and a.d_k == 8
    assert np.array_equal(a.heads[1].weights, b.heads[1].weights)
    m = a.maps()
    assert m.weights.shape == (1, 2, 3, 3) and m.kind == "self"


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_text_is_a_user_error(text):
    with pytest.raises(UserFacingError) as err:
        S.compute_steps(text, S.RANDOM)
    assert err.value.key == "errors.empty_text"


def test_bad_source_and_layer():
    with pytest.raises(UserFacingError):
        S.compute_steps("a b", "gpt-17")
    with pytest.raises(UserFacingError):
        S.compute_steps("a b", S.RANDOM, layer=9)


def test_long_text_is_truncated_with_a_notice():
    steps = S.compute_steps(" ".join(["word"] * 100), S.RANDOM)
    assert len(steps.tokens) == S.MAX_TOKENS and "tf.notice.steps_truncated" in [n.key for n in steps.notices]


@needs_minilm
def test_minilm_steps_match_transformers_bert():
    from transformers import BertModel

    path = minilm_folder()
    model = BertModel.from_pretrained(str(path), attn_implementation="eager").eval()
    text = "The animal didn't cross the street because it was tired."
    steps = S.compute_steps(text, S.MINILM, layer=3)
    ids = torch.tensor([S._minilm_tokenize(text)[1]])
    with torch.no_grad():
        out = model(ids, output_attentions=True, output_hidden_states=True)
    assert len(out.attentions) == 6
    assert np.allclose(steps.x, out.hidden_states[3][0].numpy(), atol=1e-4)
    expected = out.attentions[3][0].numpy()  # (12, T, T)
    assert np.allclose(steps.maps().weights[0], expected, atol=1e-4)


@needs_minilm
def test_minilm_hostile_and_korean_text_gives_notices_not_errors():
    steps = S.compute_steps("안녕 </script><img src=x onerror=alert(1)> 😀", S.MINILM, layer=0)
    assert "tf.notice.minilm_korean" in [n.key for n in steps.notices]
    assert all(np.isfinite(h.weights).all() for h in steps.heads)


@needs_minilm
def test_without_positions_shuffling_only_permutes_attention():
    text = "the small cat chased a big dog"
    blind = S.order_blindness(text, with_positions=False, layer=1, head=3, seed=1)
    assert blind.difference < 1e-4
    perm = list(blind.permutation)
    assert np.allclose(blind.shuffled.weights[0, 0],
                       blind.original.weights[0, 0][np.ix_(perm, perm)], atol=1e-4)
    seeing = S.order_blindness(text, perm, with_positions=True, layer=1, head=3)
    assert seeing.difference > 0.05
    with pytest.raises(UserFacingError):
        S.order_blindness(text, [0, 0, 1], with_positions=False)
    with pytest.raises(UserFacingError):
        S.order_blindness("cat", with_positions=False)


def test_transformer_encoder_source_matches_the_model(tmp_path):
    from lmcore.translation.checkpoints import Checkpoint, save_checkpoint
    from lmcore.translation.text import Tokenizer, Vocab
    from lmcore.transformer import Transformer, TransformerConfig

    torch.manual_seed(0)
    model = Transformer(TransformerConfig(60, 50, 32, 4, 2, 2, 64, 0.0, 16)).eval()
    save_checkpoint(tmp_path, Checkpoint(model, Tokenizer(), Tokenizer(),
                                         Vocab([f"w{i}" for i in range(56)]),
                                         Vocab([f"t{i}" for i in range(46)])), torch.float32)
    steps = S.compute_steps("w1 w2 w3 w9", str(tmp_path), layer=1)
    ids = torch.tensor([[5, 6, 7, 13]])  # 4 specials first
    with torch.no_grad():
        _, w = model.forward_with_weights(ids, torch.tensor([[2]]))
    assert steps.tokens == ("w1", "w2", "w3", "w9") and steps.d_k == 8
    assert np.allclose(steps.maps().weights[0], w["encoder"][1][0].numpy(), atol=1e-5)
