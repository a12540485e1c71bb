"""`python -m lmcore logit-lens --model NAME [--top-k K] [--json] "TEXT"`.

JSON: {"model", "tokens", "layers": [{"layer", "top": per position a list of
{token, display, probability}}], "notices"}: layer 0 reads the embeddings, the last entry is
the model's own output. For a GPT position i predicts the next token; for a masked LM,
the token at i (write the blank as [MASK]).
"""
from __future__ import annotations

from lmcore.cli import print_json
from lmcore.inference import backend
from lmcore.pretrained.loading import default_causal_lm

def register(sub) -> None:
    parser = sub.add_parser("logit-lens", help="what each layer would predict at each position")
    parser.add_argument("text", help="the text (a masked LM: mark blanks as [MASK])")
    parser.add_argument("--model", default=None,
                        help="a causal-lm or masked-lm model (default: the logit-lens page's, minilm-gpt)")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def run(args) -> int:
    model = args.model or default_causal_lm()
    lens = backend().logit_lens(model, args.text, top_k=args.top_k)
    notices = [n.message(args.lang) for n in lens.notices]
    if args.json:
        print_json({"model": model} | lens.to_dict() | {"notices": notices})
        return 0
    width = max((len(t) for t in lens.tokens), default=5)
    for layer, positions in enumerate(lens.layers):
        cells = "  ".join(f"{top[0].display[:width]:>{width}}" for top in positions)
        print(f"{layer:>3}  {cells}")
    print("     " + "  ".join(f"{t[:width]:>{width}}" for t in lens.tokens))
    for note in notices:
        print(f"note: {note}")
    return 0
