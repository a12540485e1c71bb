"""`python -m lmcore generate --model M --tokens N [--temperature T --top-k K --top-p P --seed S
--min-tokens M --greedy] [--json] "TEXT"`: a GPT-style model continues the text, token by token.

JSON: {"model", "prompt", "text", "tokens": [{token, display, probability, sampled_probability}],
"notices"}. `probability` is the model's own softmax(logits / T) of the chosen token, the GPT
page's number; `sampled_probability` is its share once the top k (and the nucleus) are kept
and renormalised, the distribution the token was drawn from. The same seed gives the same text
as the GPT page. A WordPiece model ends its sentence at [SEP], but not before --min-tokens tokens.
The default model is the GPT page's (minilm-gpt once trained, else tiny-gpt2).
"""
from __future__ import annotations

from lmcore.cli import print_json
from lmcore.errors import UserFacingError
from lmcore.pretrained.generation import generate_trace
from lmcore.pretrained.loading import default_causal_lm
from lmcore.pretrained.sampling import check_sampling

MAX_TOKENS = 200


def register(sub) -> None:
    parser = sub.add_parser("generate", help="continue a text with a GPT-style model, token by token")
    parser.add_argument("text", help="the prompt")
    parser.add_argument("--model", default=None, help="a causal-lm model (default: the GPT page's)")
    parser.add_argument("--tokens", type=int, default=20, help=f"tokens to add (1-{MAX_TOKENS})")
    parser.add_argument("--min-tokens", type=int, default=0, help="no sentence end before this many tokens")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--greedy", action="store_true", help="always the most likely token")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def run(args) -> int:
    if not 1 <= args.tokens <= MAX_TOKENS or not 0 <= args.min_tokens <= args.tokens:
        raise UserFacingError("cli.err.tokens", most=MAX_TOKENS)
    check_sampling(args.top_k, args.temperature, args.top_p)
    model = args.model or default_causal_lm()
    trace = generate_trace(model, args.text, args.tokens, args.top_k, args.temperature, args.seed,
                           args.greedy, args.top_p, args.min_tokens)
    tokens = [{"token": s.chosen.token, "display": s.chosen.display, "probability": round(s.chosen.probability, 6),
               "sampled_probability": round(s.chosen.probability / sum(r.probability for r in s.rivals), 6)}
              for s in trace.steps]
    notices = [n.message(args.lang) for n in trace.notices]
    if args.json:
        print_json({"model": model, "prompt": args.text, "text": trace.text, "tokens": tokens,
                    "notices": notices})
        return 0
    print(trace.text)
    for note in notices:
        print(f"note: {note}")
    return 0
