"""`python -m lmcore fill-mask --model NAME [--json] "TEXT with [MASK]"`.

JSON: {"model", "tokens", "masks": [[{token, display, token_id, probability}, ...] per [MASK]],
"predictions": the first mask's list, "notices"}.
"""
from __future__ import annotations

from lmcore.cli import print_json

DEFAULT_MODEL = "tiny-bert"


def register(sub) -> None:
    parser = sub.add_parser("fill-mask", help="top-k words for each [MASK] in a text")
    parser.add_argument("text", help="text with the blank written as [MASK]")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="a masked-lm model")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from lmcore.pretrained.predict import fill_mask

    result = fill_mask(args.model, args.text, top_k=args.top_k)
    masks = [[p.to_dict() for p in preds] for preds in result.masks]
    notices = [n.message(args.lang) for n in result.notices]
    if args.json:
        print_json({"model": args.model, "tokens": list(result.encoded.tokens), "masks": masks,
                    "predictions": masks[0], "notices": notices})
        return 0
    for i, preds in enumerate(result.masks, 1):
        print(f"[MASK] {i}: " + ", ".join(f"{p.display} {p.probability:.3f}" for p in preds))
    for note in notices:
        print(f"note: {note}")
    return 0
