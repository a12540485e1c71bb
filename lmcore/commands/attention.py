"""`python -m lmcore attention --model NAME [--json] "TEXT" [--pair "TEXT B"]`.

JSON (public contract): {"model", "kind", "tokens", "attentions": layers x heads x n x n,
"notices"}; special tokens included; truncated only beyond the model's maximum.
"""
from __future__ import annotations

from lmcore.cli import print_json
from lmcore.inference import backend

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def register(sub) -> None:
    parser = sub.add_parser("attention", help="attention weights of a BERT/GPT-2 model for a text")
    parser.add_argument("text", help="the text (or sentence A of a pair)")
    parser.add_argument("--pair", default=None, help="sentence B of a pair (BERT-style models)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="catalog name, hub id or local folder")
    parser.add_argument("--decimals", type=int, default=4, help="rounding of weights in JSON")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def run(args) -> int:
    result = backend().attention(args.model, args.text, args.pair)
    notices = [n.message(args.lang) for n in result.notices]
    if args.json:
        data = result.maps.to_dict(args.decimals)
        print_json({"model": args.model, "kind": result.maps.kind, "tokens": data["key_tokens"],
                    "attentions": data["weights"], "notices": notices})
        return 0
    maps = result.maps
    print(f"{args.model}: {maps.n_layers} layers x {maps.n_heads} heads, {len(maps.key_tokens)} tokens ({maps.kind})")
    print(" ".join(maps.key_tokens))
    for note in notices:
        print(f"note: {note}")
    return 0
