"""`python -m lmcore train seq2seq|transformer --pairs FILE.tsv --out DIR [options]`.

Trains a translator on "source TAB target" pairs (--swap when the target comes first)
and writes a checkpoint directory (safetensors + config.json + vocabularies). Progress
goes to stderr as a bar (a line every few seconds when stderr is not a terminal).
Both kinds share the data, training and output options and the trainer
(lmcore.commands.train_options), so the two families see identical pairs, splits and
tokenization when given the same options; each adds its model's own options. The
Transformer's live in lmcore.commands.train_transformer, with `train-transformer`, the
deprecated spelling.
"""
from __future__ import annotations

import argparse

from lmcore.commands import train_transformer
from lmcore.commands.train_options import add_options, train_and_save
from lmcore.seq2seq import ATTENTIONS, CELLS, Seq2Seq, Seq2SeqConfig


def register(sub) -> None:
    parser = sub.add_parser("train", help="train a model on your own data")
    kinds = parser.add_subparsers(dest="train_kind", required=True)
    p = kinds.add_parser("seq2seq", help="an RNN encoder-decoder translator")
    add_options(p, add_seq2seq_options, lr=1e-3)
    p.set_defaults(handler=run)
    train_transformer.add_parser(kinds, "transformer", help="an encoder-decoder Transformer translator")


def add_seq2seq_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--attention", default="bahdanau", choices=ATTENTIONS)
    p.add_argument("--cell", default="lstm", choices=CELLS)
    p.add_argument("--emb", type=int, default=256)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--dropout", type=float, default=0.2)


def run(args) -> int:
    """`train seq2seq`."""
    return train_and_save(args, lambda src_size, tgt_size: Seq2Seq(Seq2SeqConfig(
        src_size, tgt_size, args.emb, args.hidden, args.cell, args.layers, args.attention, args.dropout)))
