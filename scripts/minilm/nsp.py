"""`nsp`: the second stage of the bundled minilm-mlm, its next-sentence head taught everyday
continuations.

    python -m scripts.minilm nsp --cpu-minutes 30     # lmcore/assets/minilm-mlm, in place
    python -m scripts.minilm remeasure                # its figures again, next-sentence on every held-out file

Why a second stage: the first (`lms mlm`) drew its true pairs mostly from Tiny Shakespeare and
its random second sentences mostly from Tatoeba, so the head learned the style, not the
continuation (50 % on the everyday pairs). Tatoeba's fra-eng holds only 92 two-sentence entries
in the training split, too few to learn everyday continuations from.

This stage starts from the bundled minilm-mlm and trains all six layers on MLM + NSP together
(so fill-mask keeps what it learned), with every negative drawn from the same source as its
positive (pairs.py). Checkpoints are chosen, and the head's bias calibrated (the 0.5 threshold
moved to the best split), on the development pairs only; the test pairs are read once, at the end.

--distill W softens the next-sentence targets towards the untouched all-MiniLM-L6-v2's similarity
of A and B (teacher.py; that similarity alone scores 80 % on the development pairs).
Tried from the same stage-1 model with 30 CPU minutes each (scripts/logs/minilm-nsp-distill-*.log):
W = 0.5 reached 0.80 and W = 0.9 0.775 on the development pairs, against 0.85 without it, so
the bundled model was trained without (the default, W = 0).
--written everyday_pairs_train.tsv everyday_pairs_train_more.tsv adds 168 more written pairs
(302 in all). Tried the same way (25 CPU minutes; scripts/logs/minilm-nsp-more-pairs.log): 0.838
on the development pairs against 0.85, so not bundled either (its test figure, 0.797, was read
after that choice and is not a reason to change it; it is also under the 80 % target).
800 more (everyday_pairs_train_extra_a.tsv, _b.tsv; 940 of all 1,102 written pairs kept once every
pair with a sentence close to a held-out one is dropped) with --weights 0.15,0.15,0.3,0.4 and 35
CPU minutes (scripts/logs/minilm-nsp-extra-pairs.log): 0.89 on all 200 development pairs against
the bundled 0.885, but lower fill-mask on validation, so not bundled.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from transformers import AutoTokenizer

from lmcore.pretrained.loading import load_model
from scripts.minilm import measure, pairs
from scripts.minilm.budget import Budgeted, log
from scripts.minilm.config import SEED, NSPConfig
from scripts.minilm.models import continued, learning_rate, minilm_dir, mlm_loss, model_folder, save_trained
from scripts.minilm.teacher import Teacher

REMEASURED = ("next-sentence figures re-measured on every held-out file, the weights unchanged: "
              "test also on everyday_pairs_test2.tsv and development also on everyday_pairs_dev2.tsv, "
              "both written after this model was trained (python scripts/train_minilm_nsp.py --remeasure)")


def train(cfg: NSPConfig) -> None:
    torch.manual_seed(SEED)
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
    start_metrics = json.loads((model_folder(cfg.start) / "metrics.json").read_text())
    model = continued(cfg.start)
    stream, dev = pairs.NSPData(tokenizer, cfg.weights, cfg.written, cfg.run), pairs.dev_pairs()
    teacher = None
    if cfg.distill > 0:
        teacher = Teacher()
        teacher.fit([stream.example() for _ in range(3000)])
        stream.rng.seed(SEED)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.01)
    best = {"acc": -1.0}
    run = Budgeted(model, opt, params, cfg.run / "ckpt.pt", cfg.cpu_minutes, extra=lambda: best_fields(best, model))
    ckpt = run.resume(stream.rng, SEED)
    if ckpt is not None:
        best = {"acc": float(ckpt["best_acc"]), "step": int(ckpt["best_step"]), "state": ckpt["best_state"]}

    def on_dev(step: int) -> None:
        nonlocal best
        cut, acc = measure.best_threshold(measure.margins(model, tokenizer, dev))
        log(f"dev next-sentence accuracy {acc:.3f} (threshold {cut:+.2f}) at step {step}")
        if acc > best["acc"]:
            best = {"acc": acc, "step": step, "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}

    spent = run.loop(lambda: batch_loss(model, stream, cfg.batch, teacher, cfg.distill),
                     lambda step, done: learning_rate(cfg.lr, step, done, warmup=100), hooks={cfg.eval_every: on_dev})
    run.save()
    finish(cfg, model, tokenizer, best, run.step, spent, run.wall_seconds, start_metrics, dev)


def batch_loss(model, stream: pairs.NSPData, size: int, teacher, distill: float) -> torch.Tensor:
    """MLM + NSP on one batch; with a teacher, NSP targets softened towards its P(follows)."""
    if teacher is None:
        return mlm_loss(model, stream.batch(size))
    rows = [stream.example() for _ in range(size)]
    hard = torch.tensor([float(y) for _, _, y in rows])
    soft = teacher.follows([a for a, _, _ in rows], [b for _, b, _ in rows])
    return mlm_loss(model, stream.encode(rows), follows=(1 - distill) * hard + distill * soft)


def best_fields(best: dict, model) -> dict:
    """What a checkpoint adds so a resumed run keeps its best development model so far."""
    return {"best_acc": best["acc"], "best_step": best.get("step", 0), "best_state": best.get("state", model.state_dict())}


def finish(cfg: NSPConfig, model, tokenizer, best, step, spent, wall, start_metrics, dev) -> None:
    if "state" in best:
        model.load_state_dict(best["state"])
    cut, dev_acc = measure.calibrate(model, tokenizer, dev)
    val, test = measure.evaluate("mlm", model, tokenizer, "val"), measure.evaluate("mlm", model, tokenizer, "test")
    val["next_sentence"] = measure.nsp(model, tokenizer, dev)
    test["next_sentence"] = measure.held_out_nsp(model, tokenizer)
    size = save_trained(model, cfg.out, "BertForPreTraining", {"is_decoder": False})
    stage1 = {k: start_metrics.get(k) for k in ("train_cpu_seconds", "train_wall_seconds", "steps", "batch",
                                                  "learning_rate", "command")}
    command = cfg.command()
    taught = (f"; next-sentence targets softened towards the untouched all-MiniLM-L6-v2's similarity of A and B "
              f"(weight {cfg.distill}, scripts/minilm/teacher.py)" if cfg.distill else "")
    metrics = dict(start_metrics)
    metrics.pop("note", None)
    metrics.update({
        "objective": "masked LM (whole-word, 15%) + next-sentence prediction, then a second stage of MLM + "
                     "next-sentence prediction with same-source negatives",
        "data": start_metrics["data"] + "; second stage: also the two clauses of Tatoeba sentences joined by "
                "so/but/or/because/when/if, and pairs of related Tatoeba sentences (nearest neighbours by the "
                f"untouched all-MiniLM-L6-v2's similarity), and {len(pairs.written_pairs(tuple(cfg.written)))} "
                f"everyday pairs written for the project (scripts/data/{', '.join(cfg.written)})" + taught,
        "held_out": with_every_test_file(start_metrics["held_out"]) + "; checkpoint and threshold chosen on "
                    "scripts/data/" + " and ".join(pairs.HELD_OUT["dev"]),
        "train_cpu_seconds": round(stage1["train_cpu_seconds"] + spent, 1),
        "train_cpu_minutes_budget": start_metrics.get("train_cpu_minutes_budget", 0) + cfg.cpu_minutes,
        "train_wall_seconds": round(stage1["train_wall_seconds"] + wall, 1),
        "steps": stage1["steps"] + best.get("step", step),
        "stages": [stage1 | {"what": "MLM + NSP from all-MiniLM-L6-v2"},
                   {"what": "MLM + NSP, same-source negatives, from stage 1" + taught, "train_cpu_seconds": round(spent, 1),
                    "steps_run": step, "steps_kept": best.get("step", step), "batch": cfg.batch,
                    "learning_rate": cfg.lr, "dev_next_sentence_accuracy": dev_acc,
                    "threshold_margin": round(cut, 4), "command": command}],
        "size_bytes_on_disk": size, "validation": val, "test": test,
        "command": stage1["command"] + " && " + command, "config": cfg.to_dict(),
    })
    (cfg.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log(f"saved {cfg.out} ({size / 1e6:.1f} MB): dev nsp {dev_acc:.3f}; test {json.dumps(test)}")


def with_every_test_file(held_out: str) -> str:
    """A metrics "held_out" text naming the second test file beside the first (once)."""
    if "everyday_pairs_test2.tsv" in held_out:
        return held_out
    return held_out.replace("scripts/data/everyday_pairs.tsv", "scripts/data/everyday_pairs.tsv and everyday_pairs_test2.tsv", 1)


def remeasure(folder: Path) -> None:
    """Every figure of a trained minilm-mlm re-measured from its saved weights (not touched) and
    written into its metrics.json: next-sentence on every held-out file (for held-out sets written
    after the model) and fill-mask; for the bundled model it rewrites the file byte for byte, the
    check that moving the measuring code changed no figure."""
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
    model = load_model(str(folder)).model.float()
    metrics = json.loads((folder / "metrics.json").read_text())
    for split, key in (("val", "validation"), ("test", "test")):
        metrics[key]["fill_mask"] = measure.fill_mask(model, tokenizer, measure.short_sentences(split))
    metrics["validation"]["next_sentence"] = measure.nsp(model, tokenizer, pairs.first_dev_pairs())
    metrics["test"]["next_sentence"] = measure.held_out_nsp(model, tokenizer)
    metrics["validation"]["next_sentence_every_dev_file"] = measure.nsp(model, tokenizer, pairs.dev_pairs())
    metrics["held_out"] = with_every_test_file(metrics["held_out"])
    metrics["remeasured"] = REMEASURED
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log(f"re-measured {folder}: test {json.dumps(metrics['test']['next_sentence'])}")


def parse(argv: list[str] | None = None) -> tuple[NSPConfig, bool]:
    """The config, and whether only to re-measure (--remeasure)."""
    d = NSPConfig()
    p = argparse.ArgumentParser(prog="python -m scripts.minilm nsp", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cpu-minutes", type=float, default=d.cpu_minutes)
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--threads", type=int, default=d.threads)
    p.add_argument("--start", default=d.start, help="the stage-1 model: catalog name or folder")
    p.add_argument("--distill", type=float, default=d.distill,
                   help="weight of the teacher's P(follows) in the next-sentence targets (0: labels only)")
    p.add_argument("--out", type=Path, default=d.out, help="where the model is written (default: in place)")
    p.add_argument("--run", type=Path, default=d.run, help="checkpoints and the related-pairs cache")
    p.add_argument("--eval-every", type=int, default=d.eval_every)
    p.add_argument("--written", nargs="+", default=list(d.written), help="files of written pairs in scripts/data")
    p.add_argument("--weights", default=",".join(map(str, d.weights)),
                   help="shares of Shakespeare, Tatoeba two-part, related Tatoeba and written pairs")
    p.add_argument("--remeasure", action="store_true",
                   help="only re-measure the figures of --out (next-sentence on every held-out file)")
    args = vars(p.parse_args(argv))
    only_remeasure = args.pop("remeasure")
    args.update(written=tuple(args["written"]), weights=tuple(float(x) for x in args["weights"].split(",")))
    return NSPConfig(**args), only_remeasure


def main(argv: list[str] | None = None) -> None:
    cfg, only_remeasure = parse(argv)
    torch.set_num_threads(cfg.threads)
    if only_remeasure:
        return remeasure(cfg.out)
    train(cfg)
