"""The figures a MiniLM model's metrics.json records, measured by lmcore's own functions
(lmcore.pretrained.evaluation: the same code the app's evaluate command uses) on the model
being trained. The test split is read only at the end of a run.

    evaluate("mlm", model, tokenizer, "val")   # fill-mask on Tatoeba, NSP on held-out Shakespeare
    every_held_out_file(model, tokenizer, "val")  # as the bundled minilm-mlm reports them
"""
from __future__ import annotations

import torch

from lmcore.pretrained.evaluation import fill_mask_accuracy, next_sentence_accuracy, next_sentence_margins, text_bits
from scripts.minilm import data, pairs
from scripts.minilm.budget import log
from scripts.minilm.config import SEED
from scripts.minilm.models import live


def short_sentences(split: str) -> list[str]:
    """The split's Tatoeba sentences of at most 12 words, the first 1,500."""
    return [s for s in data.english_sentences()[split] if len(s.split()) <= 12][:1500]


def bits(model, tokenizer, texts: list[str]) -> dict:
    score = text_bits(live(model, tokenizer, "causal"), texts)
    return {"bits_per_character": score.bits_per_character, "token_perplexity": score.token_perplexity,
            "characters": score.characters, "tokens": score.tokens}


def fill_mask(model, tokenizer, sentences: list[str]) -> dict:
    return fill_mask_accuracy(live(model, tokenizer, "mlm"), sentences, seed=SEED)


def margins(model, tokenizer, rows: list[tuple[str, str, int]]) -> list[tuple[float, int]]:
    """(logit margin of "B follows", label) per pair: P(follows) > 0.5 iff the margin > 0."""
    return next_sentence_margins(live(model, tokenizer, "mlm"), rows)


def nsp(model, tokenizer, rows: list[tuple[str, str, int]]) -> dict:
    return next_sentence_accuracy(live(model, tokenizer, "mlm"), rows)


def evaluate(kind: str, model, tokenizer, split: str) -> dict:
    """mlm: fill-mask on short Tatoeba sentences and next-sentence accuracy (test: the everyday
    pairs; otherwise consecutive held-out Shakespeare lines); causal: bits per character."""
    _, shake_held = data.shakespeare_lines()
    short = short_sentences(split)
    if kind == "mlm":
        rows = data.everyday_pairs(data.english_sentences()["test"]) if split == "test" else [
            (a, b, 1) for a, b in zip(shake_held[:200], shake_held[1:201])]
        return {"fill_mask": fill_mask(model, tokenizer, short), "next_sentence": nsp(model, tokenizer, rows)}
    return {"everyday": bits(model, tokenizer, short), "shakespeare": bits(model, tokenizer, shake_held[:300])}


def held_out_nsp(model, tokenizer) -> dict:
    """Accuracy on every test pair, and on each test file alone."""
    parts = {name: nsp(model, tokenizer, rows)
             for name, rows in pairs.test_parts(data.english_sentences()["test"]).items()}
    n = sum(p["pairs"] for p in parts.values())
    return {"accuracy": sum(p["accuracy"] * p["pairs"] for p in parts.values()) / n, "pairs": n, "parts": parts}


def every_held_out_file(model, tokenizer, split: str) -> dict:
    """The figures the bundled minilm-mlm reports: fill-mask on Tatoeba; next-sentence on the
    first development file and on every development file (val), or on every test file (test)."""
    out = evaluate("mlm", model, tokenizer, split)
    if split == "val":
        out["next_sentence"] = nsp(model, tokenizer, pairs.first_dev_pairs())
        out["next_sentence_every_dev_file"] = nsp(model, tokenizer, pairs.dev_pairs())
    else:
        out["next_sentence"] = held_out_nsp(model, tokenizer)
    return out


def best_threshold(scores: list[tuple[float, int]]) -> tuple[float, float]:
    """(threshold on the logit margin, accuracy there) that classifies `scores` best."""
    values = sorted(s for s, _ in scores)
    cuts = [(x + y) / 2 for x, y in zip(values, values[1:])] or [0.0]

    def acc(c: float) -> float:
        return sum((s > c) == bool(y) for s, y in scores) / len(scores)
    best = max(cuts, key=lambda c: (acc(c), -abs(c)))
    return best, acc(best)


def calibrate(model, tokenizer, rows: list[tuple[str, str, int]]) -> tuple[float, float]:
    """Move the next-sentence threshold (the head's bias) to where `rows` split best, so that
    P(follows) = 0.5 there; (the margin moved by, accuracy there)."""
    cut, acc = best_threshold(margins(model, tokenizer, rows))
    with torch.no_grad():
        model.cls.seq_relationship.bias[0] -= cut / 2
        model.cls.seq_relationship.bias[1] += cut / 2
    log(f"next-sentence threshold {cut:+.4f}: development accuracy {acc:.3f}")
    return cut, acc
