"""`python -m lmcore next-token --model NAME [--json] "TEXT"`.

JSON: {"model", "tokens", "predictions": [{token, display, token_id, probability}, ...], "notices"};
probabilities are softmax(logits / temperature) over the top k, renormalised.
"""
from __future__ import annotations

from lmcore.cli import print_json

DEFAULT_MODEL = "tiny-gpt2"


def register(sub) -> None:
    parser = sub.add_parser("next-token", help="the most likely next tokens of a GPT-style model")
    parser.add_argument("text", help="the prompt")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="a causal-lm model")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from lmcore.errors import UserFacingError
    from lmcore.inference import backend

    if not args.temperature > 0 or args.top_k < 1:
        raise UserFacingError("lm.err.sampling")
    result = backend().next_token(args.model, args.text, top_k=args.top_k, temperature=args.temperature)
    notices = [n.message(args.lang) for n in result.notices]
    if args.json:
        print_json({"model": args.model, "tokens": list(result.encoded.tokens),
                    "predictions": [p.to_dict() for p in result.predictions], "notices": notices})
        return 0
    for p in result.predictions:
        print(f"{p.probability:7.3f}  {p.token!r}")
    for note in notices:
        print(f"note: {note}")
    return 0
