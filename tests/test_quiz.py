"""The lessons' live questions (lmcore.demos.quiz), tested without Streamlit."""
from __future__ import annotations

import numpy as np

from lmcore.demos.quiz import later_word_question, pronoun_question, quoted_text, top_source_word
from lmcore.record import AttentionMaps


def test_pronoun_question_picks_the_word_the_pronoun_attends_to_most():
    words = ("the", "cat", "sat", "because", "it", "was", "tired", ".")
    w = np.full((2, 2, 8, 8), 1 / 8, np.float32)
    w[-1, :, 4, :] = 0.02
    w[-1, 0, 4, 1], w[-1, 1, 4, 1] = 0.5, 0.4   # 'it' → 'cat' on average over heads
    w[-1, 0, 4, 7] = 0.9                        # punctuation is never an option
    q = pronoun_question(AttentionMaps(w, words, words, "self"))
    assert q.word == "it" and "it" not in q.options and "." not in q.options
    assert q.options[q.answer] == "cat"
    assert pronoun_question(AttentionMaps(w, ("a",) * 8, ("a",) * 8, "self")) is None


def test_top_source_word_adds_up_a_repeated_word_and_skips_specials():
    tokens = ["the", "cat", "on", "the", "bed", "<eos>"]
    words, best = top_source_word(tokens, [0.3, 0.25, 0.05, 0.1, 0.0, 0.3])
    assert words == ["the", "cat", "on", "bed"] and words[best] == "the"  # 0.3 + 0.1
    words, best = top_source_word(tokens, [0.1, 0.45, 0.05, 0.1, 0.0, 0.3])
    assert words[best] == "cat"
    assert top_source_word(["a", "<eos>"], [0.5, 0.5]) is None


def test_later_word_question_names_the_first_and_last_words_on_the_page():
    words = ("My", "phone", "is", "broken", ".", "[SEP]", "I", "need", "a", "new", "one", ".")
    w = np.full((1, 1, len(words), len(words)), 1 / len(words), np.float32)
    q = later_word_question(AttentionMaps(w, words, words, "self"))
    assert (q.word, q.later) == ("My", "one")  # punctuation and special tokens are no word
    same = ("the", "the", ".")
    w3 = np.full((1, 1, 3, 3), 1 / 3, np.float32)
    assert later_word_question(AttentionMaps(w3, same, same, "self")) is None
    assert later_word_question(AttentionMaps(w3[..., :1, :1], ("hi",), ("hi",), "self")) is None


def test_quoted_text_is_one_line_and_cut_when_long():
    assert quoted_text("The cat\n sat.") == "The cat sat."
    long = quoted_text("word " * 50, limit=20)
    assert len(long) <= 20 and long.endswith("…")
