"""The BERT page's maps (lmcore.pretrained.encoding.display_maps) on the tiny BERT of test_pretrained."""
from __future__ import annotations

import numpy as np

from lmcore.pretrained import encoding as P
from tests.test_pretrained import bert_dir  # noqa: F401 (fixture)


def test_display_maps_words_and_special_hiding(bert_dir):
    res = P.attention(bert_dir, "Unbelievable cats, sat!", "a dog ran.")
    words, b_start = P.display_maps(res, words=True)
    assert words.key_tokens[:3] == ("[CLS]", "Unbelievable", "cats")
    assert words.key_tokens[b_start - 1:b_start + 1] == ("[SEP]", "a")
    np.testing.assert_allclose(words.weights.sum(-1), 1.0, atol=1e-5)
    bare, b_start = P.display_maps(res, words=True, hide_special=True)
    assert "[CLS]" not in bare.key_tokens and "[SEP]" not in bare.key_tokens
    assert bare.key_tokens[0] == "Unbelievable" and bare.key_tokens[-1] == "."
    assert bare.key_tokens[b_start] == "a"
    np.testing.assert_allclose(bare.weights.sum(-1), 1.0, atol=1e-5)
    hidden, _ = P.display_maps(res, hide_special=True)
    assert len(hidden.key_tokens) == len(res.maps.key_tokens) - 3
    np.testing.assert_allclose(hidden.weights.sum(-1), 1.0, atol=1e-5)
    assert P.display_maps(res)[0] is res.maps and P.display_maps(P.attention(bert_dir, "a dog"))[1] is None


def test_word_maps_of_english_text_are_the_joined_pieces(bert_dir):
    """For ordinary English the offset labels equal the pieces joined (the BERT page's old
    labels) and the weights are aggregate_words' over the word ids: the same figures."""
    from lmcore.pretrained.analysis import aggregate_words, hide_tokens

    res = P.attention(bert_dir, "The king is dead, the cats sat on the mat.")  # k ##i ##ng, cat ##s
    enc = res.encoded
    joined = aggregate_words(res.maps, enc.word_ids)  # labels: the pieces' labels joined
    words, _ = P.display_maps(res, words=True)
    assert words.key_tokens == joined.key_tokens
    assert "king" in words.key_tokens and len(words.key_tokens) < len(res.maps.key_tokens)
    np.testing.assert_array_equal(words.weights, joined.weights)
    special = [all(sp for sp, w in zip(enc.special, enc.word_ids) if w == v) for v in range(len(words.key_tokens))]
    np.testing.assert_array_equal(P.display_maps(res, True, True)[0].weights, hide_tokens(joined, special).weights)
