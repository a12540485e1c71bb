"""`python -m lmcore train-transformer --pairs FILE.tsv --out DIR [options]`.

Trains the from-scratch encoder–decoder Transformer (lmcore.transformer) with the same
data preparation, trainer, progress bar and checkpoint format as `train seq2seq`, so the
two families see identical pairs, splits and tokenization when given the same options.
"""
from __future__ import annotations

from lmcore.cli import print_json
from lmcore.commands.train import ProgressBar
from lmcore.data import DataConfig, load_pairs
from lmcore.training import TrainConfig, train_translator
from lmcore.transformer import Transformer, TransformerConfig


def register(sub) -> None:
    p = sub.add_parser("train-transformer", help="train a Transformer translator on your own data")
    p.add_argument("--pairs", required=True, help="TSV file: source TAB target per line")
    p.add_argument("--out", required=True, help="checkpoint directory to write")
    p.add_argument("--swap", action="store_true", help="the target is in the first column")
    p.add_argument("--src-lang", default="en")
    p.add_argument("--tgt-lang", default="fr")
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--layers", type=int, default=3, help="encoder and decoder layers each")
    p.add_argument("--d-ff", type=int, default=512)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--positional", default="sinusoidal", choices=["sinusoidal", "learned", "none"])
    p.add_argument("--post-norm", action="store_true", help="the paper's post-norm (default pre-norm)")
    p.add_argument("--max-len", type=int, default=None,
                   help="positional table rows (default: the longest allowed input + 2)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--patience", type=int, default=2)
    p.add_argument("--max-minutes", type=float, default=None, help="wall-clock budget")
    p.add_argument("--max-cpu-minutes", type=float, default=None,
                   help="CPU-time budget (fair on a shared machine; with --threads 1 = thread-minutes)")
    p.add_argument("--eval-every", type=int, default=None, help="validate every N steps too")
    p.add_argument("--min-freq", type=int, default=2, help="rarer tokens become <unk>")
    p.add_argument("--tgt-min-freq", type=int, default=None, help="default: --min-freq")
    p.add_argument("--max-vocab", type=int, default=8000)
    p.add_argument("--max-src-tokens", type=int, default=60)
    p.add_argument("--max-tgt-tokens", type=int, default=80)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--test-fraction", type=float, default=0.0, help="held out for evaluation")
    p.add_argument("--joined-fraction", type=float, default=0.25)
    p.add_argument("--max-pairs", type=int, default=None, help="use only the first N pairs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--float32", action="store_true", help="store float32 weights (default float16)")
    p.add_argument("--dataset", default=None, help="dataset name to record in the checkpoint")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=run)


def model_config(args, src_size: int, tgt_size: int) -> TransformerConfig:
    max_len = args.max_len or max(args.max_src_tokens, args.max_tgt_tokens) + 2
    return TransformerConfig(src_size, tgt_size, args.d_model, args.heads, args.layers, args.layers,
                             args.d_ff, args.dropout, max_len, args.positional,
                             norm_first=not args.post_norm)


def run(args) -> int:
    import torch

    from lmcore.checkpoints import checkpoint_size, save_checkpoint

    if args.threads:
        torch.set_num_threads(args.threads)
    pairs, notices = load_pairs(args.pairs, swap=args.swap, max_bytes=50_000_000, max_lines=500_000)
    if args.max_pairs:
        pairs = pairs[: args.max_pairs]
    data_cfg = DataConfig(args.src_lang, args.tgt_lang, args.val_fraction, args.test_fraction,
                          args.joined_fraction, src_min_freq=args.min_freq,
                          tgt_min_freq=args.tgt_min_freq or args.min_freq, max_vocab=args.max_vocab,
                          max_src_tokens=args.max_src_tokens, max_tgt_tokens=args.max_tgt_tokens,
                          seed=args.seed)
    train_cfg = TrainConfig(args.epochs, args.batch_size, args.lr, patience=args.patience,
                            seed=args.seed, max_minutes=args.max_minutes, eval_every=args.eval_every,
                            max_cpu_minutes=args.max_cpu_minutes)
    ckpt, result = train_translator(pairs, data_cfg, train_cfg,
                                    lambda s, t: Transformer(model_config(args, s, t)), ProgressBar())
    ckpt.meta.update({"dataset": args.dataset, "pairs": len(pairs), "swap": args.swap,
                      "max_pairs": args.max_pairs})
    save_checkpoint(args.out, ckpt, torch.float32 if args.float32 else torch.float16)
    summary = {"out": str(args.out), "stopped": result.stopped, "epochs_run": result.epochs_run,
               "best_epoch": result.best_epoch, "best_val_loss": round(result.best_val_loss, 4),
               "seconds": round(result.seconds, 1),
               "cpu_seconds": round(getattr(result, "cpu_seconds", 0.0), 1), "weights_bytes": checkpoint_size(args.out),
               "src_vocab": len(ckpt.src_vocab), "tgt_vocab": len(ckpt.tgt_vocab),
               "history": result.history, "notices": [n.to_dict() for n in notices]}
    if args.json:
        print_json(summary)
    else:
        print(f"saved {args.out}: stopped={result.stopped} best epoch {result.best_epoch} "
              f"val_loss {result.best_val_loss:.3f} in {result.seconds:.0f}s "
              f"({summary['weights_bytes'] / 1e6:.1f} MB)")
    return 0
