"""`python -m lmcore fill-mask --model NAME [--json] "TEXT with [MASK]"` or `--file F`.

JSON: {"model", "tokens", "masks": [[{token, display, token_id, probability}, ...] per [MASK]],
"predictions": the first mask's list, "notices"}. With --file: one text per non-empty
line of F, a JSON list of those objects in the file's order.
The default model is minilm-mlm when it is here, else tiny-bert.
"""
from __future__ import annotations

from lmcore.cli import print_json
from lmcore.errors import UserFacingError
from lmcore.files import read_text_file
from lmcore.inference import backend
from lmcore.pretrained.loading import default_masked_lm

DEFAULT_MODEL = "tiny-bert"  # when minilm-mlm is not trained yet


def register(sub) -> None:
    parser = sub.add_parser("fill-mask", help="top-k words for each [MASK] in a text")
    parser.add_argument("text", nargs="?", help="text with the blank written as [MASK]")
    parser.add_argument("--file", help="a text file: one text with [MASK] per line")
    parser.add_argument("--model", default=None, help="a masked-lm model (default: minilm-mlm, else tiny-bert)")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def _one(model: str, text: str, top_k: int, lang: str) -> dict:
    result = backend().fill_mask(model, text, top_k=top_k)
    masks = [[p.to_dict() for p in preds] for preds in result.masks]
    return {"model": model, "tokens": list(result.encoded.tokens), "masks": masks,
            "predictions": masks[0], "notices": [n.message(lang) for n in result.notices]}


def texts_of(args) -> list[str]:
    """The text argument, or the non-empty lines of --file (exactly one of them)."""
    if (args.text is None) == (args.file is None):
        raise UserFacingError("lm.err.text_or_file")
    if args.file is None:
        return [args.text]
    return read_text_file(args.file, max_line_chars=20_000).lines


def run(args) -> int:
    model = args.model or default_masked_lm() or DEFAULT_MODEL
    items = []
    for i, text in enumerate(texts_of(args), 1):
        try:
            items.append(_one(model, text, args.top_k, args.lang))
        except UserFacingError as error:
            if args.file is None:
                raise
            raise UserFacingError("lm.err.file_line", line=i, file=args.file,
                                  message=error.message(args.lang)) from None
    if args.json:
        print_json(items if args.file is not None else items[0])
        return 0
    for item in items:
        if args.file is not None:
            print(" ".join(item["tokens"]))
        for i, preds in enumerate(item["masks"], 1):
            print(f"[MASK] {i}: " + ", ".join(f"{p['display']} {p['probability']:.3f}" for p in preds))
        for note in item["notices"]:
            print(f"note: {note}")
    return 0
