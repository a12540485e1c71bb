"""lmcore.demos.compare: two tokenizations of one text on the same words, and agreement numbers."""
from __future__ import annotations

import numpy as np
import pytest

from lmcore.demos import compare as C
from lmcore.translation import text as T
from lmcore.pretrained.analysis import aggregate_words
from lmcore.record import AttentionMaps

TEXT = "The unbelievable cat."
WORDS = C.split_words(TEXT)
# A: WordPiece-like, with [CLS]/[SEP]; "unbelievable" in 3 pieces
A_TOKENS = ["[CLS]", "the", "un", "##believ", "##able", "cat", ".", "[SEP]"]
A_SPANS = [None, (0, 3), (4, 6), (6, 12), (12, 16), (17, 20), (20, 21), None]
# B: another vocabulary; its last token "cat." straddles two words (3 chars of "cat", 1 of ".")
B_TOKENS = ["the", "unbeliev", "able", "cat."]
B_SPANS = [(0, 3), (4, 12), (12, 16), (17, 21)]


def random_maps(tokens, seed=0, layers=2, heads=3, kind="self") -> AttentionMaps:
    rng = np.random.default_rng(seed)
    w = rng.random((layers, heads, len(tokens), len(tokens)))
    if kind == "causal":
        w = np.tril(w)
    return AttentionMaps(w / w.sum(-1, keepdims=True), tokens, tokens, kind)


def test_words_are_the_translators_words():
    assert C.WORD_RE is T.WORD_RE  # one definition, imported
    assert [w.text for w in C.split_words("Don't panic, l'heure!")] == \
        ["Don'", "t", "panic", ",", "l'", "heure", "!"]
    assert [w.text for w in WORDS] == ["The", "unbelievable", "cat", "."]


def test_two_tokenizations_get_identical_axes_and_rows_sum_to_one():
    a = C.align(random_maps(A_TOKENS, 1), A_SPANS, WORDS)
    b = C.align(random_maps(B_TOKENS, 2), B_SPANS, WORDS)
    labels = ("The", "unbelievable", "cat", ".")
    for side in (a, b):
        assert side.maps.query_tokens == side.maps.key_tokens == labels
        assert side.maps.weights.shape == (2, 3, 4, 4)
        np.testing.assert_allclose(side.maps.weights.sum(-1), 1.0, atol=1e-5)
        assert side.seen.all()


def test_dropping_special_tokens_renormalises_and_reports_the_share():
    n = len(A_TOKENS)
    w = np.full((1, 1, n, n), 0.5 / (n - 2))
    w[..., 0] = w[..., -1] = 0.25  # half of every row on [CLS] and [SEP]
    side = C.align(AttentionMaps(w, A_TOKENS, A_TOKENS, "self"), A_SPANS, WORDS)
    # the other half, renormalised: 1 piece of "The" -> 1/6, 3 pieces of "unbelievable" -> 3/6...
    np.testing.assert_allclose(side.maps.weights[0, 0], np.tile([1 / 6, 3 / 6, 1 / 6, 1 / 6], (4, 1)),
                               atol=1e-6)
    assert side.dropped[0, 0] == pytest.approx(0.5)
    assert C.head_dropped(side, 0, 0) == pytest.approx(0.5)


def test_a_word_in_three_pieces_sums_keys_and_averages_queries():
    maps = random_maps(A_TOKENS, 3, layers=1, heads=1)
    side = C.align(maps, A_SPANS, WORDS)
    a = maps.weights[0, 0].astype(np.float64)[1:-1, 1:-1]  # without [CLS]/[SEP]
    a = a / a.sum(-1, keepdims=True)  # renormalised rows
    pieces = [1, 2, 3]  # un ##believ ##able within the inner tokens (the, un, ##believ, ##able, cat, .)
    expected_row = a[pieces].mean(0)  # queries: mean over the three pieces
    expected = [expected_row[0], expected_row[pieces].sum(), expected_row[4], expected_row[5]]
    np.testing.assert_allclose(side.maps.weights[0, 0, 1], expected, atol=1e-6)
    assert side.maps.weights[0, 0, 1, 1] == pytest.approx(a[pieces][:, pieces].sum(1).mean(), abs=1e-6)


def test_one_hot_assignment_equals_aggregate_words():
    inner = A_TOKENS[1:-1]
    maps = random_maps(inner, 4)
    side = C.align(maps, A_SPANS[1:-1], WORDS)
    reference = aggregate_words(maps, [0, 1, 1, 1, 2, 3])
    np.testing.assert_allclose(side.maps.weights, reference.weights, atol=1e-6)
    assert side.dropped.max() == pytest.approx(0.0, abs=1e-6)


def test_a_token_over_two_words_is_shared_by_overlap():
    m = C.assignment(B_SPANS + [None], WORDS)
    np.testing.assert_allclose(m[3], [0, 0, 0.75, 0.25])
    np.testing.assert_allclose(m[1], [0, 1, 0, 0])
    assert not m[4].any()  # a special token: no word


def test_causal_maps_stay_causal_on_words():
    side = C.align(random_maps(B_TOKENS[:3], 5, kind="causal"), B_SPANS[:3], WORDS[:3])
    assert side.maps.kind == "causal"
    assert np.allclose(np.triu(side.maps.weights[0, 0], 1), 0)


def test_agreement_of_a_model_with_itself():
    side = C.align(random_maps(A_TOKENS, 6), A_SPANS, WORDS)
    for head in (0, 2, C.MEAN):
        same = C.agreement(C.head_map(side.maps, 1, head), C.head_map(side.maps, 1, head))
        assert same.js_mean == pytest.approx(0.0, abs=1e-6)
        assert same.top_same == 1.0 and same.rows == 4


def test_head_mean_is_the_mean_of_heads():
    side = C.align(random_maps(A_TOKENS, 7), A_SPANS, WORDS)
    np.testing.assert_allclose(C.head_map(side.maps, 0, C.MEAN), side.maps.weights[0].mean(0), atol=1e-6)


def test_js_distance_bounds():
    assert C.js_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    assert C.js_distance([0.3, 0.7], [0.3, 0.7]) == pytest.approx(0.0, abs=1e-7)
    p, q = np.array([0.6, 0.3, 0.1]), np.array([0.2, 0.2, 0.6])
    assert 0 < C.js_distance(p, q) < 1
    assert C.js_distance(p, q) == pytest.approx(C.js_distance(q, p))
    m = (p + q) / 2  # by hand: sqrt((KL(p||m) + KL(q||m)) / 2), log base 2
    by_hand = np.sqrt((np.sum(p * np.log2(p / m)) + np.sum(q * np.log2(q / m))) / 2)
    assert C.js_distance(p, q) == pytest.approx(by_hand)


def test_different_models_disagree_somewhat():
    a = C.align(random_maps(A_TOKENS, 8), A_SPANS, WORDS)
    b = C.align(random_maps(B_TOKENS, 9), B_SPANS, WORDS)
    result = C.agreement(C.head_map(a.maps, 0, 0), C.head_map(b.maps, 0, 0))
    assert 0 < result.js_mean < 1 and result.rows == 4


@pytest.mark.parametrize("text,lang", [("I’m ＯＫ, the CAT's here.", "en"), ("나는  학교에 간다.", "ko")])
def test_source_spans_point_back_into_the_original_text(text, lang):
    tokenizer = T.tokenizer_for(lang)
    tokens = tokenizer.tokenize(text)
    spans = C.source_spans(text, tokens)
    for tok, span in zip(tokens, spans):
        if tok == T.SPACE:
            assert span is None
        else:
            assert tokenizer.tokenize(text[span[0]:span[1]]) == [tok]


def cross_maps(targets, sources, seed=0) -> AttentionMaps:
    w = np.random.default_rng(seed).random((1, 1, len(targets), len(sources)))
    return AttentionMaps(w / w.sum(-1, keepdims=True), targets, sources, "cross")


def test_translator_alignment_on_words_and_self_agreement():
    text = "나는 학교에 간다."
    tokens = T.tokenizer_for("ko").tokenize(text)  # syllables and ▁
    words = C.split_words(text)
    side = C.align(cross_maps(["i", "go", "<unk>", "."], tokens + [T.EOS]),
                   C.source_spans(text, tokens) + [None], words)
    assert side.maps.key_tokens == ("나는", "학교에", "간다", ".")
    assert side.maps.query_tokens == ("i", "go", "<unk>", ".")
    np.testing.assert_allclose(side.maps.weights.sum(-1), 1.0, atol=1e-5)
    assert 0 < side.dropped[0, 0] < 1  # weight on ▁ and <eos> dropped
    rows = C.head_map(side.maps, 0, 0)
    same = C.translation_agreement(rows, side.maps.query_tokens, rows, side.maps.query_tokens)
    assert [p[:2] for p in same.pairs] == [(0, 0), (1, 1), (3, 3)]  # <unk> = <unk> is no evidence
    assert same.top_same == 1.0
    assert same.js_mean == pytest.approx(0.0, abs=1e-6) and same.coverage_js == pytest.approx(0.0, abs=1e-6)


def test_translation_agreement_pairs_shared_words_in_order():
    a = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    b = np.array([[0.1, 0.9], [0.3, 0.7]])
    result = C.translation_agreement(a, ["le", "chat", "dort"], b, ["chat", "dort"])
    assert result.pairs == ((1, 0, 1, 1), (2, 1, 0, 1))
    assert result.top_same == 0.5
    none = C.translation_agreement(a, ["le", "chat", "dort"], b, ["x", "y"])
    assert none.pairs == () and none.top_same is None and none.js_mean is None
    assert 0 <= none.coverage_js <= 1


def test_truncation_keeps_the_words_both_models_saw():
    a = C.align(random_maps(A_TOKENS, 10), A_SPANS, WORDS)
    b = C.align(random_maps(B_TOKENS[:2], 11), B_SPANS[:2], WORDS)  # B was cut after 2 words
    assert list(b.seen) == [True, True, False, False]
    ca, cb = C.common(a, b)
    assert ca.maps.key_tokens == cb.maps.key_tokens == ("The", "unbelievable")
    assert ca.maps.weights.shape[-2:] == (2, 2)
    assert [n.key for n in C.cut_notices(2, 4)] == ["cmp.notice.cut"] and C.cut_notices(4, 4) == []


def test_a_model_that_cannot_read_the_text_gets_a_notice():
    unknown = [False, True, True, True, True, True, True, False]  # every word piece is [UNK]
    side = C.align(random_maps(A_TOKENS, 12), A_SPANS, WORDS, unknown)
    assert side.unknown.all()
    assert [(n.key, n.params) for n in C.notices("m", side)] == [("cmp.notice.blind", {"name": "m"})]
    punctuation_known = C.align(random_maps(A_TOKENS, 12), A_SPANS, WORDS, unknown[:6] + [False] * 2)
    assert not punctuation_known.unknown[3]
    assert [n.key for n in C.notices("m", punctuation_known)] == ["cmp.notice.blind"]  # "." aside
    partly = C.align(random_maps(A_TOKENS, 12), A_SPANS, WORDS, [False, False, True] + [False] * 5)
    assert list(partly.unknown) == [False, False, False, False]  # 1 of 3 pieces: still readable
    assert C.notices("m", partly) == []
