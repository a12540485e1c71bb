"""Issue 11's other GPT route: a `GPT2LMHeadModel` trained from scratch on the same English data.

    python scripts/train_gpt2_scratch.py --cpu-minutes 50 --out runs/gpt2-scratch/model

The bundled minilm-gpt starts from all-MiniLM-L6-v2's weights (scripts/train_minilm_lms.py
causal). This trains the route it is compared with: a 4-layer GPT-2 from random weights, with
MiniLM's WordPiece tokenizer (so both read the same tokens), on the same data stream
(train_minilm_lms.CausalData: English Tatoeba sentences 75 %, runs of Tiny Shakespeare lines
25 %), the same one-thread CPU budget clock, warm-up and cosine schedule, and the same held-out
measure (bits per character on short held-out Tatoeba sentences, train_minilm_lms.evaluate).
A checkpoint goes to <out>/../ckpt.pt every 3 minutes and training resumes from it.

Measured (50 CPU minutes, 1,437 steps of 32; scripts/logs/gpt2-scratch.log and
gpt2-scratch-metrics.json): 1.98 bits per character on the validation and test sentences,
against minilm-gpt's 1.47 / 1.48 after 100 CPU minutes (1.51 after 60), so minilm-gpt is the
bundled GPT. At 2.1 s a step, most of it the 30,522-word output layer, 50 minutes is a third of
one pass over the English sentences.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_minilm_lms as base  # noqa: E402


def build(tokenizer, width: int, layers: int, heads: int):
    from transformers import GPT2Config, GPT2LMHeadModel
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=128, n_embd=width, n_layer=layers, n_head=heads,
                        bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id,
                        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True)
    return GPT2LMHeadModel._from_config(config, attn_implementation="eager")


def save(model, tokenizer, out: Path, metrics: dict) -> int:
    from safetensors.torch import save_file
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()
             if k != "lm_head.weight"}  # tied to transformer.wte
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    model.config.to_json_file(str(out / "config.json"))
    tokenizer.save_pretrained(str(out))
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return (out / "model.safetensors").stat().st_size


def train(args) -> None:
    from transformers import AutoTokenizer
    torch.manual_seed(base.SEED)
    tokenizer = AutoTokenizer.from_pretrained(base.minilm_dir())
    model = build(tokenizer, args.width, args.layers, args.heads)
    data = base.CausalData(tokenizer)
    params = list(model.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    run = base.Budgeted(model, opt, params, args.out.parent / "ckpt.pt", args.cpu_minutes, log_every=100)
    run.resume(data.rng, base.SEED)

    def validate(step: int) -> None:
        base.log(f"validation: {json.dumps(base.evaluate('causal', model, tokenizer, 'val'))}")

    spent = run.loop(lambda: base.causal_loss(model, data.batch(args.batch)),
                     lambda step, done: base.learning_rate(args.lr, step, done), hooks={2000: validate})
    step = run.step
    val = base.evaluate("causal", model, tokenizer, "val")
    base.log(f"validation at the end: {json.dumps(val)}")
    metrics = {"base": "none: GPT2LMHeadModel from random weights, all-MiniLM-L6-v2's WordPiece tokenizer",
               "architecture": f"{args.layers} layers x {args.heads} heads, width {args.width}",
               "train_cpu_seconds": round(spent, 1), "train_wall_seconds": round(run.wall_seconds, 1),
               "steps": step, "batch": args.batch, "learning_rate": args.lr, "threads": 1, "seed": base.SEED,
               "validation": val,
               "command": f"python scripts/train_gpt2_scratch.py --cpu-minutes {args.cpu_minutes} --width "
                          f"{args.width} --layers {args.layers} --heads {args.heads} --lr {args.lr} --batch {args.batch}"}
    if args.test:
        metrics["test"] = base.evaluate("causal", model, tokenizer, "test")
    size = save(model, tokenizer, args.out, metrics)
    base.log(f"saved {args.out} ({size / 1e6:.1f} MB)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cpu-minutes", type=float, default=50)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--lr", type=float, default=8e-4)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--test", action="store_true", help="also measure the test split (once, for a model to keep)")
    p.add_argument("--out", type=Path, default=base.ROOT / "runs" / "gpt2-scratch" / "model")
    args = p.parse_args()
    torch.set_num_threads(1)
    train(args)


if __name__ == "__main__":
    main()
