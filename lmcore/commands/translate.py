"""`python -m lmcore translate --model NAME [--beam K] [--json] "TEXT"`.

Prints the translation; with --json the full trace: source_tokens, output_tokens,
attention (one row per output token over the source tokens, null for a model without
attention), unknown_words, notices, and per step the top-k next words, weights, raw
scores and context vector (omit the vectors with --no-vectors).
"""
from __future__ import annotations

from lmcore.cli import print_json
from lmcore.i18n import translate as tr
from lmcore.inference import backend


def register(sub) -> None:
    p = sub.add_parser("translate", help="translate a sentence with a seq2seq model, step by step")
    p.add_argument("text", help="the sentence to translate")
    p.add_argument("--model", required=True, help="catalog name (see `models`) or a checkpoint folder")
    p.add_argument("--beam", type=int, default=1, help="beam size (1 = greedy)")
    p.add_argument("--top-k", type=int, default=5, help="next-word candidates shown per step")
    p.add_argument("--no-vectors", action="store_true", help="leave context vectors out of the JSON")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def run(args) -> int:
    result = backend().translate(args.model, args.text, beam=args.beam, top_k=args.top_k)
    if args.json:
        print_json(result.to_dict(vectors=not args.no_vectors))
        return 0
    for notice in result.notices:
        print("note:", tr(notice.key, args.lang, **notice.params))
    print(result.translation)
    return 0
