"""`python -m lmcore finetune`: fine-tune a pretrained encoder for sentence classification.

    python -m lmcore finetune --task negation --json
    python -m lmcore finetune --data mine.csv --text-column text --label-column label \
        [--model all-MiniLM-L6-v2] [--epochs 3] [--lr 5e-5] [--batch-size 16] [--save DIR] --json

JSON fields (a public contract): val_accuracy (after the last epoch), seconds, val_loss,
before {val_accuracy, val_loss, majority_accuracy}, history (one row per epoch), labels,
stopped, train_size, val_size, config, heads_changed_most ([layer, head, JS distance],
1-based), saved_to. Progress goes to stderr (unless --quiet).
"""
from __future__ import annotations

import sys
from pathlib import Path

from lmcore.cli import print_json
from lmcore.errors import UserFacingError
from lmcore.pretrained.classifier import head_change
from lmcore.pretrained.finetune import FinetuneConfig, finetune, save_classifier
from lmcore.pretrained.loading import load_model
from lmcore.pretrained.tasks import MAX_BYTES, load_task, read_labelled_table

DEFAULTS = dict(epochs=3, lr=5e-5, batch_size=16, max_length=32)


def register(sub) -> None:
    parser = sub.add_parser("finetune", help="fine-tune a pretrained encoder for sentence classification")
    parser.add_argument("--task", help="a bundled task (negation, question)")
    parser.add_argument("--data", help="a CSV or TSV file with a header row")
    parser.add_argument("--text-column", default="text", help="column holding the sentences (default: text)")
    parser.add_argument("--label-column", default="label", help="column holding the labels (default: label)")
    parser.add_argument("--model", default="all-MiniLM-L6-v2", help="catalog name or folder of a BERT-style encoder")
    parser.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    parser.add_argument("--lr", type=float, default=DEFAULTS["lr"], help="AdamW learning rate (default 5e-5)")
    parser.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    parser.add_argument("--max-length", type=int, default=DEFAULTS["max_length"], help="tokens per sentence")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--save", help="folder to save the fine-tuned model in (safetensors)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def load_data(args):
    if args.task:
        return load_task(args.task)
    if not args.data:
        raise UserFacingError("ft.err.need_data")
    path = Path(args.data)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:  # refused before reading
            raise UserFacingError("ft.err.too_big", megabytes=round(size / 1e6, 1),
                                  limit=round(MAX_BYTES / 1e6, 1))
        data = path.read_bytes()
    except OSError:
        raise UserFacingError("upload.err.unreadable", path=str(path)) from None
    return read_labelled_table(data, args.text_column, args.label_column, path.name, args.seed)


def _progress(quiet: bool):
    def report(p) -> None:
        if quiet:
            return
        if p.phase == "epoch":
            print(f"epoch {p.epoch}: train loss {p.loss:.4f} acc {p.accuracy:.3f} | "
                  f"val loss {p.val_loss:.4f} acc {p.val_accuracy:.3f} ({p.elapsed:.0f} s)", file=sys.stderr)
        elif p.step % 10 == 0 or p.step == p.total:
            print(f"  epoch {p.epoch} step {p.step}/{p.total} loss {p.loss:.4f}", file=sys.stderr)
    return report


def run(args) -> int:
    data = load_data(args)
    cfg = FinetuneConfig(model=args.model, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                         max_length=args.max_length, seed=args.seed, threads=args.threads)
    clf, result = finetune(data, cfg, progress=_progress(args.quiet))
    change = head_change(load_model(args.model), clf, list(data.validation.texts), cfg.max_length)
    out = result.to_dict()
    out["heads_changed_most"] = [[l + 1, h + 1, round(v, 4)] for l, h, v in change.top(5)]
    out["cls_heads_changed_most"] = [[l + 1, h + 1, round(v, 4)] for l, h, v in change.top(5, cls=True)]
    out["saved_to"] = str(save_classifier(clf, args.save, result)) if args.save else None
    if args.json:
        print_json(out)
        return 0
    print(f"validation accuracy: before {out['before']['val_accuracy']} (majority "
          f"{out['before']['majority_accuracy']}), after {out['val_accuracy']}; {out['seconds']} s")
    print("heads changed most (layer, head, JS distance):", out["heads_changed_most"])
    if out["saved_to"]:
        print("saved to", out["saved_to"])
    return 0
