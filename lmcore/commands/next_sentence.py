"""`python -m lmcore next-sentence --model NAME [--json] "A" "B"` or `--pairs F.tsv`.

JSON: {"model", "probability": P(B follows A) from the NSP head, "tokens", "notices"};
with --pairs (one "A TAB B" per line) a list of those objects in the file's order.
The default model is minilm-mlm when it is here, else tiny-bert.
"""
from __future__ import annotations

from lmcore.cli import print_json
from lmcore.errors import UserFacingError
from lmcore.files import read_text_file
from lmcore.inference import backend
from lmcore.pretrained.loading import default_masked_lm


def register(sub) -> None:
    parser = sub.add_parser("next-sentence", help="P(sentence B follows sentence A), from an NSP head")
    parser.add_argument("texts", nargs="*", help="sentence A and sentence B")
    parser.add_argument("--pairs", help="a TSV file: sentence A TAB sentence B per line")
    parser.add_argument("--model", default=None, help="a model with a next-sentence head (default: minilm-mlm)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def pairs_of(args) -> list[tuple[str, str]]:
    """The two sentences given, or the rows of --pairs; an empty side is an error."""
    if args.pairs is None:
        if len(args.texts) != 2:
            raise UserFacingError("lm.err.two_sentences")
        rows = [tuple(args.texts)]
    elif args.texts:
        raise UserFacingError("lm.err.two_sentences")
    else:
        rows = [tuple(line.split("\t")) for line in read_text_file(args.pairs, max_line_chars=20_000).lines]
    for i, row in enumerate(rows, 1):
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise UserFacingError("lm.err.pair_side", pair=i)
    return [(row[0].strip(), row[1].strip()) for row in rows]


def run(args) -> int:
    model = args.model or default_masked_lm() or "tiny-bert"
    pairs, items = pairs_of(args), []
    for a, b in pairs:
        result = backend().next_sentence(model, a, b)
        items.append({"model": model, "probability": round(result.probability, 6),
                      "tokens": list(result.encoded.tokens),
                      "notices": [n.message(args.lang) for n in result.notices]})
    if args.json:
        print_json(items if args.pairs is not None else items[0])
        return 0
    for (a, b), item in zip(pairs, items):
        print(f"P(B follows A) = {item['probability']:.3f}   A: {a}   B: {b}")
    return 0
