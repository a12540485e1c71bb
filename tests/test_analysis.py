"""lmcore.pretrained.analysis: token display, word aggregation, hiding, head report, rollout."""
from __future__ import annotations

import numpy as np
import pytest

from lmcore.pretrained.analysis import (aggregate_words, attention_rollout, clean_token, display_tokens,
                                hangul_is_lost, has_hangul, head_report, hide_tokens, is_punctuation,
                                rollout_maps, word_ids_from_offsets, word_labels)
from lmcore.record import AttentionMaps


def random_maps(n: int = 6, layers: int = 2, heads: int = 4, seed: int = 0, causal: bool = False):
    rng = np.random.default_rng(seed)
    w = rng.random((layers, heads, n, n)).astype(np.float32)
    if causal:
        w = np.tril(w)
    w /= w.sum(-1, keepdims=True)
    toks = tuple(f"t{i}" for i in range(n))
    return AttentionMaps(w, toks, toks, "causal" if causal else "self")


@pytest.mark.parametrize("raw, shown", [("##ing", "ing"), ("Ġthe", "the"), ("Ċ", "↵"), ("▁word", "word"),
                                        ("[CLS]", "[CLS]"), ("<|endoftext|>", "<|endoftext|>"),
                                        ("Ġ", "␣"), ("##", "##")])
def test_clean_token(raw, shown):
    assert clean_token(raw) == shown


def test_display_tokens_numbers_byte_fragments_and_marks_unk():
    text = "hi 안"
    raw = ["hi", "Ġì", "ķ", "Ī"]
    offsets = [(0, 2), (3, 4), (3, 4), (3, 4)]
    labels = display_tokens([text], raw, offsets, [0] * 4, [False] * 4, None)
    assert labels == ["hi", "안(1/3)", "안(2/3)", "안(3/3)"]
    labels = display_tokens(["안녕"], ["[CLS]", "[UNK]", "[SEP]"], [(0, 0), (0, 2), (0, 0)],
                            [0, 0, 0], [True, False, True], "[UNK]")
    assert labels == ["[CLS]", "안녕→[UNK]", "[SEP]"]


def test_display_tokens_keep_original_case_and_hostile_text():
    text = "</script><b>Hi</b>"
    pieces = [(0, 1), (1, 2), (2, 8), (8, 9), (9, 10), (10, 11), (11, 12), (12, 14), (14, 18)]
    raw = [text[s:e].lower() for s, e in pieces]
    labels = display_tokens([text], raw, pieces, [0] * 9, [False] * 9, "[UNK]")
    assert "".join(labels) == text


def test_hangul_detection():
    assert has_hangul("a 한국어 b") and not has_hangul("plain English")
    assert hangul_is_lost(["[CLS]", "ᄒ", "##ᅡ", "[SEP]"], "[UNK]")
    assert hangul_is_lost(["[UNK]"], "[UNK]")
    assert not hangul_is_lost(["한국", "##어"], "[UNK]")


def test_punctuation():
    assert is_punctuation(".") and is_punctuation("?!") and is_punctuation("」")
    assert not is_punctuation("a.") and not is_punctuation("")


def test_word_ids_from_offsets_joins_subwords_only():
    text = "unbelievable cats, ok"
    offsets = [(0, 0), (0, 2), (2, 6), (6, 12), (13, 17), (17, 18), (19, 21), (0, 0)]
    special = [True] + [False] * 6 + [True]
    ids = word_ids_from_offsets(offsets, [0] * 8, special, [text])
    assert ids == [0, 1, 1, 1, 2, 3, 4, 5]


def test_aggregate_words_hand_computed_and_rows_sum_to_one():
    w = np.array([[[[0.5, 0.25, 0.25], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6]]]], dtype=np.float32)
    maps = AttentionMaps(w, ("a", "##b", "c"), ("a", "##b", "c"), "self")
    words = aggregate_words(maps, [0, 0, 1], ["ab", "c"])
    expected = np.array([[(0.75 + 0.7) / 2, (0.25 + 0.3) / 2], [0.4, 0.6]])
    np.testing.assert_allclose(words.weights[0, 0], expected, atol=1e-6)
    big = random_maps(8, seed=3)
    agg = aggregate_words(big, [0, 1, 1, 2, 3, 3, 3, 4])
    assert agg.weights.shape == (2, 4, 5, 5)
    np.testing.assert_allclose(agg.weights.sum(-1), 1.0, atol=1e-5)
    assert agg.key_tokens[1] == "t1t2"


def test_aggregate_words_keeps_causal_zeros():
    maps = random_maps(6, causal=True, seed=4)
    agg = aggregate_words(maps, [0, 1, 1, 2, 3, 3])
    assert np.all(np.triu(agg.weights, 1) == 0)


def test_hide_tokens_renormalises_rows():
    maps = random_maps(6, seed=1)
    hidden = [True, False, False, False, False, True]
    out = hide_tokens(maps, hidden)
    assert out.weights.shape == (2, 4, 4, 4)
    assert out.query_tokens == ("t1", "t2", "t3", "t4")
    np.testing.assert_allclose(out.weights.sum(-1), 1.0, atol=1e-5)
    kept = maps.weights[:, :, 1:5, 1:5]
    np.testing.assert_allclose(out.weights, kept / kept.sum(-1, keepdims=True), rtol=1e-5)


def test_hide_tokens_row_with_all_mass_hidden_is_zero_not_nan():
    w = np.array([[[[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]]]], dtype=np.float32)
    out = hide_tokens(AttentionMaps(w, ("[CLS]", "a", "b"), ("[CLS]", "a", "b"), "causal"), [True, False, False])
    np.testing.assert_allclose(out.weights[0, 0], [[1.0, 0.0], [0.375, 0.625]])
    assert np.isfinite(out.weights).all()


def test_head_report_labels_clear_heads():
    toks = ("[CLS]", "the", "cat", "sat", ".", "[SEP]")
    n = len(toks)
    prev = np.eye(n, k=-1)
    prev[0, 0] = 1.0
    cls = np.zeros((n, n))
    cls[:, 0] = 1.0
    uniform = np.full((n, n), 1 / n)
    sep = np.zeros((n, n))
    sep[:, 5] = 0.9
    sep[:, 4] = 0.1
    w = np.stack([prev, cls, uniform, sep])[None].astype(np.float32)  # (1, 4, n, n)
    report = head_report(AttentionMaps(w, toks, toks, "self"))
    assert [h.label for h in report] == ["prev", "cls", "broad", "sep"]
    assert report[0].prev == pytest.approx(5 / 6)
    assert report[1].cls == pytest.approx(1.0) and report[1].entropy == pytest.approx(0.0)
    assert report[2].entropy == pytest.approx(np.log2(n), rel=1e-5)  # bits
    assert report[3].punct == pytest.approx(0.1, rel=1e-5)
    assert set(report[0].to_dict()) >= {"layer", "head", "cls", "sep", "punct", "prev", "next", "same", "entropy", "label"}


def test_head_report_mixed_when_nothing_dominates():
    toks = ("a", "b", "c", "d")
    w = np.array([[0.4, 0.4, 0.1, 0.1], [0.4, 0.4, 0.1, 0.1], [0.1, 0.1, 0.4, 0.4], [0.1, 0.1, 0.4, 0.4]])
    report = head_report(AttentionMaps(w[None, None].astype(np.float32), toks, toks, "self"),
                         broad_entropy=10.0)
    assert report[0].label == "mixed"


def test_rollout_identity_with_full_residual_and_one_layer_by_hand():
    maps = random_maps(5, layers=3, seed=2)
    np.testing.assert_allclose(attention_rollout(maps, residual=1.0)[-1], np.eye(5), atol=1e-6)
    one = maps.select(layers=[0])
    expected = 0.5 * np.eye(5) + 0.5 * one.weights[0].mean(0)
    np.testing.assert_allclose(attention_rollout(one)[0], expected / expected.sum(-1, keepdims=True), atol=1e-6)
    rolled = rollout_maps(maps)
    assert rolled.weights.shape == (3, 1, 5, 5)
    np.testing.assert_allclose(rolled.weights.sum(-1), 1.0, atol=1e-5)


def test_rollout_of_two_layers_is_the_product():
    maps = random_maps(4, layers=2, heads=1, seed=5)
    a = [0.5 * np.eye(4) + 0.5 * maps.weights[i, 0] for i in range(2)]
    np.testing.assert_allclose(attention_rollout(maps)[1], a[1] @ a[0], atol=1e-6)


def test_word_labels_span_the_user_text():
    text = "Unbelievable cats!"
    offsets = [(0, 0), (0, 3), (3, 8), (8, 12), (13, 17), (17, 18), (0, 0)]
    tokens = ["[CLS]", "Unb", "eliev", "able", "cats", "!", "[SEP]"]
    special = [True, False, False, False, False, False, True]
    ids = word_ids_from_offsets(offsets, [0] * 7, special, [text])
    assert word_labels(ids, tokens, offsets, [0] * 7, special, [text]) == ["[CLS]", "Unbelievable", "cats", "!", "[SEP]"]


def test_head_entropy_is_in_bits_and_the_transformer_page_uses_it():
    from lmcore.demos.transformer_view import head_statistics
    from lmcore.pretrained.analysis import head_entropy

    toks = ("a", "b", "c", "d")
    w = np.stack([np.full((4, 4), 0.25), np.eye(4)])[None].astype(np.float32)  # (1, 2, 4, 4)
    maps = AttentionMaps(w, toks, toks, "self")
    assert head_entropy(maps) == pytest.approx(np.array([[2.0, 0.0]]))  # log2(4) bits, one-hot 0
    assert head_statistics(maps)[0] == pytest.approx(head_entropy(maps))
    assert [h.entropy for h in head_report(maps)] == pytest.approx([2.0, 0.0])
