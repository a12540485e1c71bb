"""`python -m lmcore train transformer --pairs FILE.tsv --out DIR [options]`.

Trains the from-scratch encoder–decoder Transformer (lmcore.transformer) with the options,
data preparation, trainer, progress bar and checkpoint format of `train seq2seq`
(lmcore.commands.train_options); this module adds the Transformer's model options.

`python -m lmcore train-transformer ...` is the deprecated spelling: the same options and
output (JSON fields too), plus a one-line note on stderr.
"""
from __future__ import annotations

import argparse
import sys

from lmcore.commands.train_options import add_options, train_and_save
from lmcore.i18n import translate
from lmcore.transformer import Transformer, TransformerConfig


def add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--layers", type=int, default=3, help="encoder and decoder layers each")
    p.add_argument("--d-ff", type=int, default=512)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--positional", default="sinusoidal", choices=["sinusoidal", "learned", "none"])
    p.add_argument("--post-norm", action="store_true", help="the paper's post-norm (default pre-norm)")
    p.add_argument("--max-len", type=int, default=None,
                   help="positional table rows (default: the longest allowed input + 2)")


def add_parser(sub, name: str, help: str) -> argparse.ArgumentParser:
    """The Transformer's parser under `sub` (`train transformer` or `train-transformer`)."""
    p = sub.add_parser(name, help=help)
    add_options(p, add_model_options, lr=5e-4)
    p.set_defaults(handler=run)
    return p


def register(sub) -> None:
    """The deprecated top-level `train-transformer` (`train transformer` is in commands.train)."""
    add_parser(sub, "train-transformer", help="deprecated spelling of `train transformer`"
               ).set_defaults(handler=run_deprecated)


def model_config(args, src_size: int, tgt_size: int) -> TransformerConfig:
    max_len = args.max_len or max(args.max_src_tokens, args.max_tgt_tokens) + 2
    return TransformerConfig(src_size, tgt_size, args.d_model, args.heads, args.layers, args.layers,
                             args.d_ff, args.dropout, max_len, args.positional,
                             norm_first=not args.post_norm)


def run(args) -> int:
    """`train transformer`."""
    return train_and_save(args, lambda src_size, tgt_size: Transformer(model_config(args, src_size, tgt_size)))


def run_deprecated(args) -> int:
    """`train-transformer`: a note on stderr, then exactly `train transformer`."""
    print(translate("cli.deprecated_command", getattr(args, "lang", "en"), old="train-transformer",
                    new="train transformer"), file=sys.stderr)
    return run(args)
