"""lmcore.pretrained.predict on the tiny random BERT/GPT-2 folders of test_pretrained."""
from __future__ import annotations

import numpy as np
import pytest

from lmcore.errors import UserFacingError
from lmcore.pretrained import encoding as P
from lmcore.pretrained import loading as lm_loading
from lmcore.pretrained import generation
from lmcore.pretrained import predict as LP
from tests.test_pretrained import bert_dir, gpt2_dir  # noqa: F401 (fixtures)


def test_fill_mask_needs_mask_and_handles_several(bert_dir, gpt2_dir):
    with pytest.raises(UserFacingError) as info:
        LP.fill_mask(bert_dir, "the cat sat on the mat")
    assert info.value.key == "lm.err.no_mask"
    res = LP.fill_mask(bert_dir, "the [MASK] sat on the [mask] .", top_k=4)
    assert len(res.masks) == 2 and all(len(m) == 4 for m in res.masks)
    specials = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
    for preds in res.masks:
        probs = [p.probability for p in preds]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
        assert not specials & {p.token for p in preds}
    with pytest.raises(UserFacingError) as info:
        LP.fill_mask(gpt2_dir, "the [MASK]")
    assert info.value.key == "lm.err.wrong_kind"


def test_fill_mask_beyond_truncation(bert_dir):
    with pytest.raises(UserFacingError) as info:
        LP.fill_mask(bert_dir, "the cat sat " * 20 + "[MASK]")
    assert info.value.key == "lm.err.mask_truncated"


def test_next_sentence_probability(bert_dir):
    res = LP.next_sentence(bert_dir, "the cat sat.", "it slept.")
    assert 0.0 <= res.probability <= 1.0
    with pytest.raises(UserFacingError):
        LP.next_sentence(lm_loading.load_model("all-MiniLM-L6-v2"), "a", "b")


def test_next_token_temperature_and_top_k(gpt2_dir):
    cold = LP.next_token(gpt2_dir, "the cat", top_k=5, temperature=0.5).predictions
    hot = LP.next_token(gpt2_dir, "the cat", top_k=5, temperature=2.0).predictions
    assert len(cold) == 5
    assert sum(p.probability for p in cold) < 1.0  # the model's own numbers, not renormalised
    assert [p.token_id for p in cold] == [p.token_id for p in hot]
    assert cold[0].probability > hot[0].probability
    one = LP.next_token(gpt2_dir, "the cat", top_k=1).predictions[0].probability
    assert one == pytest.approx(LP.next_token(gpt2_dir, "the cat", top_k=5).predictions[0].probability)
    assert one < 1.0


def test_generation_trace_matches_final_map_and_is_prefix_stable(gpt2_dir):
    trace = generation.generate_trace(gpt2_dir, "the cat", steps=5, top_k=5, seed=3)
    short = generation.generate_trace(gpt2_dir, "the cat", steps=3, top_k=5, seed=3)
    assert [s.chosen.token_id for s in short.steps] == [s.chosen.token_id for s in trace.steps[:3]]
    w = trace.final.maps.weights
    assert w.shape[-1] == trace.steps[-1].position + 1
    for step in trace.steps:
        assert step.chosen in step.rivals
        np.testing.assert_array_equal(step.attention, w[:, :, step.position, : step.position + 1])
        np.testing.assert_allclose(step.attention.sum(-1), 1.0, atol=1e-5)
    greedy = generation.generate_trace(gpt2_dir, "the cat", steps=2, greedy=True)
    assert all(s.chosen == s.rivals[0] for s in greedy.steps)


def test_generation_stops_at_context(gpt2_dir):
    trace = generation.generate_trace(gpt2_dir, "the cat sat on the mat " * 8, steps=80)
    assert trace.final.maps.weights.shape[-1] == 64
    assert any(n.key == "lm.notice.context_full" for n in trace.notices)


def test_new_token_maps_puts_each_head_on_a_row():
    attention = np.random.default_rng(0).random((2, 4, 5)).astype(np.float32)  # (L, H, k)
    maps = generation.new_token_maps(attention, ["a", "b", "c", "d", "e", "f"],
                              lambda layer, head: f"L{layer}H{head}")
    assert maps.weights.shape == (1, 1, 8, 5)
    assert maps.query_tokens[5] == "L1H1" and maps.key_tokens == ("a", "b", "c", "d", "e")
    np.testing.assert_array_equal(maps.weights[0, 0, 5], attention[1, 1])


def test_fill_mask_offers_whole_words_only(bert_dir):
    """A blank holds a word: no special token and no '##' continuation piece is offered."""
    lm = lm_loading.load_model(bert_dir)
    assert any(piece.startswith("##") for piece in lm.tokenizer.get_vocab())  # the test means something
    result = LP.fill_mask(lm, "the [MASK] sat on the mat", top_k=50)
    pieces = [p.token for p in result.masks[0]]
    assert pieces and not any(p.startswith("##") for p in pieces)
    assert not set(p.token_id for p in result.masks[0]) & set(lm.tokenizer.all_special_ids)
