"""Pair parsing, leak-free splits, joined long pairs, batches."""
from __future__ import annotations

import pytest

from lmcore.translation.data import (DataConfig, join_pairs, make_batch, pairs_from_bytes, parse_pairs,
                         prepare_translation_data, split_by_source)
from lmcore.errors import UserFacingError
from lmcore.special_ids import BOS_ID, EOS_ID, PAD_ID


def test_parse_pairs_ignores_extra_columns_and_swaps():
    pairs, notices = parse_pairs(["Go.\tVa !\tCC-BY", "bad line", "Hi.\tSalut."])
    assert pairs == [("Go.", "Va !"), ("Hi.", "Salut.")]
    assert notices[0].key == "upload.notice.rows_skipped" and notices[0].params["count"] == 1
    swapped, _ = parse_pairs(["Go.\t가."], swap=True)
    assert swapped == [("가.", "Go.")]


def test_one_column_file_is_rejected():
    with pytest.raises(UserFacingError) as info:
        pairs_from_bytes("just one column\nanother\n".encode())
    assert info.value.key == "upload.err.columns"


def test_split_by_source_never_leaks_a_source():
    pairs = [(f"s{i % 30}", f"t{i}") for i in range(90)]  # 30 sources, 3 translations each
    train, val, test = split_by_source(pairs, (0.8, 0.1, 0.1), seed=3)
    sources = [{s for s, _ in part} for part in (train, val, test)]
    assert not (sources[0] & sources[1] or sources[0] & sources[2] or sources[1] & sources[2])
    assert sorted(train + val + test) == sorted(pairs)
    assert len(sources[1]) == 3 and len(sources[2]) == 3
    assert split_by_source(pairs, (0.8, 0.1, 0.1), seed=3) == [train, val, test]


def test_join_pairs_makes_long_aligned_inputs():
    pairs = [(f"a{i} b{i} c{i}", f"x{i} y{i}") for i in range(20)]
    joined = join_pairs(pairs, 50, 2, 4, seed=1, max_source_words=9)
    assert len(joined) == 50
    for src, tgt in joined:
        n = len(src.split())
        assert 6 <= n <= 9 and len(tgt.split()) == 2 * n // 3


def test_make_batch_pads_and_adds_specials():
    batch = make_batch([([5, 6, 7], [8]), ([5], [9, 10])])
    assert batch.src.tolist() == [[5, 6, 7], [5, PAD_ID, PAD_ID]]
    assert batch.src_lengths.tolist() == [3, 1]
    assert batch.tgt_in.tolist() == [[BOS_ID, 8, PAD_ID], [BOS_ID, 9, 10]]
    assert batch.tgt_out.tolist() == [[8, EOS_ID, PAD_ID], [9, 10, EOS_ID]]


def test_prepare_builds_vocab_from_training_part_only():
    pairs = [(f"w{i} common", f"v{i} commun") for i in range(40)]
    cfg = DataConfig("en", "fr", val_fraction=0.25, test_fraction=0.25, joined_fraction=0.5,
                     src_min_freq=1, tgt_min_freq=1)
    data = prepare_translation_data(pairs, cfg)
    train_words = {p[0].split()[0] for p in pairs} - {s.split()[0] for s, _ in data.test_pairs}
    assert "common" in data.src_vocab and len(data.test_pairs) == 10
    assert all(s.split()[0] not in data.src_vocab for s, _ in data.test_pairs)
    assert len(data.train) > 20  # 20 pairs + 10 joins
    assert {t for t in data.src_vocab.itos[4:]} <= train_words | {"common"}


def test_too_few_pairs_is_explained():
    with pytest.raises(UserFacingError) as info:
        prepare_translation_data([("a", "b")], DataConfig())
    assert info.value.key == "s2s.err.too_few_pairs"
