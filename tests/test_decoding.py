"""Greedy and beam decoding with traces, on a tiny model trained to copy its input."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from lmcore.translation.checkpoints import Checkpoint
from lmcore.translation.decoding import beam_search, decode, greedy_batch, greedy_decode
from lmcore.seq2seq import Seq2Seq, Seq2SeqConfig
from lmcore.translation.text import Tokenizer, Vocab
from lmcore.special_ids import EOS_ID
from lmcore.translation.training import TrainConfig, train_model
from lmcore.translation.translators import Translator

WORDS = [f"w{i}" for i in range(16)]


def copy_examples(n: int, seed: int) -> list[tuple[list[int], list[int]]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        seq = [rng.randrange(4, 4 + len(WORDS)) for _ in range(rng.randint(2, 6))]
        out.append((seq, list(seq)))
    return out


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def copier(one_thread) -> Seq2Seq:
    torch.manual_seed(0)
    model = Seq2Seq(Seq2SeqConfig(4 + len(WORDS), 4 + len(WORDS), 32, 64, "lstm", 1, "luong-dot", 0.0))
    train_model(model, copy_examples(960, 0), copy_examples(32, 1),
                TrainConfig(epochs=8, batch_size=32, lr=1e-2, patience=8))
    return model.eval()


@pytest.fixture(scope="module")
def translator(copier) -> Translator:
    vocab = Vocab(WORDS)
    return Translator("copier", Checkpoint(copier, Tokenizer(), Tokenizer(), vocab, vocab), 60)


def test_tiny_model_learns_to_copy(copier):
    tests = copy_examples(50, 99)
    correct = sum(greedy_decode(copier, src) == tgt for src, tgt in tests)
    assert correct >= 45


def test_beam_of_one_is_greedy(copier):
    for src, _ in copy_examples(10, 5):
        greedy, beam1 = decode(copier, src, beam=1), decode(copier, src, beam=1)
        assert beam1.tokens == greedy.tokens == greedy_decode(copier, src)
        via_beam = beam_search(copier, src, 1)
        assert via_beam.tokens == greedy.tokens
        assert via_beam.score == pytest.approx(greedy.score, abs=1e-5)


def test_batched_greedy_equals_one_by_one(copier):
    sources = [src for src, _ in copy_examples(12, 7)]
    assert greedy_batch(copier, sources) == [greedy_decode(copier, s) for s in sources]


def test_trace_rows_are_distributions_over_the_source(copier):
    src = [5, 9, 7, 12]
    result = decode(copier, src)
    assert result.finished and result.steps[-1].token == EOS_ID
    assert len(result.steps) == len(result.tokens) + 1
    for step in result.steps:
        assert step.weights.shape == (4,) and step.scores.shape == (4,)
        assert step.weights.sum() == pytest.approx(1.0, abs=1e-5)
        assert step.context.shape == (64,)
        probs = [p for _, p in step.top_k]
        assert len(probs) == 5 and probs == sorted(probs, reverse=True)
        assert step.top_k[0][0] == step.token and step.prob == pytest.approx(probs[0])


def test_copy_attention_is_roughly_diagonal(copier):
    src = [5, 9, 7, 12, 6]
    weights = np.stack([s.weights for s in decode(copier, src).steps[:5]])
    assert (weights.argmax(axis=1) == np.arange(5)).mean() >= 0.6


def test_beam_search_keeps_beams_per_step(copier):
    result = decode(copier, [5, 9, 7], beam=3)
    assert result.tokens == [5, 9, 7] and result.finished
    assert len(result.beams) == len(result.steps)
    assert all(1 <= len(step) <= 6 for step in result.beams)
    assert [b.tokens for b in result.beams[0] if not b.finished][0] == [5]


def test_translator_builds_the_cross_attention_record(translator):
    result = translator.translate("w1 w5 w3", beam=2)
    maps = result.attention
    assert maps.kind == "cross" and maps.weights.shape == (1, 1, 3, 3)
    assert maps.query_tokens == ("w1", "w5", "w3") and maps.key_tokens == ("w1", "w5", "w3")
    np.testing.assert_allclose(maps.weights.sum(-1), 1.0, atol=1e-5)
    data = result.to_dict(vectors=False)
    assert data["output_tokens"] == ["w1", "w5", "w3"] and len(data["attention"]) == 3
    assert "context" not in data["steps"][0] and data["steps"][0]["top_k"][0]["token"] == "w1"


def test_translator_reports_unknown_words_and_plain_models_have_no_attention(translator):
    result = translator.translate("w1 zebra")
    assert result.unknown_words == ["zebra"]
    plain = Seq2Seq(Seq2SeqConfig(20, 20, 8, 8, attention="none")).eval()
    vocab = Vocab(WORDS)
    bare = Translator("plain", Checkpoint(plain, Tokenizer(), Tokenizer(), vocab, vocab), 60)
    out = bare.translate("w1 w2", max_len=5)
    assert out.attention is None and out.to_dict()["attention"] is None
    assert all(s.weights is None for s in out.steps)


def test_encoder_states_give_the_plain_models_one_context_vector(translator):
    view = translator.encoder_states("w1 w2 w3")
    assert view["source_tokens"] == ["w1", "w2", "w3"] and view["states"].shape == (3, 64)
    np.testing.assert_allclose(view["context"], view["states"][-1], atol=1e-6)


# ---------------------------------------------------------------- Transformer key/value cache

def tiny_transformer(norm_first: bool = True, positional: str = "sinusoidal"):
    from lmcore.transformer import Transformer, TransformerConfig

    torch.manual_seed(3)
    return Transformer(TransformerConfig(60, 50, 32, 4, 2, 2, 64, 0.0, 24, positional,
                                         norm_first)).eval()


def assert_same_decoding(cached, uncached) -> None:
    assert cached.tokens == uncached.tokens and cached.finished == uncached.finished
    assert cached.score == pytest.approx(uncached.score, abs=1e-5)
    assert len(cached.steps) == len(uncached.steps)
    for a, b in zip(cached.steps, uncached.steps):
        assert a.token == b.token and [i for i, _ in a.top_k] == [i for i, _ in b.top_k]
        np.testing.assert_allclose([p for _, p in a.top_k], [p for _, p in b.top_k], atol=1e-5)
        for name in ("weights", "self_rows", "cross_rows"):
            np.testing.assert_allclose(getattr(a, name), getattr(b, name), atol=1e-5)
    assert [[(b.tokens, b.finished) for b in s] for s in cached.beams] == \
        [[(b.tokens, b.finished) for b in s] for s in uncached.beams]


@pytest.mark.parametrize("beam", [1, 3])
@pytest.mark.parametrize("norm_first,positional", [(True, "sinusoidal"), (False, "learned")])
def test_cached_transformer_decoding_equals_the_uncached_path(beam, norm_first, positional):
    from lmcore.demos.kv_cache_steps import PrefixDecoder

    model = tiny_transformer(norm_first, positional)
    for src in ([5, 6, 7, 8, 9], [11, 12]):
        cached = decode(model, src, beam=beam, max_len=15)
        assert_same_decoding(cached, decode(PrefixDecoder(model, layer_maps=True), src, beam=beam,
                                            max_len=15))
        plain = decode(PrefixDecoder(model), src, beam=beam, max_len=15)  # the old step exactly
        assert plain.tokens == cached.tokens and plain.score == pytest.approx(cached.score, abs=1e-5)


def layer_rows(steps) -> tuple[np.ndarray, np.ndarray] | None:
    """The per-step rows of every layer and head put together: causal (layers, heads, T, T),
    zero above the diagonal (step i saw positions 0..i), and cross (layers, heads, T, S)."""
    if not steps or steps[0].self_rows is None or steps[0].cross_rows is None:
        return None
    layers, heads, _ = steps[0].self_rows.shape
    causal = np.zeros((layers, heads, len(steps), len(steps)), np.float32)
    for i, step in enumerate(steps):
        causal[:, :, i, : i + 1] = step.self_rows
    return causal, np.stack([s.cross_rows for s in steps], axis=2).astype(np.float32)


@pytest.mark.parametrize("beam", [1, 3])
def test_cached_step_rows_are_the_full_forward_record(beam):
    from lmcore.transformer import attention_trace

    model = tiny_transformer()
    src = [5, 6, 7, 8, 9, 10]
    result = decode(model, src, beam=beam, max_len=12)
    causal, cross = layer_rows(result.steps)
    n = len(result.steps)
    assert causal.shape == (2, 4, n, n) and cross.shape == (2, 4, n, len(src))
    assert np.all(np.triu(causal, 1) == 0)  # no step saw a later position
    np.testing.assert_allclose(causal.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(cross.sum(-1), 1.0, atol=1e-5)
    inputs = [model.bos_id] + result.tokens  # what the decoder positions read
    trace = attention_trace(model, torch.tensor([src]), torch.tensor([inputs]),
                            [str(i) for i in src], [str(i) for i in inputs])
    np.testing.assert_allclose(causal, trace["decoder"].weights[:, :, :n, :n], atol=1e-5)
    np.testing.assert_allclose(cross, trace["cross"].weights[:, :, :n], atol=1e-5)
    assert layer_rows(decode(Seq2Seq(Seq2SeqConfig(20, 20, 8, 8)).eval(), [5, 6], max_len=3).steps) is None


def test_cached_greedy_batch_equals_uncached_and_one_by_one():
    from lmcore.demos.kv_cache_steps import PrefixDecoder

    model = tiny_transformer()
    sources = [[5, 6], [7, 8, 9, 10, 11], [12], [13, 14, 15]]  # padded to 5 in the batch
    cached = greedy_batch(model, sources, max_len=30)  # runs into the positional table's end (24)
    assert cached == greedy_batch(PrefixDecoder(model), sources, max_len=30)
    assert cached == [greedy_decode(model, s, max_len=30) for s in sources]
    assert all(len(row) <= 23 for row in cached)
