"""The next-sentence pairs of minilm-mlm's second stage: every negative drawn from the *same
source* as its positive, so style gives nothing away. True pairs:
  - consecutive Tiny Shakespeare lines (first 90 % of lines);
  - two-sentence Tatoeba entries and the two clauses of Tatoeba sentences joined by
    ", so / , but / , or / because / when / if" (training split only);
  - the everyday pairs written for the project (scripts/data/everyday_pairs_train.tsv; pairs
    close to a development or test sentence left out);
  - related Tatoeba sentences: for a sample of training sentences, the nearest other training
    sentence by the untouched all-MiniLM-L6-v2's sentence similarity (cosine 0.45-0.85, few
    shared words, so not a paraphrase). A weak stand-in for "what could come next".
And the held-out pairs: development files (checkpoints and the threshold are chosen on them)
and test files, each file's second sentences half replaced by random ones.
"""
from __future__ import annotations

import functools
import json
import random
import re
from pathlib import Path

import torch

from scripts.minilm import data
from scripts.minilm.budget import log
from scripts.minilm.config import PAIRS, SEED
from scripts.minilm.teacher import embed_all, untouched_minilm

CLAUSES = re.compile(r"^(.{8,}?)(?:, (?:so|but|or)| because| when| if) (.{8,})$")
HELD_OUT = {"dev": ["everyday_pairs_dev.tsv", "everyday_pairs_dev2.tsv"],
            "test": ["everyday_pairs.tsv", "everyday_pairs_test2.tsv"]}


def with_random_b(true: list[tuple[str, str]], seed: int) -> list[tuple[str, str, int]]:
    """Every other pair keeps its B; the others get the B of another pair (fixed seed)."""
    rng, out = random.Random(seed), []
    for i, (a, b) in enumerate(true):
        j = rng.choice([k for k in range(len(true)) if k != i])
        out.append((a, b, 1) if i % 2 == 0 else (a, true[j][1], 0))
    return out


def present(names: list[str]) -> list[tuple[int, str]]:
    """(position in `names`, name) of the scripts/data files that exist."""
    return [(k, name) for k, name in enumerate(names) if (PAIRS / name).is_file()]


def dev_pairs() -> list[tuple[str, str, int]]:
    """The development pairs of every dev file, each file's own random Bs, like the test set."""
    return [row for k, name in present(HELD_OUT["dev"])
            for row in with_random_b(data.read_pairs(name), SEED + 1 + k)]


def first_dev_pairs() -> list[tuple[str, str, int]]:
    """The first development file's pairs alone (the 80 that chose the bundled checkpoint)."""
    return with_random_b(data.read_pairs(HELD_OUT["dev"][0]), SEED + 1)


def test_parts(test_sentences: list[str]) -> dict[str, list[tuple[str, str, int]]]:
    """The held-out test pairs by file: the first test set (with Tatoeba's two-sentence test
    entries) and the larger second one."""
    return {"everyday_pairs.tsv + Tatoeba test": data.everyday_pairs(test_sentences),
            "everyday_pairs_test2.tsv": with_random_b(data.read_pairs("everyday_pairs_test2.tsv"), SEED + 7)}


@functools.lru_cache(maxsize=None)
def written_pairs(names: tuple[str, ...]) -> list[tuple[str, str]]:
    """The project's own everyday training pairs, less any with a sentence close to a held-out one."""
    pairs = [pair for name in names for pair in data.read_pairs(name)]
    held = [s for files in HELD_OUT.values() for _, name in present(files)
            for pair in data.read_pairs(name) for s in pair]
    return drop_close(pairs, held)


@torch.inference_mode()
def drop_close(pairs: list[tuple[str, str]], held: list[str], limit: float = 0.8) -> list[tuple[str, str]]:
    """Pairs whose A and B are both under `limit` cosine (untouched all-MiniLM-L6-v2) to every
    held-out sentence: no near-copy of a development or test sentence is trained on."""
    if not pairs or not held:
        return pairs
    tok, model = untouched_minilm()
    held_v = embed_all(tok, model, held, 48, 256)
    near_a = (embed_all(tok, model, [a for a, _ in pairs], 48, 256) @ held_v.T).max(dim=-1).values
    near_b = (embed_all(tok, model, [b for _, b in pairs], 48, 256) @ held_v.T).max(dim=-1).values
    close = (torch.maximum(near_a, near_b) >= limit).tolist()
    kept = [pair for pair, c in zip(pairs, close) if not c]
    log(f"written pairs: {len(kept)} kept, {len(pairs) - len(kept)} dropped (a sentence >= {limit} "
        f"similar to one of {len(held)} held-out sentences)")
    return kept


def clause_pairs(sentences: list[str]) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for s in sentences if (m := CLAUSES.match(s))]


@torch.inference_mode()
def related_pairs(sentences: list[str], cache: Path, anchors: int = 12000) -> list[tuple[str, str]]:
    """(A, B): B the nearest other sentence to A by untouched MiniLM similarity, not a paraphrase;
    kept in `cache` (JSON) once computed."""
    if cache.is_file():
        return [tuple(p) for p in json.loads(cache.read_text())]
    tok, model = untouched_minilm()
    emb = embed_all(tok, model, sentences, 48, 128)
    rng = random.Random(SEED)
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
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(out))
    return out


class NSPData(data.MLMData):
    """MLM on every example; NSP labels on pairs whose negative B comes from the same source.
    weights: shares of Shakespeare, Tatoeba two-part, related Tatoeba and written pairs."""

    def __init__(self, tokenizer, weights: tuple[float, ...], written: tuple[str, ...], run: Path,
                 seed: int = SEED):
        super().__init__(tokenizer, seed)
        eng = data.english_sentences()["train"]
        shake, _ = data.shakespeare_lines()
        short = data.two_sentence_pairs(eng) + clause_pairs(eng)
        w = weights
        self.sources = [(w[0], list(zip(shake, shake[1:]))), (w[1], short),
                        (w[2], related_pairs(eng, run / "related.json")), (w[3], written_pairs(tuple(written)))]
        log("nsp sources: " + ", ".join(f"{len(p)} pairs (weight {w})" for w, p in self.sources))

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
