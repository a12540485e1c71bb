"""`gpt2-scratch`: issue 11's other GPT route, a `GPT2LMHeadModel` trained from scratch on the
same English data.

    python -m scripts.minilm gpt2-scratch --cpu-minutes 50 --out runs/gpt2-scratch/model

The bundled minilm-gpt starts from all-MiniLM-L6-v2's weights (`lms causal`). This trains the
route it is compared with: a 4-layer GPT-2 from random weights, with MiniLM's WordPiece tokenizer
(so both read the same tokens), on the same data stream (data.CausalData: English Tatoeba
sentences 75 %, runs of Tiny Shakespeare lines 25 %), the same CPU budget clock, warm-up and
cosine schedule, and the same held-out measure (bits per character on short held-out Tatoeba
sentences, measure.evaluate). A checkpoint goes to <out>/../ckpt.pt every 3 minutes and
training resumes from it.

Measured (50 CPU minutes, 1,437 steps of 32; scripts/logs/gpt2-scratch.log and
gpt2-scratch-metrics.json): 1.98 bits per character on the validation and test sentences,
against minilm-gpt's 1.47 / 1.48 after 100 CPU minutes (1.51 after 60), so minilm-gpt is the
bundled GPT. At 2.1 s a step, most of it the 30,522-word output layer, 50 minutes is a third of
one pass over the English sentences.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

from scripts.minilm import data, measure
from scripts.minilm.budget import Budgeted, log
from scripts.minilm.config import SEED, ScratchConfig
from scripts.minilm.models import causal_loss, learning_rate, minilm_dir


def build(tokenizer, width: int, layers: int, heads: int):
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=128, n_embd=width, n_layer=layers, n_head=heads,
                        bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id,
                        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True)
    return GPT2LMHeadModel._from_config(config, attn_implementation="eager")


def save(model, tokenizer, out: Path, metrics: dict) -> int:
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()
             if k != "lm_head.weight"}  # tied to transformer.wte
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    model.config.to_json_file(str(out / "config.json"))
    tokenizer.save_pretrained(str(out))
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return (out / "model.safetensors").stat().st_size


def train(cfg: ScratchConfig) -> None:
    torch.manual_seed(SEED)
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
    model = build(tokenizer, cfg.width, cfg.layers, cfg.heads)
    stream = data.CausalData(tokenizer)
    params = list(model.parameters())
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.01)
    run = Budgeted(model, opt, params, cfg.out.parent / "ckpt.pt", cfg.cpu_minutes, log_every=100)
    run.resume(stream.rng, SEED)

    def validate(step: int) -> None:
        log(f"validation: {json.dumps(measure.evaluate('causal', model, tokenizer, 'val'))}")

    spent = run.loop(lambda: causal_loss(model, stream.batch(cfg.batch)),
                     lambda step, done: learning_rate(cfg.lr, step, done), hooks={2000: validate})
    val = measure.evaluate("causal", model, tokenizer, "val")
    log(f"validation at the end: {json.dumps(val)}")
    metrics = {"base": "none: GPT2LMHeadModel from random weights, all-MiniLM-L6-v2's WordPiece tokenizer",
               "architecture": f"{cfg.layers} layers x {cfg.heads} heads, width {cfg.width}",
               "train_cpu_seconds": round(spent, 1), "train_wall_seconds": round(run.wall_seconds, 1),
               "steps": run.step, "batch": cfg.batch, "learning_rate": cfg.lr, "threads": 1, "seed": SEED,
               "validation": val, "command": cfg.command(), "config": cfg.to_dict()}
    if cfg.test:
        metrics["test"] = measure.evaluate("causal", model, tokenizer, "test")
    size = save(model, tokenizer, cfg.out, metrics)
    log(f"saved {cfg.out} ({size / 1e6:.1f} MB)")


def parse(argv: list[str] | None = None) -> ScratchConfig:
    d = ScratchConfig()
    p = argparse.ArgumentParser(prog="python -m scripts.minilm gpt2-scratch", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cpu-minutes", type=float, default=d.cpu_minutes)
    p.add_argument("--width", type=int, default=d.width)
    p.add_argument("--layers", type=int, default=d.layers)
    p.add_argument("--heads", type=int, default=d.heads)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--test", action="store_true", help="also measure the test split (once, for a model to keep)")
    p.add_argument("--out", type=Path, default=d.out)
    return ScratchConfig(**vars(p.parse_args(argv)))


def main(argv: list[str] | None = None) -> None:
    cfg = parse(argv)
    torch.set_num_threads(1)
    train(cfg)
