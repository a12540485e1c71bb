"""Sentence pairs: loading, splits by source sentence, joined long pairs, batches.

    pairs, notices = load_pairs("fra-eng.tsv")                 # [(source, target), ...]
    train, val, test = split_by_source(pairs, (0.8, 0.1, 0.1), seed=0)
    long = join_pairs(test, count=500, min_join=2, max_join=4, seed=1)

A source sentence with several translations lands in exactly one split, so no source
is seen in training and scored in validation. Joined pairs ("Go. I'm home." ->
"Va ! Je suis chez moi.") make the 10-30 word inputs that show where a model
without attention breaks.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import torch
from torch import Tensor

from lmcore.errors import UserFacingError
from lmcore.files import decode_upload, read_text_file, split_rows
from lmcore.notices import Notice
from lmcore.special_ids import BOS_ID, EOS_ID, PAD_ID
from lmcore.translation.monolingual import dummy_source_pairs, targets_of
from lmcore.translation.text import Tokenizer, Vocab, tokenizer_for

Pair = tuple[str, str]


def parse_pairs(lines: Sequence[str], swap: bool = False) -> tuple[list[Pair], list[Notice]]:
    """Lines "source TAB target [TAB extra...]" -> pairs (target first when swap)."""
    rows, notices = split_rows(list(lines), "\t", min_columns=2, max_columns=2)
    pairs = [(r[1], r[0]) if swap else (r[0], r[1]) for r in rows]
    return pairs, notices


def load_pairs(path: str | Path, swap: bool = False, **caps: int) -> tuple[list[Pair], list[Notice]]:
    """Read a TSV file of pairs (any encoding lmcore.files recognises)."""
    decoded = read_text_file(path, **caps)
    pairs, notices = parse_pairs(decoded.lines, swap)
    return pairs, decoded.notices + notices


def pairs_from_bytes(data: bytes, swap: bool = False, **caps: int) -> tuple[list[Pair], list[Notice]]:
    """Pairs from an uploaded file's bytes."""
    decoded = decode_upload(data, **caps)
    pairs, notices = parse_pairs(decoded.lines, swap)
    return pairs, decoded.notices + notices


def split_by_source(pairs: Sequence[Pair], fractions: Sequence[float] = (0.9, 0.1),
                    seed: int = 0) -> list[list[Pair]]:
    """Split pairs into len(fractions) parts by distinct source sentence (no leaks)."""
    if abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError("fractions must add up to 1")
    sources = sorted({src for src, _ in pairs})
    random.Random(seed).shuffle(sources)
    bounds, acc = [], 0.0
    for f in fractions[:-1]:
        acc += f
        bounds.append(round(acc * len(sources)))
    part_of: dict[str, int] = {}
    for i, src in enumerate(sources):
        part_of[src] = sum(i >= b for b in bounds)
    parts: list[list[Pair]] = [[] for _ in fractions]
    for pair in pairs:
        parts[part_of[pair[0]]].append(pair)
    return parts


def join_pairs(pairs: Sequence[Pair], count: int, min_join: int = 2, max_join: int = 4,
               seed: int = 0, max_source_words: int | None = None) -> list[Pair]:
    """`count` long pairs, each 2-4 random pairs joined with spaces on both sides."""
    if not pairs:
        return []
    rng = random.Random(seed)
    out: list[Pair] = []
    tries = 0
    while len(out) < count and tries < count * 20:
        tries += 1
        chosen = [pairs[rng.randrange(len(pairs))] for _ in range(rng.randint(min_join, max_join))]
        src = " ".join(p[0] for p in chosen)
        if max_source_words is not None and len(src.split()) > max_source_words:
            continue
        out.append((src, " ".join(p[1] for p in chosen)))
    return out


@dataclass(frozen=True)
class Batch:
    """Padded id tensors; *_in starts with <bos>, *_out ends with <eos>."""

    src: Tensor          # (B, S) long, PAD after each row's length
    src_lengths: Tensor  # (B,) long
    tgt_in: Tensor       # (B, T) long: <bos> y1 .. y_n
    tgt_out: Tensor      # (B, T) long: y1 .. y_n <eos>


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int = PAD_ID) -> Tensor:
    width = max(1, max(len(s) for s in sequences))
    out = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    for i, seq in enumerate(sequences):
        out[i, : len(seq)] = torch.tensor(list(seq), dtype=torch.long)
    return out  # (B, width)


def make_batch(examples: Sequence[tuple[list[int], list[int]]]) -> Batch:
    """(source ids, target ids) examples -> a padded Batch (no specials in the inputs)."""
    srcs = [s for s, _ in examples]
    tgt_in = pad_batch([[BOS_ID] + t for _, t in examples])
    tgt_out = pad_batch([t + [EOS_ID] for _, t in examples])
    return Batch(pad_batch(srcs), torch.tensor([len(s) for s in srcs]), tgt_in, tgt_out)


def encode_pairs(pairs: Sequence[Pair], src_tok: Tokenizer, tgt_tok: Tokenizer, src_vocab: Vocab,
                 tgt_vocab: Vocab, max_src: int, max_tgt: int) -> list[tuple[list[int], list[int]]]:
    """Pairs -> (source ids, target ids), dropping pairs that are empty or over the caps."""
    out = []
    for src, tgt in pairs:
        s = src_vocab.encode(src_tok.tokenize(src))
        t = tgt_vocab.encode(tgt_tok.tokenize(tgt))
        if 0 < len(s) <= max_src and 0 < len(t) <= max_tgt:
            out.append((s, t))
    if not out:
        raise UserFacingError("s2s.err.no_pairs")
    return out


def iterate_batches(examples: Sequence[tuple[list[int], list[int]]], batch_size: int,
                    shuffle: bool = True, seed: int = 0) -> Iterator[Batch]:
    """Batches of similar source length (less padding), in a random order when shuffle."""
    rng = random.Random(seed)
    order = list(range(len(examples)))
    if shuffle:
        rng.shuffle(order)
    # sort within chunks of 50 batches by length, then shuffle the batches
    chunk = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start:start + chunk], key=lambda i: len(examples[i][0]))
        batches.extend(part[j:j + batch_size] for j in range(0, len(part), batch_size))
    if shuffle:
        rng.shuffle(batches)
    for idx in batches:
        yield make_batch([examples[i] for i in idx])


@dataclass
class DataConfig:
    """How pairs become training data (stored in the checkpoint's meta)."""

    src_lang: str = "en"
    tgt_lang: str = "fr"
    val_fraction: float = 0.1
    test_fraction: float = 0.0     # held out for evaluation (bundled models: 0.1)
    joined_fraction: float = 0.25  # extra training pairs made by joining 2-4 training pairs
    max_joined_words: int = 30     # joined sources are at most this many words
    src_min_freq: int = 2          # rarer source tokens become <unk>
    tgt_min_freq: int = 2
    max_vocab: int = 8000          # per side, specials included
    max_src_tokens: int = 60       # longer inputs are truncated at translation time (Korean
                                   # characters: use ~160)
    max_tgt_tokens: int = 80
    seed: int = 0
    target_text_ratio: float = 0.0  # dummy-source target sentences per training pair (monolingual.py)


@dataclass
class PreparedData:
    train: list            # (source ids, target ids) examples, joins included
    val: list
    test_pairs: list[Pair]  # held-out raw pairs (empty when test_fraction is 0)
    src_tokenizer: Tokenizer
    tgt_tokenizer: Tokenizer
    src_vocab: Vocab
    tgt_vocab: Vocab


def held_out_split(pairs: Sequence[Pair], cfg: DataConfig) -> tuple[list[Pair], list[Pair], list[Pair]]:
    """(train, val, test) by source sentence, reproducible from cfg.seed."""
    train_f = 1.0 - cfg.val_fraction - cfg.test_fraction
    train, val, test = split_by_source(pairs, (train_f, cfg.val_fraction, cfg.test_fraction), cfg.seed)
    return train, val, test


def prepare_translation_data(pairs: Sequence[Pair], cfg: DataConfig,
                             target_texts: Sequence[str] = ()) -> PreparedData:
    """Split, build vocabularies on the training part, add joined pairs, encode.

    target_texts: target-language sentences; cfg.target_text_ratio x len(train) of them join the
    training part with a dummy source (monolingual.py), never one equal to a held-out target.
    """
    train, val, test = held_out_split(pairs, cfg)
    if not train or not val:
        raise UserFacingError("s2s.err.too_few_pairs", count=len(pairs))
    extra = dummy_source_pairs(target_texts, targets_of(val + test),
                               round(cfg.target_text_ratio * len(train)), seed=cfg.seed + 3)
    src_tok, tgt_tok = tokenizer_for(cfg.src_lang), tokenizer_for(cfg.tgt_lang)
    src_vocab = Vocab.build((src_tok.tokenize(s) for s, _ in train), cfg.src_min_freq, cfg.max_vocab)
    tgt_vocab = Vocab.build((tgt_tok.tokenize(t) for _, t in train + extra), cfg.tgt_min_freq, cfg.max_vocab)
    n_join = int(cfg.joined_fraction * len(train))
    train = train + join_pairs(train, n_join, seed=cfg.seed + 1, max_source_words=cfg.max_joined_words) + extra
    val = val + join_pairs(val, int(cfg.joined_fraction * len(val)), seed=cfg.seed + 2,
                           max_source_words=cfg.max_joined_words)
    args = (src_tok, tgt_tok, src_vocab, tgt_vocab, cfg.max_src_tokens, cfg.max_tgt_tokens)
    return PreparedData(encode_pairs(train, *args), encode_pairs(val, *args), test,
                        src_tok, tgt_tok, src_vocab, tgt_vocab)
