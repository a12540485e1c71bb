"""`python -m lmcore models [--json]`: every model and whether it works offline."""
from __future__ import annotations

from lmcore.catalog import list_models
from lmcore.cli import print_json


def register(sub) -> None:
    parser = sub.add_parser("models", help="list models and whether each works offline")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def run(args) -> int:
    models = list_models()
    if args.json:
        print_json([m.to_dict() for m in models])
        return 0
    for m in models:
        where = "offline" if m.offline else "needs download"
        print(f"{m.name:32} {m.kind:12} {where:15} {m.description}")
    return 0
