"""`python -m lmcore next-token --model NAME [--top-k K] [--temperature T] [--top-p P] [--json] "TEXT"`.

JSON: {"model", "tokens", "predictions": [{token, display, token_id, probability,
sampled_probability}, ...], "notices"}. `probability` is always the model's own: softmax(logits / T)
over the whole vocabulary, the number the GPT page shows on its bars. `sampled_probability` is
the same token's share once sampling keeps only the top k (and the nucleus) and renormalises:
what a sample is drawn from (0 for a token outside the nucleus).
With --top-p P it adds "nucleus": the smallest set of most likely tokens whose probabilities
reach P, most likely first, each {token, display, probability}, and "nucleus_probability" (their sum).
Everything comes from one model call (the last position's logits, through lmcore.inference.backend()).
The default model is the GPT page's (minilm-gpt once trained, else tiny-gpt2).
"""
from __future__ import annotations

from lmcore.cli import print_json
from lmcore.inference import backend
from lmcore.pretrained import nucleus
from lmcore.pretrained.loading import default_causal_lm
from lmcore.pretrained.sampling import check_sampling


def register(sub) -> None:
    parser = sub.add_parser("next-token", help="the most likely next tokens of a GPT-style model")
    parser.add_argument("text", help="the prompt")
    parser.add_argument("--model", default=None, help="a causal-lm model (default: the GPT page's)")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=None,
                        help="nucleus sampling: keep the most likely tokens until their probability reaches P (0 < P <= 1)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def _prediction(candidate) -> dict:
    return candidate.prediction.to_dict() | {"sampled_probability": round(candidate.sampled_probability, 6)}


def run(args) -> int:
    model = args.model or default_causal_lm()
    top_p = 1.0 if args.top_p is None else args.top_p
    check_sampling(args.top_k, args.temperature, top_p)
    cached = backend().next_token_logits(model, args.text)
    view = nucleus.next_token_view(model, cached, args.top_k, args.temperature, top_p)
    notices = [n.message(args.lang) for n in cached.notices]
    out = {"model": model, "tokens": list(cached.encoded.tokens),
           "predictions": [_prediction(c) for c in view.candidates], "notices": notices}
    if args.top_p is not None:
        listed, total = nucleus.nucleus_predictions(model, cached, args.temperature, top_p)
        out["nucleus"] = [{"token": p.token, "display": p.display, "probability": round(p.probability, 6)}
                          for p in listed]
        out["nucleus_probability"] = round(total, 6)
    if args.json:
        print_json(out)
        return 0
    for c in view.candidates:
        print(f"{c.prediction.probability:7.3f}  {c.prediction.token!r}")
    if args.top_p is not None:
        print(f"nucleus: {len(out['nucleus'])} tokens, probability {out['nucleus_probability']:.3f}")
    for note in notices:
        print(f"note: {note}")
    return 0
