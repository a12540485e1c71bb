"""`python -m lmcore ...`: the library for scripts, teachers and tests.

Each command lives in its own module exposing `register(subparsers)`; the
module names are listed in `COMMAND_MODULES`. Commands print JSON with `--json`.
Errors meant for users print one line to stderr and exit with status 2.
"""
from __future__ import annotations

import argparse
import json
import sys
from importlib import import_module

from lmcore import inference
from lmcore.errors import UserFacingError

COMMAND_MODULES: list[str] = [
    "lmcore.commands.models",
    "lmcore.commands.attention",
    "lmcore.commands.fill_mask",
    "lmcore.commands.next_sentence",
    "lmcore.commands.next_token",
    "lmcore.commands.generate",
    "lmcore.commands.logit_lens",
    "lmcore.commands.translate",
    "lmcore.commands.evaluate",
    "lmcore.commands.train",
    "lmcore.commands.train_transformer",
    "lmcore.commands.finetune",
    "lmcore.commands.ablate",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lmcore",
                                     description="Attention Lab: attention inside language models.")
    parser.add_argument("--lang", default="en", choices=["en", "ko"],
                        help="language of messages (en or ko)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        import_module(name).register(sub)
    return parser


def print_json(data: object) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        inference.address()  # a malformed ATTN_LAB_INFERENCE: one clear line, exit 2
        return int(args.handler(args) or 0)
    except UserFacingError as error:
        print(error.message(args.lang), file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `python -m lmcore translate ... | head`
        sys.stderr.close()
        return 0
