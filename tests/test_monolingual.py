"""Dummy-source target sentences (Sennrich et al. 2016) join training only, never held-out ones."""
from __future__ import annotations

from lmcore.translation.data import DataConfig, held_out_split, prepare_translation_data
from lmcore.translation.monolingual import DUMMY_SOURCE, dummy_source_pairs


def test_dummy_pairs_skip_excluded_duplicate_and_long_sentences():
    texts = ["I am here.", "i  am HERE.", "You are there.", "Go.", "one two three four five six"]
    pairs = dummy_source_pairs(texts, exclude=["you are there."], count=10, max_words=5)
    assert sorted(t for _, t in pairs) == ["Go.", "I am here."]
    assert all(s == DUMMY_SOURCE for s, _ in pairs)
    assert len(dummy_source_pairs(texts, [], count=1)) == 1
    assert dummy_source_pairs(texts, [], count=3, seed=1) == dummy_source_pairs(texts, [], count=3, seed=1)


def test_prepare_adds_them_to_training_only_and_to_the_target_vocabulary():
    pairs = [(f"src{i} a", f"tgt{i} b") for i in range(40)]
    cfg = DataConfig("en", "en", val_fraction=0.25, test_fraction=0.25, joined_fraction=0.0,
                     src_min_freq=1, tgt_min_freq=1, target_text_ratio=0.5)
    _, val, test = held_out_split(pairs, cfg)
    held = [t for _, t in val + test]
    english = held + [f"extra{i} b" for i in range(100)]
    data = prepare_translation_data(pairs, cfg, english)
    plain = prepare_translation_data(pairs, DataConfig(**{**cfg.__dict__, "target_text_ratio": 0.0}), english)
    assert len(data.train) == len(plain.train) + round(0.5 * len(plain.train))
    assert len(data.val) == len(plain.val)  # validation stays real pairs
    words = set(data.tgt_vocab.itos)
    assert any(w.startswith("extra") for w in words)
    assert not any(w in words for t in held for w in t.split() if w.startswith("tgt"))
