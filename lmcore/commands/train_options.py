"""What `train seq2seq` and `train transformer` share: the data, training and output options
(`add_options`), the progress bar on stderr and the trainer (`train_and_save`), so the two
families see identical pairs, splits and tokenization when given the same options.
lmcore.commands.train and lmcore.commands.train_transformer each add their model's options.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

import torch

from lmcore.cli import print_json
from lmcore.translation.checkpoints import checkpoint_size, save_checkpoint
from lmcore.translation.data import DataConfig, load_pairs
from lmcore.translation.monolingual import read_sentences
from lmcore.translation.training import Progress, TrainConfig, train_translator


def add_options(p: argparse.ArgumentParser, model_options: Callable[[argparse.ArgumentParser], None],
                lr: float) -> None:
    """The options every kind shares, around the model's own (`model_options(p)`); lr: --lr's default."""
    p.add_argument("--pairs", required=True, help="TSV file: source TAB target per line")
    p.add_argument("--out", required=True, help="checkpoint directory to write")
    p.add_argument("--swap", action="store_true", help="the target is in the first column")
    p.add_argument("--src-lang", default="en")
    p.add_argument("--tgt-lang", default="fr")
    model_options(p)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--patience", type=int, default=2)
    p.add_argument("--label-smoothing", type=float, default=0.0, help="training loss only")
    p.add_argument("--warmup-steps", type=int, default=0,
                   help="linear warm-up to --lr, then inverse square-root decay (0: constant lr)")
    p.add_argument("--save-best", action="store_true",
                   help="write the best model so far to --out at every improvement (a killed run keeps it)")
    p.add_argument("--max-minutes", type=float, default=None, help="wall-clock budget")
    p.add_argument("--max-cpu-minutes", type=float, default=None,
                   help="CPU-time budget (fair on a shared machine; with --threads 1 = thread-minutes)")
    p.add_argument("--eval-every", type=int, default=None, help="validate every N steps too")
    p.add_argument("--min-freq", type=int, default=2, help="rarer tokens become <unk>")
    p.add_argument("--tgt-min-freq", type=int, default=None, help="default: --min-freq")
    p.add_argument("--max-vocab", type=int, default=8000)
    p.add_argument("--max-src-tokens", type=int, default=60)
    p.add_argument("--max-tgt-tokens", type=int, default=80, help="pairs with longer targets are left out")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--test-fraction", type=float, default=0.0, help="held out for evaluation")
    p.add_argument("--joined-fraction", type=float, default=0.25)
    p.add_argument("--max-pairs", type=int, default=None, help="use only the first N pairs")
    p.add_argument("--target-text", default=None,
                   help="target-language sentences (text, or TSV with --target-text-column) added "
                        "to training with a dummy source (Sennrich et al. 2016)")
    p.add_argument("--target-text-column", type=int, default=0, help="the TSV column of --target-text")
    p.add_argument("--target-text-ratio", type=float, default=1.0,
                   help="dummy-source sentences per training pair (with --target-text)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--float32", action="store_true", help="store float32 weights (default float16)")
    p.add_argument("--dataset", default=None, help="dataset name to record in the checkpoint")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


class ProgressBar:
    """A tqdm-like text bar on stderr; one line every `every` seconds when not a tty."""

    def __init__(self, stream=None, every: float = 10.0) -> None:
        stream = sys.stderr if stream is None else stream  # the current stderr, not import-time's
        self.stream, self.every, self.last = stream, every, 0.0
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def __call__(self, p: Progress) -> bool:
        now = time.monotonic()
        if p.val_loss is None and not self.tty and now - self.last < self.every:
            return True
        self.last = now
        filled = int(20 * p.step / max(p.total, 1))
        line = (f"epoch {p.epoch} [{'#' * filled}{'.' * (20 - filled)}] {p.step}/{p.total} "
                f"loss {p.loss:.3f} {p.elapsed:.0f}s")
        if p.val_loss is not None:
            line += f" val_loss {p.val_loss:.3f}"
        end = "\n" if (not self.tty or p.val_loss is not None) else ""
        self.stream.write(("\r" if self.tty else "") + line + end)
        self.stream.flush()
        return True


def train_and_save(args, build: Callable) -> int:
    """Load the pairs, train build(src_vocab_size, tgt_vocab_size), save the checkpoint to
    args.out and print the summary (JSON with --json)."""
    if args.threads:
        torch.set_num_threads(args.threads)
    pairs, notices = load_pairs(args.pairs, swap=args.swap, max_bytes=50_000_000, max_lines=500_000)
    if args.max_pairs:
        pairs = pairs[: args.max_pairs]
    data_cfg = DataConfig(args.src_lang, args.tgt_lang, args.val_fraction, args.test_fraction,
                          args.joined_fraction, src_min_freq=args.min_freq,
                          tgt_min_freq=args.tgt_min_freq or args.min_freq, max_vocab=args.max_vocab,
                          max_src_tokens=args.max_src_tokens, max_tgt_tokens=args.max_tgt_tokens,
                          seed=args.seed,
                          target_text_ratio=args.target_text_ratio if args.target_text else 0.0)
    texts = read_sentences(args.target_text, args.target_text_column) if args.target_text else []
    train_cfg = TrainConfig(args.epochs, args.batch_size, args.lr, patience=args.patience,
                            seed=args.seed, max_minutes=args.max_minutes, eval_every=args.eval_every,
                            max_cpu_minutes=args.max_cpu_minutes, label_smoothing=args.label_smoothing,
                            warmup_steps=args.warmup_steps)
    dtype = torch.float32 if args.float32 else torch.float16
    keep = (lambda c: save_checkpoint(args.out, c, dtype)) if args.save_best else None
    ckpt, result = train_translator(pairs, data_cfg, train_cfg, build, ProgressBar(), on_best=keep,
                                    target_texts=texts)
    ckpt.meta.update({"dataset": args.dataset, "pairs": len(pairs), "swap": args.swap,
                      "max_pairs": args.max_pairs,
                      "target_text": Path(args.target_text).name if args.target_text else None})
    save_checkpoint(args.out, ckpt, dtype)
    summary = {"out": str(args.out), "stopped": result.stopped, "epochs_run": result.epochs_run,
               "best_epoch": result.best_epoch, "best_val_loss": round(result.best_val_loss, 4),
               "seconds": round(result.seconds, 1), "cpu_seconds": round(result.cpu_seconds, 1),
               "weights_bytes": checkpoint_size(args.out),
               "src_vocab": len(ckpt.src_vocab), "tgt_vocab": len(ckpt.tgt_vocab),
               "history": result.history, "notices": [n.to_dict() for n in notices]}
    if args.json:
        print_json(summary)
    else:
        print(f"saved {args.out}: stopped={result.stopped} best epoch {result.best_epoch} "
              f"val_loss {result.best_val_loss:.3f} in {result.seconds:.0f}s "
              f"({result.cpu_seconds:.0f}s CPU) "
              f"({summary['weights_bytes'] / 1e6:.1f} MB)")
    return 0
