"""Translation quality with sacrebleu: corpus BLEU and chrF, overall and by source length.

Scores are computed on the models' own lowercased tokens joined by spaces (the
reference goes through the same tokenizer), with sacrebleu's tokenize="none" for
BLEU: the numbers compare our models with each other, not with published systems.
Length buckets count the source's whitespace words (Korean: eojeol).
"""
from __future__ import annotations

from typing import Sequence

import sacrebleu

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


def translate_for_scoring(translator, pairs: Sequence[tuple[str, str]],
                          batch_size: int = 64) -> tuple[list[int], list[str], list[str]]:
    """(source word counts, hypotheses, references) as token strings, greedy decoding."""
    sources = [s for s, _ in pairs]
    outputs = translator.translate_batch(sources, batch_size)
    tgt_tok, src_tok = translator.ckpt.tgt_tokenizer, translator.ckpt.src_tokenizer
    hyps = [" ".join(tokens) for tokens in outputs]
    refs = [" ".join(tgt_tok.tokenize(t)) for _, t in pairs]
    return [len(src_tok.words(s)) for s in sources], hyps, refs


def evaluate_pairs(translator, pairs: Sequence[tuple[str, str]], batch_size: int = 64) -> dict:
    """Translate every source greedily and score against its target, overall and by bucket."""
    return scores_by_bucket(*translate_for_scoring(translator, pairs, batch_size))
