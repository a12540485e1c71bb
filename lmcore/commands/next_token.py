"""`python -m lmcore next-token --model NAME [--top-p P] [--json] "TEXT"`.

JSON: {"model", "tokens", "predictions": [{token, display, token_id, probability}, ...], "notices"};
probabilities are softmax(logits / temperature) over the top k (∩ the nucleus), renormalised.
With --top-p P it adds "nucleus": the smallest set of most likely tokens whose probabilities
reach P, most likely first, each {token, display, probability} with the model's probability
(at --temperature; 1.0 by default) before renormalising, and "nucleus_probability" (their sum).
Both come from one model call (the last position's logits, through lmcore.inference.backend()).
"""
from __future__ import annotations

from lmcore.cli import print_json
from lmcore.inference import backend
from lmcore.pretrained import nucleus
from lmcore.pretrained.sampling import check_sampling

DEFAULT_MODEL = "tiny-gpt2"


def register(sub) -> None:
    parser = sub.add_parser("next-token", help="the most likely next tokens of a GPT-style model")
    parser.add_argument("text", help="the prompt")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="a causal-lm model")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=None,
                        help="nucleus sampling: keep the most likely tokens until their probability reaches P (0 < P <= 1)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def run(args) -> int:
    top_p = 1.0 if args.top_p is None else args.top_p
    check_sampling(args.top_k, args.temperature, top_p)
    if args.top_p is None:
        result = backend().next_token(args.model, args.text, top_k=args.top_k, temperature=args.temperature)
        tokens, predictions, found = result.encoded.tokens, result.predictions, result.notices
    else:  # one model call: the logits; the top-k bars and the nucleus both come from them
        cached = backend().next_token_logits(args.model, args.text)
        view = nucleus.next_token_view(args.model, cached, args.top_k, args.temperature, top_p)
        tokens, predictions, found = cached.encoded.tokens, view.predictions, cached.notices
    notices = [n.message(args.lang) for n in found]
    out = {"model": args.model, "tokens": list(tokens),
           "predictions": [p.to_dict() for p in predictions], "notices": notices}
    if args.top_p is not None:  # the nucleus before renormalising, from the same logits
        listed, total = nucleus.nucleus_predictions(args.model, cached, args.temperature, top_p)
        out["nucleus"] = [{"token": p.token, "display": p.display, "probability": round(p.probability, 6)}
                          for p in listed]
        out["nucleus_probability"] = round(total, 6)
    if args.json:
        print_json(out)
        return 0
    for p in predictions:
        print(f"{p.probability:7.3f}  {p.token!r}")
    if args.top_p is not None:
        print(f"nucleus: {len(out['nucleus'])} tokens, probability {out['nucleus_probability']:.3f}")
    for note in notices:
        print(f"note: {note}")
    return 0
