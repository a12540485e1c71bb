"""Translation quality with sacrebleu: corpus BLEU and chrF, overall and by source length.

Scores are computed on the models' own lowercased tokens joined by spaces (the
reference goes through the same tokenizer), with sacrebleu's tokenize="none" for
BLEU: the numbers compare our models with each other, not with published systems.
Length buckets count the source's whitespace words (Korean: eojeol).
"""
from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Sequence

import sacrebleu

from lmcore.translation.data import DataConfig, held_out_split, join_pairs, load_pairs
from lmcore.translation.translators import load_translator

# (label, lowest, highest) source words, inclusive
BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("1-5", 1, 5), ("6-10", 6, 10), ("11-15", 11, 15), ("16-20", 16, 20), ("21-30", 21, 30),
    ("31+", 31, 10**9),
)


def bucket_of(n_words: int) -> str:
    for label, low, high in BUCKETS:
        if low <= n_words <= high:
            return label
    return BUCKETS[0][0]


def corpus_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict:
    """{"bleu", "chrf", "n"} for one reference per hypothesis (strings of tokens)."""
    if not hypotheses:
        return {"bleu": None, "chrf": None, "n": 0}
    bleu = sacrebleu.corpus_bleu(list(hypotheses), [list(references)], tokenize="none", force=True)
    chrf = sacrebleu.corpus_chrf(list(hypotheses), [list(references)])
    return {"bleu": round(bleu.score, 2), "chrf": round(chrf.score, 2), "n": len(hypotheses)}


def scores_by_bucket(source_lengths: Sequence[int], hypotheses: Sequence[str],
                     references: Sequence[str]) -> dict:
    """{"overall": {...}, "buckets": [{"bucket": "1-5", "bleu", "chrf", "n"}, ...]} (empty buckets left out)."""
    rows = []
    for label, low, high in BUCKETS:
        idx = [i for i, n in enumerate(source_lengths) if low <= n <= high]
        if idx:
            scores = corpus_scores([hypotheses[i] for i in idx], [references[i] for i in idx])
            rows.append({"bucket": label, **scores})
    return {"overall": corpus_scores(hypotheses, references), "buckets": rows}


def translate_for_scoring(translator, pairs: Sequence[tuple[str, str]], batch_size: int = 64,
                          confidences: list[float] | None = None) -> tuple[list[int], list[str], list[str]]:
    """(source word counts, hypotheses, references) as token strings, greedy decoding;
    `confidences`, if given, gets each hypothesis's confidence."""
    sources = [s for s, _ in pairs]
    outputs = translator.translate_batch(sources, batch_size, confidences=confidences)
    tgt_tok, src_tok = translator.ckpt.tgt_tokenizer, translator.ckpt.src_tokenizer
    hyps = [" ".join(tokens) for tokens in outputs]
    refs = [" ".join(tgt_tok.tokenize(t)) for _, t in pairs]
    return [len(src_tok.words(s)) for s in sources], hyps, refs


def evaluate_pairs(translator, pairs: Sequence[tuple[str, str]], batch_size: int = 64) -> dict:
    """Translate every source greedily and score against its target, overall and by bucket."""
    return scores_by_bucket(*translate_for_scoring(translator, pairs, batch_size))


def scoring_inputs(held_out: Sequence[tuple[str, str]], n_short: int,
                   n_joined: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(short, joined): `n_short` pairs sampled from held-out pairs (seed 0), and the 10-30 word
    inputs among `n_joined` joins of 2-4 of them (seed 7): what every evaluation here scores."""
    short = random.Random(0).sample(list(held_out), min(n_short, len(held_out)))
    joined = [p for p in join_pairs(held_out, n_joined, 2, 4, seed=7, max_source_words=30)
              if len(p[0].split()) >= 10]
    return short, joined


def compare_on_held_out(names: list[str], data_dir: str | Path, n_short: int = 400,
                        n_joined: int = 150, progress=None) -> dict:
    """BLEU and chrF by source-length bucket of several translators on the SAME pairs.

    The held-out split comes from the first model's checkpoint (split by source sentence,
    seed and fractions as in training; every model must share them), then `n_short` pairs
    are sampled and `n_joined` 10-30 word inputs are made by joining 2-4 held-out pairs.
    Time per epoch is taken from each checkpoint's training history. progress(name) is
    called before each model (for a log line).
    """
    first = load_translator(names[0]).ckpt.meta
    cfg = DataConfig(**first["data"])
    _, test = held_out_pairs(first, data_dir)
    short, joined = scoring_inputs(test, n_short, n_joined)
    out = {"split": {"dataset": first["dataset"], **{k: first["data"][k] for k in
                                                     ("val_fraction", "test_fraction", "seed")}},
           "held_out_pairs": len(short), "joined_pairs": len(joined), "models": {}}
    for name in names:
        if progress:
            progress(name)
        translator = load_translator(name)
        if translator.ckpt.meta.get("data", {}).get("seed") != cfg.seed:
            raise ValueError(f"{name} was trained on another split")
        start = time.process_time()
        lengths, hyps, refs = translate_for_scoring(translator, short + joined)
        n = len(short)
        out["models"][name] = {
            "short": corpus_scores(hyps[:n], refs[:n]), "joined": corpus_scores(hyps[n:], refs[n:]),
            **scores_by_bucket(lengths, hyps, refs), "eval_cpu_seconds": round(time.process_time() - start, 1),
            "training": _training_facts(translator.ckpt.meta)}
    return out


def _training_facts(meta: dict) -> dict:
    result = meta.get("result", {})
    history = [h for h in result.get("history", []) if "seconds" in h]
    return {"epochs_run": result.get("epochs_run"), "stopped": result.get("stopped"),
            "seconds": result.get("seconds"), "cpu_seconds": result.get("cpu_seconds"),
            "best_val_loss": result.get("best_val_loss"),
            "train_examples": meta.get("train_examples"), "validations": history}


def held_out_pairs(meta: dict, data_dir: str | Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(validation, test) pairs of a translator checkpoint's meta: its dataset file under
    `data_dir` split as its training split it (by source sentence, seed and fractions)."""
    pairs, _ = load_pairs(Path(data_dir) / meta["dataset"], swap=meta.get("swap", False),
                          max_bytes=50_000_000, max_lines=500_000)
    _, val, test = held_out_split(pairs, DataConfig(**meta["data"]))
    return val, test


def model_split(name: str, data_dir: str | Path, part: str, n_short: int = 600,
                n_joined: int = 200) -> list[tuple[str, str]]:
    """A translator's own "val" or "test" pairs (its checkpoint's split: dataset, seed,
    fractions), short ones and the 10-30 word inputs joined from them, as every evaluation here."""
    val, test = held_out_pairs(load_translator(name).ckpt.meta, data_dir)
    short, joined = scoring_inputs({"val": val, "test": test}[part], n_short, n_joined)
    return short + joined


def scored_translations(translator, pairs: Sequence[tuple[str, str]]) -> tuple[list[float], list[float]]:
    """(confidence 0-1, sentence-BLEU 0-100) of each greedy translation of `pairs`: what the
    confidence calibration (scripts/calibrate_confidence.py) and bench/confidence.py measure."""
    confidences: list[float] = []
    _, hyps, refs = translate_for_scoring(translator, pairs, confidences=confidences)
    bleus = [sacrebleu.sentence_bleu(h, [r], tokenize="none").score for h, r in zip(hyps, refs)]
    return confidences, bleus
