"""Tokenizers, vocabularies and the notices for awkward input."""
from __future__ import annotations

import pytest

from lmcore.errors import UserFacingError
from lmcore.translation.text import SPACE, Tokenizer, Vocab, encode_text, tokenizer_for
from lmcore.special_ids import BOS_ID, EOS_ID, PAD_ID, UNK_ID

EN, KO = tokenizer_for("en"), tokenizer_for("ko")


def test_word_tokenizer_lowercases_and_splits_punctuation():
    assert EN.tokenize("Hello, World!") == ["hello", ",", "world", "!"]
    assert tokenizer_for("fr").tokenize("L’heure, c'est là !") == ["l'", "heure", ",", "c'", "est", "là", "!"]


def test_korean_is_split_into_syllables_with_space_marks():
    assert KO.kind == "char"
    assert KO.tokenize("안녕 세계.") == ["안", "녕", SPACE, "세", "계", "."]
    assert KO.detokenize(KO.tokenize("안녕 세계.")) == "안녕 세계."


def test_word_detokenize_glues_punctuation():
    assert EN.detokenize(["je", "suis", "l'", "homme", "."]) == "je suis l'homme."


def test_vocab_specials_frequency_and_caps():
    vocab = Vocab.build([["a", "b", "a"], ["a", "c", "b"]], min_freq=2)
    assert vocab.itos[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    assert (PAD_ID, UNK_ID, BOS_ID, EOS_ID) == (0, 1, 2, 3)
    assert vocab.itos[4:] == ["a", "b"]
    assert vocab.encode(["a", "c"]) == [4, UNK_ID]
    assert len(Vocab.build([["a", "b", "c"]], max_size=5)) == 5
    assert Vocab.from_list(vocab.to_list()).itos == vocab.itos
    with pytest.raises(ValueError):
        Vocab.from_list(["a", "b"])


def test_decode_strips_specials():
    vocab = Vocab(["x"])
    assert vocab.decode([BOS_ID, 4, UNK_ID, EOS_ID, PAD_ID]) == ["x", "<unk>"]


VOCAB = Vocab(["i", "am", "cold", "."])


def test_unknown_words_are_reported():
    enc = encode_text("I am very cold.", EN, VOCAB, 60)
    assert enc.ids == [4, 5, UNK_ID, 6, 7]
    assert enc.unknown == ["very"]
    assert [n.key for n in enc.notices] == ["s2s.notice.unknown_words"]


def test_only_unknown_words_get_their_own_notice():
    enc = encode_text("zebra xylophone", EN, VOCAB, 60)
    assert [n.key for n in enc.notices] == ["s2s.notice.all_unknown"]


def test_long_text_is_truncated_with_a_notice():
    enc = encode_text("i am " * 250, EN, VOCAB, 60)
    assert len(enc.ids) == 60 and enc.truncated_from == 500
    notice = [n for n in enc.notices if n.key == "errors.text_truncated"][0]
    assert notice.params == {"kept": 60, "total": 500}
    assert "60" in notice.to_dict()["message"]


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_a_user_facing_error(text):
    with pytest.raises(UserFacingError) as info:
        encode_text(text, EN, VOCAB, 60)
    assert info.value.key == "errors.empty_text"


def test_korean_into_an_english_model_is_explained():
    enc = encode_text("안녕하세요", EN, VOCAB, 60)
    keys = [n.key for n in enc.notices]
    assert "s2s.notice.unexpected_korean" in keys and "s2s.notice.all_unknown" in keys
    assert "Korean" in enc.notices[0].to_dict()["message"]


def test_english_into_a_korean_model_is_explained():
    enc = encode_text("hello", KO, Vocab(["안"]), 60)
    assert enc.notices[0].key == "s2s.notice.expected_korean"


def test_emoji_and_html_do_not_crash():
    enc = encode_text("</script><img src=x onerror=alert(1)> 😀 i am", EN, VOCAB, 60)
    assert "😀" in enc.unknown and "<" in enc.unknown
    assert enc.ids[-2:] == [4, 5]


def test_tokenizer_round_trips_through_dict():
    assert Tokenizer.from_dict(KO.to_dict()) == KO


def test_the_two_word_patterns_differ_on_purpose():
    from lmcore.translation.text import WHOLE_WORD_RE, WORD_RE

    text = "The cat's hat, l'heure!"
    assert WORD_RE.findall(text) == ["The", "cat'", "s", "hat", ",", "l'", "heure", "!"]  # tokens
    assert WHOLE_WORD_RE.findall(text) == ["The", "cat's", "hat", "l'heure"]  # words a reader sees


def test_a_hyphen_joins_its_neighbours_when_detokenized():
    fr = tokenizer_for("fr")
    assert fr.detokenize(["pourrais", "-", "tu", "m'", "aider", "?"]) == "pourrais-tu m'aider?"
    assert fr.detokenize(fr.tokenize("Qu'est-ce que c'est ?")) == "qu'est-ce que c'est?"
    assert tokenizer_for("en").detokenize(["a", "well", "-", "known", "song", "."]) == "a well-known song."
