"""Second stage of the bundled minilm-mlm: teach its next-sentence head everyday continuations.

    python scripts/train_minilm_nsp.py --cpu-minutes 30     # lmcore/assets/minilm-mlm, in place

Why a second stage: the first (scripts/train_minilm_lms.py mlm) drew its true pairs mostly from
Tiny Shakespeare and its random second sentences mostly from Tatoeba, so the head learned the
style, not the continuation (50 % on the everyday pairs). Tatoeba's fra-eng holds only 92
two-sentence entries in the training split, too few to learn everyday continuations from.

This stage starts from the bundled minilm-mlm and trains all six layers on MLM + NSP together
(so fill-mask keeps what it learned), with every negative drawn from the *same source* as its
positive, so style gives nothing away. True pairs:
  - consecutive Tiny Shakespeare lines (first 90 % of lines);
  - two-sentence Tatoeba entries and the two clauses of Tatoeba sentences joined by
    ", so / , but / , or / because / when / if" (training split only);
  - the everyday pairs written for the project (scripts/data/everyday_pairs_train.tsv; pairs
    close in topic to a development or test pair were left out);
  - related Tatoeba sentences: for a sample of training sentences, the nearest other training
    sentence by the untouched all-MiniLM-L6-v2's sentence similarity (cosine 0.45-0.85, few
    shared words, so not a paraphrase). A weak stand-in for "what could come next".
Checkpoints are chosen, and the head's bias calibrated (the 0.5 threshold moved to the best
split), on scripts/data/everyday_pairs_dev.tsv only. scripts/data/everyday_pairs.tsv (test) is
read once, at the end.

--distill W softens the next-sentence targets towards the untouched all-MiniLM-L6-v2's similarity
of A and B (scripts/nsp_teacher.py; that similarity alone scores 80 % on the development pairs).
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
--remeasure writes the bundled model's next-sentence figures on every held-out file into its
metrics.json without training (the second dev and test files were written after it was trained).
"""
from __future__ import annotations

import argparse
import functools
import json
import random
import re
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_minilm_lms as base  # noqa: E402
import nsp_teacher  # noqa: E402

OUT = base.ASSETS / "minilm-mlm"
RUN = base.ROOT / "runs" / "minilm-nsp"
EVAL_EVERY = 150  # steps between development evaluations
CLAUSES = re.compile(r"^(.{8,}?)(?:, (?:so|but|or)| because| when| if) (.{8,})$")


def with_random_b(true: list[tuple[str, str]], seed: int) -> list[tuple[str, str, int]]:
    """Every other pair keeps its B; the others get the B of another pair (fixed seed)."""
    rng, out = random.Random(seed), []
    for i, (a, b) in enumerate(true):
        j = rng.choice([k for k in range(len(true)) if k != i])
        out.append((a, b, 1) if i % 2 == 0 else (a, true[j][1], 0))
    return out


HELD_OUT = {"dev": ["everyday_pairs_dev.tsv", "everyday_pairs_dev2.tsv"],
            "test": ["everyday_pairs.tsv", "everyday_pairs_test2.tsv"]}


def present(names: list[str]) -> list[tuple[int, str]]:
    """(position in `names`, name) of the scripts/data files that exist."""
    return [(k, name) for k, name in enumerate(names) if (base.ROOT / "scripts" / "data" / name).is_file()]


def dev_pairs() -> list[tuple[str, str, int]]:
    """The development pairs of every dev file, each file's own random Bs, like the test set."""
    return [row for k, name in present(HELD_OUT["dev"])
            for row in with_random_b(base.read_pairs(name), base.SEED + 1 + k)]


def test_parts(test_sentences: list[str]) -> dict[str, list[tuple[str, str, int]]]:
    """The held-out test pairs by file: the first test set (with Tatoeba's two-sentence test
    entries, as scripts/train_minilm_lms.py builds it) and the larger second one."""
    return {"everyday_pairs.tsv + Tatoeba test": base.everyday_pairs(test_sentences),
            "everyday_pairs_test2.tsv": with_random_b(base.read_pairs("everyday_pairs_test2.tsv"), base.SEED + 7)}


WRITTEN = ["everyday_pairs_train.tsv"]  # scripts/data files of written training pairs (--written)
WEIGHTS = (0.2, 0.15, 0.45, 0.2)  # Shakespeare, Tatoeba two-part, related Tatoeba, written (--weights)


def written_pairs() -> list[tuple[str, str]]:
    """The project's own everyday training pairs, less any with a sentence close to a held-out one."""
    return _written(tuple(WRITTEN))


@functools.lru_cache(maxsize=None)
def _written(names: tuple[str, ...]) -> list[tuple[str, str]]:
    pairs = [pair for name in names for pair in base.read_pairs(name)]
    held = [s for files in HELD_OUT.values() for _, name in present(files)
            for pair in base.read_pairs(name) for s in pair]
    return drop_close(pairs, held)


@torch.inference_mode()
def drop_close(pairs: list[tuple[str, str]], held: list[str], limit: float = 0.8) -> list[tuple[str, str]]:
    """Pairs whose A and B are both under `limit` cosine (untouched all-MiniLM-L6-v2) to every
    held-out sentence: no near-copy of a development or test sentence is trained on."""
    if not pairs or not held:
        return pairs
    from transformers import AutoModel, AutoTokenizer
    tok, model = AutoTokenizer.from_pretrained(base.minilm_dir()), AutoModel.from_pretrained(base.minilm_dir()).eval()

    def emb(sentences):
        return torch.cat([nsp_teacher.embed(tok, model, sentences[i:i + 256], 48) for i in range(0, len(sentences), 256)])
    held_v = emb(held)
    near_a = (emb([a for a, _ in pairs]) @ held_v.T).max(dim=-1).values
    near_b = (emb([b for _, b in pairs]) @ held_v.T).max(dim=-1).values
    close = (torch.maximum(near_a, near_b) >= limit).tolist()
    kept = [pair for pair, c in zip(pairs, close) if not c]
    base.log(f"written pairs: {len(kept)} kept, {len(pairs) - len(kept)} dropped (a sentence >= {limit} "
             f"similar to one of {len(held)} held-out sentences)")
    return kept


def clause_pairs(sentences: list[str]) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for s in sentences if (m := CLAUSES.match(s))]


@torch.inference_mode()
def related_pairs(sentences: list[str], anchors: int = 12000) -> list[tuple[str, str]]:
    """(A, B): B the nearest other sentence to A by untouched MiniLM similarity, not a paraphrase."""
    cache = RUN / "related.json"
    if cache.is_file():
        return [tuple(p) for p in json.loads(cache.read_text())]
    from transformers import AutoModel, AutoTokenizer
    tok, model = AutoTokenizer.from_pretrained(base.minilm_dir()), AutoModel.from_pretrained(base.minilm_dir()).eval()
    emb = torch.cat([nsp_teacher.embed(tok, model, sentences[i:i + 128], max_length=48)
                     for i in range(0, len(sentences), 128)])
    rng = random.Random(base.SEED)
    picked = rng.sample(range(len(sentences)), min(anchors, len(sentences)))
    out = []
    for start in range(0, len(picked), 1024):
        rows = picked[start:start + 1024]
        sims = emb[rows] @ emb.T
        sims[sims > 0.85] = -1.0  # itself and paraphrases
        best = sims.topk(5, dim=-1)
        for r, vals, idx in zip(rows, best.values, best.indices):
            a_words = set(sentences[r].lower().split())
            for v, j in zip(vals.tolist(), idx.tolist()):
                b_words = set(sentences[j].lower().split())
                if v >= 0.45 and len(a_words & b_words) / len(a_words | b_words) < 0.4:
                    out.append((sentences[r], sentences[j]))
                    break
    RUN.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(out))
    return out


class NSPData(base.MLMData):
    """MLM on every example; NSP labels on pairs whose negative B comes from the same source."""

    def __init__(self, tokenizer, seed: int = base.SEED):
        super().__init__(tokenizer, seed)
        eng = base.english_sentences()["train"]
        shake, _ = base.shakespeare_lines()
        short = base.two_sentence_pairs(eng) + clause_pairs(eng)
        w = WEIGHTS
        self.sources = [(w[0], list(zip(shake, shake[1:]))), (w[1], short), (w[2], related_pairs(eng)),
                        (w[3], written_pairs())]
        base.log("nsp sources: " + ", ".join(f"{len(p)} pairs (weight {w})" for w, p in self.sources))

    def example(self):
        r, acc = self.rng.random(), 0.0
        for weight, pairs in self.sources:
            acc += weight
            if r < acc:
                break
        a, b = self.rng.choice(pairs)
        if self.rng.random() < 0.5:
            return a, self.rng.choice(pairs)[1], 0
        return a, b, 1


def best_threshold(scores: list[tuple[float, int]]) -> tuple[float, float]:
    """(threshold on the logit margin, accuracy there) that classifies `scores` best."""
    values = sorted(s for s, _ in scores)
    cuts = [(x + y) / 2 for x, y in zip(values, values[1:])] or [0.0]
    def acc(c: float) -> float:
        return sum((s > c) == bool(y) for s, y in scores) / len(scores)
    best = max(cuts, key=lambda c: (acc(c), -abs(c)))
    return best, acc(best)


def train(cpu_minutes: float, batch_size: int, peak_lr: float, start: str = "minilm-mlm",
          distill: float = 0.0) -> None:
    from transformers import AutoTokenizer
    torch.manual_seed(base.SEED)
    tokenizer = AutoTokenizer.from_pretrained(base.minilm_dir())
    start_metrics = json.loads((base.model_folder(start) / "metrics.json").read_text())
    model = base.continued(start)
    data, dev = NSPData(tokenizer), dev_pairs()
    teacher = None
    if distill > 0:
        teacher = nsp_teacher.Teacher()
        teacher.fit([data.example() for _ in range(3000)])
        data.rng.seed(base.SEED)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=peak_lr, weight_decay=0.01)
    best = {"acc": -1.0}
    run = base.Budgeted(model, opt, params, RUN / "ckpt.pt", cpu_minutes, extra=lambda: best_fields(best, model))
    ckpt = run.resume(data.rng, base.SEED)
    if ckpt is not None:
        best = {"acc": float(ckpt["best_acc"]), "step": int(ckpt["best_step"]), "state": ckpt["best_state"]}

    def on_dev(step: int) -> None:
        nonlocal best
        cut, acc = best_threshold(base.nsp_margins(model, tokenizer, dev))
        base.log(f"dev next-sentence accuracy {acc:.3f} (threshold {cut:+.2f}) at step {step}")
        if acc > best["acc"]:
            best = {"acc": acc, "step": step, "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}

    spent = run.loop(lambda: batch_loss(model, data, batch_size, teacher, distill),
                     lambda step, done: base.learning_rate(peak_lr, step, done, warmup=100), hooks={EVAL_EVERY: on_dev})
    run.save()
    finish(model, tokenizer, best, run.step, spent, run.wall_seconds, start_metrics, dev,
           dict(cpu_minutes=cpu_minutes, batch=batch_size, lr=peak_lr, distill=distill))


def batch_loss(model, data: NSPData, size: int, teacher, distill: float) -> torch.Tensor:
    """MLM + NSP on one batch; with a teacher, NSP targets softened towards its P(follows)."""
    if teacher is None:
        return base.mlm_loss(model, data.batch(size))
    rows = [data.example() for _ in range(size)]
    hard = torch.tensor([float(y) for _, _, y in rows])
    soft = teacher.follows([a for a, _, _ in rows], [b for _, b, _ in rows])
    return base.mlm_loss(model, data.encode(rows), follows=(1 - distill) * hard + distill * soft)


def best_fields(best: dict, model) -> dict:
    """What a checkpoint adds so a resumed run keeps its best development model so far."""
    return {"best_acc": best["acc"], "best_step": best.get("step", 0), "best_state": best.get("state", model.state_dict())}


def finish(model, tokenizer, best, step, spent, wall, start_metrics, dev, args) -> None:
    if "state" in best:
        model.load_state_dict(best["state"])
    cut, dev_acc = best_threshold(base.nsp_margins(model, tokenizer, dev))
    with torch.no_grad():  # calibrate: P(follows) = 0.5 where the development pairs split best
        model.cls.seq_relationship.bias[0] -= cut / 2
        model.cls.seq_relationship.bias[1] += cut / 2
    val, test = base.evaluate("mlm", model, tokenizer, "val"), base.evaluate("mlm", model, tokenizer, "test")
    val["next_sentence"] = base.eval_nsp(model, tokenizer, dev)
    test["next_sentence"] = held_out_nsp(model, tokenizer)
    size = base.save_trained(model, OUT, "BertForPreTraining", {"is_decoder": False})
    stage1 = {k: start_metrics.get(k) for k in ("train_cpu_seconds", "train_wall_seconds", "steps", "batch",
                                                  "learning_rate", "command")}
    command = (f"python scripts/train_minilm_nsp.py --cpu-minutes {args['cpu_minutes']} --batch {args['batch']} "
               f"--lr {args['lr']}" + (f" --distill {args['distill']}" if args["distill"] else "")
               + ("" if WRITTEN == ["everyday_pairs_train.tsv"] else " --written " + " ".join(WRITTEN))
               + ("" if WEIGHTS == (0.2, 0.15, 0.45, 0.2) else " --weights " + ",".join(map(str, WEIGHTS))))
    taught = (f"; next-sentence targets softened towards the untouched all-MiniLM-L6-v2's similarity of A and B "
              f"(weight {args['distill']}, scripts/nsp_teacher.py)" if args["distill"] else "")
    metrics = dict(start_metrics)
    metrics.pop("note", None)
    metrics.update({
        "objective": "masked LM (whole-word, 15%) + next-sentence prediction, then a second stage of MLM + "
                     "next-sentence prediction with same-source negatives",
        "data": start_metrics["data"] + "; second stage: also the two clauses of Tatoeba sentences joined by "
                "so/but/or/because/when/if, and pairs of related Tatoeba sentences (nearest neighbours by the "
                f"untouched all-MiniLM-L6-v2's similarity), and {len(written_pairs())} everyday pairs written for the project "
                f"(scripts/data/{', '.join(WRITTEN)})" + taught,
        "held_out": with_every_test_file(start_metrics["held_out"]) + "; checkpoint and threshold chosen on "
                    "scripts/data/" + " and ".join(HELD_OUT["dev"]),
        "train_cpu_seconds": round(stage1["train_cpu_seconds"] + spent, 1),
        "train_cpu_minutes_budget": start_metrics.get("train_cpu_minutes_budget", 0) + args["cpu_minutes"],
        "train_wall_seconds": round(stage1["train_wall_seconds"] + wall, 1),
        "steps": stage1["steps"] + best.get("step", step),
        "stages": [stage1 | {"what": "MLM + NSP from all-MiniLM-L6-v2"},
                   {"what": "MLM + NSP, same-source negatives, from stage 1" + taught, "train_cpu_seconds": round(spent, 1),
                    "steps_run": step, "steps_kept": best.get("step", step), "batch": args["batch"],
                    "learning_rate": args["lr"], "dev_next_sentence_accuracy": dev_acc,
                    "threshold_margin": round(cut, 4), "command": command}],
        "size_bytes_on_disk": size, "validation": val, "test": test,
        "command": stage1["command"] + " && " + command,
    })
    (OUT / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    base.log(f"saved {OUT} ({size / 1e6:.1f} MB): dev nsp {dev_acc:.3f}; test {json.dumps(test)}")


def with_every_test_file(held_out: str) -> str:
    """A metrics "held_out" text naming the second test file beside the first (once)."""
    if "everyday_pairs_test2.tsv" in held_out:
        return held_out
    return held_out.replace("scripts/data/everyday_pairs.tsv", "scripts/data/everyday_pairs.tsv and everyday_pairs_test2.tsv", 1)


def held_out_nsp(model, tokenizer) -> dict:
    """Accuracy on every test pair, and on each test file alone."""
    parts = {name: base.eval_nsp(model, tokenizer, pairs)
             for name, pairs in test_parts(base.english_sentences()["test"]).items()}
    n = sum(p["pairs"] for p in parts.values())
    return {"accuracy": sum(p["accuracy"] * p["pairs"] for p in parts.values()) / n, "pairs": n, "parts": parts}


def remeasure(folder: Path) -> None:
    """Next-sentence figures of a trained model on every held-out file, written into its
    metrics.json (the weights are not touched): for held-out sets written after the model."""
    from transformers import AutoTokenizer
    from lmcore.pretrained.loading import load_model
    tokenizer = AutoTokenizer.from_pretrained(base.minilm_dir())
    model = load_model(str(folder)).model.float()
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["test"]["next_sentence"] = held_out_nsp(model, tokenizer)
    metrics["validation"]["next_sentence_every_dev_file"] = base.eval_nsp(model, tokenizer, dev_pairs())
    metrics["held_out"] = with_every_test_file(metrics["held_out"])
    metrics["remeasured"] = ("next-sentence figures re-measured on every held-out file, the weights unchanged: "
                             "test also on everyday_pairs_test2.tsv and development also on everyday_pairs_dev2.tsv, "
                             "both written after this model was trained (python scripts/train_minilm_nsp.py --remeasure)")
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    base.log(f"re-measured {folder}: test {json.dumps(metrics['test']['next_sentence'])}")


def main() -> None:
    global OUT, RUN, EVAL_EVERY, WRITTEN, WEIGHTS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpu-minutes", type=float, default=30)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--start", default="minilm-mlm", help="the stage-1 model: catalog name or folder")
    parser.add_argument("--distill", type=float, default=0.0,
                        help="weight of the teacher's P(follows) in the next-sentence targets (0: labels only)")
    parser.add_argument("--out", type=Path, default=OUT, help="where the model is written (default: in place)")
    parser.add_argument("--run", type=Path, default=RUN, help="checkpoints and the related-pairs cache")
    parser.add_argument("--eval-every", type=int, default=EVAL_EVERY)
    parser.add_argument("--written", nargs="+", default=WRITTEN, help="files of written pairs in scripts/data")
    parser.add_argument("--weights", default=",".join(map(str, WEIGHTS)),
                        help="shares of Shakespeare, Tatoeba two-part, related Tatoeba and written pairs")
    parser.add_argument("--remeasure", action="store_true",
                        help="only re-measure the next-sentence figures of --out on every held-out file")
    args = parser.parse_args()
    OUT, RUN, EVAL_EVERY, WRITTEN = args.out, args.run, args.eval_every, args.written
    WEIGHTS = tuple(float(x) for x in args.weights.split(","))
    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(base.ROOT))
    if args.remeasure:
        return remeasure(OUT)
    train(args.cpu_minutes, args.batch, args.lr, args.start, args.distill)


if __name__ == "__main__":
    main()
