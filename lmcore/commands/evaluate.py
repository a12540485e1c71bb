"""`python -m lmcore evaluate --model NAME --pairs FILE.tsv [--swap] [--json]` and
`python -m lmcore evaluate --report [--data-dir DIR] [--out FILE]` and
`python -m lmcore evaluate --model LM --text FILE [--json]` (a causal LM).

The first scores one model on a TSV of "source TAB target" lines (extra columns
ignored; --swap when the target comes first): corpus BLEU and chrF, overall and by
source-length bucket, the outputs ("translations", in input order) and, parallel to them,
each one's "confidence" (0-1) and "verdict" (lmcore.translation.confidence). The second rebuilds lmcore/assets/seq2seq_eval.json: every
bundled translator on its own held-out split (the same split as training) plus
10-30 word inputs made by joining 2-4 held-out pairs. The third gives a causal LM's
bits_per_character, token_perplexity, characters, tokens (lmcore.pretrained.evaluation).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from lmcore.cli import print_json
from lmcore.errors import UserFacingError
from lmcore.files import read_text_file
from lmcore.pretrained.evaluation import text_bits
from lmcore.translation.checkpoints import checkpoint_size
from lmcore.translation.confidence import verdict
from lmcore.translation.data import DataConfig, held_out_split, load_pairs
from lmcore.translation.metrics import (
    BUCKETS,
    corpus_scores,
    scores_by_bucket,
    scoring_inputs,
    translate_for_scoring,
)
from lmcore.translation.translators import ASSETS, BUNDLED, bundled_path, load_translator

EVAL_FILE = ASSETS / "seq2seq_eval.json"
_CAPS = {"max_bytes": 50_000_000, "max_lines": 500_000}


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="BLEU and chrF of a translator, by sentence length")
    p.add_argument("--model", help="catalog name or checkpoint folder")
    p.add_argument("--pairs", help="TSV file: source TAB target per line")
    p.add_argument("--swap", action="store_true", help="the target is in the first column")
    p.add_argument("--text", help="a text file: bits per character of a causal LM (--model), line by line")
    p.add_argument("--report", action="store_true", help="rebuild the bundled models' evaluation file")
    p.add_argument("--data-dir", default="../shared/datasets", help="where fra-eng.tsv and kor-eng.tsv are")
    p.add_argument("--out", default=str(EVAL_FILE), help="where --report writes its JSON")
    p.add_argument("--short", type=int, default=1000, help="--report: held-out pairs scored per model")
    p.add_argument("--joined", type=int, default=500, help="--report: joined 10-30 word inputs per model")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def run(args) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.report:
        data = build_report(Path(args.data_dir), args.short, args.joined, models=[args.model] if args.model else None)
        if args.model and Path(args.out).is_file():  # one model: update its entry, keep the others
            old = json.loads(Path(args.out).read_text(encoding="utf-8"))
            merged = {**old.get("models", {}), **data["models"]}
            data["models"] = {n: merged[n] for n in sorted(merged, key=_bundled_order)}
        Path(args.out).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        _print(data if args.json else None, f"wrote {args.out}")
        return 0
    if args.model and args.text and not args.pairs:
        return _language_model(args)
    if not args.model or not args.pairs:
        raise UserFacingError("s2s.err.evaluate_args")
    pairs, notices = load_pairs(args.pairs, swap=args.swap, **_CAPS)
    translator = load_translator(args.model)
    confidences: list[float] = []
    lengths, hyps, refs = translate_for_scoring(translator, pairs, confidences=confidences)  # outputs kept
    scores = scores_by_bucket(lengths, hyps, refs)
    data = {"model": args.model, "pairs": len(pairs), "bleu": scores["overall"]["bleu"],
            "chrf": scores["overall"]["chrf"], "buckets": scores["buckets"],
            "notices": [n.to_dict() for n in notices],
            "translations": [translator.detokenize(h.split()) for h in hyps],
            "confidence": [round(c, 4) for c in confidences],
            "verdict": [verdict(c, translator.thresholds) for c in confidences]}
    _print(data if args.json else None,
           f"{args.model}: BLEU {data['bleu']}  chrF {data['chrf']}  ({len(pairs)} pairs)")
    return 0


def _language_model(args) -> int:
    """`evaluate --model LM --text F`: bits per character and token perplexity, line by line."""
    decoded = read_text_file(args.text, max_bytes=20_000_000, max_line_chars=10_000_000)
    score = text_bits(args.model, decoded.lines)
    data = {"model": args.model, **score.to_dict(), "notices": [n.to_dict() for n in decoded.notices]}
    _print(data if args.json else None,
           f"{args.model}: {score.bits_per_character:.3f} bits per character, token perplexity "
           f"{score.token_perplexity:.2f} ({score.tokens} tokens, {score.characters} characters)")
    return 0


def _bundled_order(name: str) -> int:
    names = list(BUNDLED)
    return names.index(name) if name in names else len(names)


def _print(data, line: str) -> None:
    if data is not None:
        print_json(data)
    else:
        print(line)


def build_report(data_dir: Path, n_short: int, n_joined: int, models: list[str] | None = None) -> dict:
    """Scores of the bundled translators on their held-out pairs, short and joined."""
    out = {"about": "Corpus BLEU and chrF (sacrebleu) on held-out Tatoeba pairs never seen in "
                    "training (split by source sentence), and on 10-30 word inputs made by joining "
                    "2-4 held-out pairs. Lowercased model tokens; greedy decoding.",
           "buckets": [b[0] for b in BUCKETS], "models": {}}
    for name in models or list(BUNDLED):
        translator = load_translator(name)
        meta = translator.ckpt.meta
        cfg = DataConfig(**meta["data"])
        pairs, _ = load_pairs(data_dir / meta["dataset"], swap=meta.get("swap", False), **_CAPS)
        if meta.get("max_pairs"):
            pairs = pairs[: meta["max_pairs"]]
        _, _, test = held_out_split(pairs, cfg)
        short, joined = scoring_inputs(test, n_short, n_joined)
        lengths, hyps, refs = translate_for_scoring(translator, short + joined)
        n = len(short)
        out["models"][name] = {
            "attention": translator.attention_kind, "source_lang": cfg.src_lang,
            "target_lang": cfg.tgt_lang, "held_out_pairs": len(short), "joined_pairs": len(joined),
            "training": {k: meta.get("result", {}).get(k) for k in
                         ("stopped", "epochs_run", "best_val_loss", "seconds", "cpu_seconds")},
            "train_examples": meta.get("train_examples"),
            "weights_bytes": checkpoint_size(Path(name) if Path(name).is_dir() else bundled_path(name)),
            "short": corpus_scores(hyps[:n], refs[:n]), "joined": corpus_scores(hyps[n:], refs[n:]),
            **scores_by_bucket(lengths, hyps, refs)}
    return out
