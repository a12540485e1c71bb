"""Greedy and beam decoding with traces, on a tiny model trained to copy its input."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from lmcore.checkpoints import Checkpoint
from lmcore.decoding import beam_search, decode, greedy_batch, greedy_decode
from lmcore.seq2seq import Seq2Seq, Seq2SeqConfig
from lmcore.text import EOS_ID, Tokenizer, Vocab
from lmcore.training import TrainConfig, train_model
from lmcore.translators import Translator

WORDS = [f"w{i}" for i in range(16)]


def copy_examples(n: int, seed: int) -> list[tuple[list[int], list[int]]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        seq = [rng.randrange(4, 4 + len(WORDS)) for _ in range(rng.randint(2, 6))]
        out.append((seq, list(seq)))
    return out


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny matrices: one thread is faster, above all on a busy machine (restored after)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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
