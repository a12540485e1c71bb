"""`python -m lmcore ablate --model M --heads L:H[,L:H...] [--json] "TEXT"`: switch heads off.

Layers and heads count from 0 (as in `attention --json`). A masked LM fills the text's
first [MASK], a GPT model gives the next token, a Transformer translator translates (its
cross-attention heads by default; `--part encoder|decoder|cross`).
JSON (public contract): {"model", "heads": [{"layer", "head"}, ...], "before", "after",
"notices"} where before/after hold what the model's usual command prints:
{"predictions": [{token, display, token_id, probability}, ...]} (fill-mask / next-token) or
{"translation", "output_tokens"} (translate); translators add "part".
"""
from __future__ import annotations

import json
from pathlib import Path

import lmcore.pretrained.heads_off
import lmcore.translation.heads_off
from lmcore.cli import print_json
from lmcore.errors import UserFacingError
from lmcore.heads_off import parse_heads
from lmcore.pretrained.loading import load_model
from lmcore.translation.translators import BUNDLED


def register(sub) -> None:
    parser = sub.add_parser("ablate", help="switch attention heads off and compare the prediction")
    parser.add_argument("text", help="text with [MASK] (masked LM), a prompt (GPT) or a sentence")
    parser.add_argument("--model", required=True, help="a masked-lm, causal-lm or Transformer translator")
    parser.add_argument("--heads", required=True, help="heads to switch off: L:H[,L:H...], from 0")
    parser.add_argument("--part", default="cross", choices=["encoder", "decoder", "cross"],
                        help="which attention of a translator the heads belong to")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def is_translator(name: str) -> bool:
    """A bundled translator or a checkpoint folder (its config.json names an architecture)."""
    config = Path(name) / "config.json"
    if name in BUNDLED:
        return True
    try:
        return config.is_file() and "arch" in json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def _translator(args) -> dict:
    tr = lmcore.translation.heads_off.as_transformer(args.model)
    heads = parse_heads(args.heads, *lmcore.translation.heads_off.size(tr, args.part))
    before = lmcore.translation.heads_off.translate_heads_off(tr, args.text, (), args.part)
    after = lmcore.translation.heads_off.translate_heads_off(tr, args.text, heads, args.part)
    out = lambda r: {"translation": r.translation, "output_tokens": r.output_tokens}  # noqa: E731
    return {"model": args.model, "part": args.part, "heads": heads, "before": out(before),
            "after": out(after), "notices": before.notices}


def _language_model(args) -> dict:
    lm = load_model(args.model)
    heads = parse_heads(args.heads, lm.n_layers, lm.n_heads)
    before = lmcore.pretrained.heads_off.predictions(lm, args.text, (), args.top_k)
    after = lmcore.pretrained.heads_off.predictions(lm, args.text, heads, args.top_k)
    out = lambda r: {"predictions": [p.to_dict() for p in r.predictions]}  # noqa: E731
    return {"model": args.model, "tokens": list(before.encoded.tokens), "heads": heads,
            "before": out(before), "after": out(after), "notices": list(before.notices)}


def run(args) -> int:
    if args.top_k < 1:
        raise UserFacingError("lm.err.sampling")
    data = _translator(args) if is_translator(args.model) else _language_model(args)
    heads = data["heads"]
    data["heads"] = [{"layer": layer, "head": head} for layer, head in heads]
    data["notices"] = [n.message(args.lang) for n in data["notices"]]
    if args.json:
        print_json(data)
        return 0
    for side in ("before", "after"):
        shown = data[side].get("translation")
        if shown is None:
            shown = ", ".join(f"{p['display']} {p['probability']:.3f}" for p in data[side]["predictions"])
        print(f"{side}: {shown}")
    for note in data["notices"]:
        print(f"note: {note}")
    return 0
