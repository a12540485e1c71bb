"""Bundled translators: the catalog entries and `load_translator(name)` (cached per process).

    tr = load_translator("s2s-en-fr-bahdanau")
    result = tr.translate("I am cold.", beam=3)      # TranslationResult
    result.attention                                 # AttentionMaps kind="cross", (1, 1, out, src)
    step_maps(result.steps, result.source_tokens)    # the same with the <eos> step's row too
    result.steps[0].top_k                            # [(word, prob), ...] for the first step
    result.to_dict()                                 # the CLI's JSON

A `Translator` wraps any checkpoint whose model follows lmcore.translation.decoding's protocol
(the RNN seq2seq models here, a Transformer too). The cached model is shared: never
train or mutate it (copy with `load_checkpoint` to fine-tune).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from lmcore.catalog import ASSETS, ModelInfo
from lmcore.errors import UserFacingError
from lmcore.notices import Notice
from lmcore.record import AttentionMaps
from lmcore.translation.checkpoints import Checkpoint, checkpoint_size, load_checkpoint
from lmcore.translation.confidence import Thresholds, confidence, read_thresholds, verdict
from lmcore.translation.decoding import DecodeResult, decode, greedy_batch, greedy_decode
from lmcore.translation.text import encode_text

# catalog name -> (asset directory, one-line English description)
BUNDLED: dict[str, tuple[str, str]] = {
    "s2s-en-fr-plain": ("s2s-en-fr-plain", "English to French, LSTM encoder-decoder without attention "
                        "(one context vector), trained on Tatoeba pairs"),
    "s2s-en-fr-bahdanau": ("s2s-en-fr-bahdanau", "English to French, LSTM with Bahdanau (additive) "
                           "attention, trained on Tatoeba pairs"),
    "s2s-en-fr-luong": ("s2s-en-fr-luong", "English to French, LSTM with Luong (general) attention, "
                        "trained on Tatoeba pairs"),
    "s2s-ko-en-bahdanau": ("s2s-ko-en-bahdanau", "Korean to English, LSTM with Bahdanau attention over "
                           "Korean syllables, trained on 3.5k Tatoeba pairs plus English sentences "
                           "with a dummy source"),
    # Transformers (TRANSFORMERS): the same loader, catalog kind "transformer"
    "tf-en-fr": ("tf-en-fr", "English to French, Transformer trained from scratch on Tatoeba pairs"),
    "tf-ko-en": ("tf-ko-en", "Korean to English, Transformer over Korean syllables, trained from "
                 "scratch on 3.5k Tatoeba pairs"),
}
TRANSFORMERS: tuple[str, ...] = ("tf-en-fr", "tf-ko-en")


@dataclass
class StepView:
    """One decoder step in words (what a page shows)."""

    token: str
    prob: float
    top_k: list[tuple[str, float]]
    weights: np.ndarray | None   # (S,) over source_tokens
    scores: np.ndarray | None    # (S,)
    context: np.ndarray | None   # (H,)
    query: np.ndarray | None     # (H,)

    def to_dict(self, decimals: int = 4, vectors: bool = True) -> dict:
        r = lambda a: None if a is None else np.round(a.astype(np.float64), decimals).tolist()  # noqa: E731
        data = {"token": self.token, "prob": round(self.prob, decimals),
                "top_k": [{"token": t, "prob": round(p, decimals)} for t, p in self.top_k],
                "weights": r(self.weights), "scores": r(self.scores)}
        if vectors:
            data.update(context=r(self.context), query=r(self.query))
        return data


@dataclass
class TranslationResult:
    model: str
    source_tokens: list[str]
    output_tokens: list[str]              # without <eos>
    translation: str                      # output tokens joined for reading
    attention: AttentionMaps | None       # cross, (1, 1, len(output), len(source)); None: no attention
    steps: list[StepView]                 # one per decoder step, the last may be "<eos>"
    beams: list[list[dict]] = field(default_factory=list)  # beam search: kept beams per step
    unknown_words: list[str] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    beam: int = 1
    score: float = 0.0
    finished: bool = True
    confidence: float = 0.0               # exp(mean log p) of the chosen tokens (translation.confidence)
    verdict: str | None = None            # likely-right / unsure / likely-wrong, once calibrated

    def to_dict(self, decimals: int = 4, vectors: bool = True) -> dict:
        weights = None if self.attention is None else \
            np.round(self.attention.head(0, 0).astype(np.float64), decimals).tolist()
        return {"model": self.model, "source_tokens": self.source_tokens,
                "output_tokens": self.output_tokens, "translation": self.translation,
                "attention": weights, "attention_kind": None if weights is None else "cross",
                "unknown_words": self.unknown_words,
                "notices": [n.to_dict() for n in self.notices], "beam": self.beam,
                "score": round(self.score, decimals), "finished": self.finished,
                "confidence": round(self.confidence, decimals), "verdict": self.verdict,
                "steps": [s.to_dict(decimals, vectors) for s in self.steps], "beams": self.beams}


class Translator:
    """A loaded checkpoint plus its tokenizers: text in, TranslationResult out."""

    def __init__(self, name: str, ckpt: Checkpoint, max_source_tokens: int | None = None,
                 thresholds: Thresholds | None = None) -> None:
        self.name, self.ckpt, self.model = name, ckpt, ckpt.model
        self.thresholds = thresholds  # calibrated confidence verdicts (the folder's confidence.json)
        data = ckpt.meta.get("data", {})
        self.max_source_tokens = max_source_tokens or int(data.get("max_src_tokens", 60))

    @property
    def attention_kind(self) -> str:
        config = getattr(self.model, "config", None)
        return getattr(config, "attention", "multi-head")

    def encode(self, text: str):
        c = self.ckpt
        return encode_text(text, c.src_tokenizer, c.src_vocab, self.max_source_tokens)

    def translate(self, text: str, beam: int = 1, top_k: int = 5, max_len: int | None = None) -> TranslationResult:
        """Translate one text with the full trace; raises UserFacingError for empty text."""
        if not 1 <= int(beam) <= 10:
            raise UserFacingError("s2s.err.bad_beam", beam=beam)
        enc = self.encode(text)
        result = decode(self.model, enc.ids, beam=int(beam), max_len=max_len, top_k=top_k)
        return self._result(enc, result, int(beam))

    def encoder_states(self, text: str) -> dict:
        """The encoder's view of a sentence: what a decoder without attention receives.

        Returns {"source_tokens", "states": (S, H) float32 encoder outputs h_j,
        "context": (H,) the final hidden state (the plain model's one context vector),
        "notices", "unknown_words"}. RNN checkpoints only.
        """
        enc = self.encode(text)
        with torch.inference_mode():
            memory = self.model.encode(torch.tensor([enc.ids]), torch.tensor([len(enc.ids)]))
        return {"source_tokens": list(enc.tokens), "states": memory.states[0].float().numpy().copy(),
                "context": memory.final[0][-1, 0].float().numpy().copy(),
                "notices": list(enc.notices), "unknown_words": list(enc.unknown)}

    def translate_plain(self, text: str) -> str:
        """Greedy translation without a trace (the fast path)."""
        enc = self.encode(text)
        return self.detokenize(self.ckpt.tgt_vocab.decode(greedy_decode(self.model, enc.ids)))

    def translate_batch(self, texts: Sequence[str], batch_size: int = 64,
                        confidences: list[float] | None = None) -> list[list[str]]:
        """Greedy output tokens for many texts (evaluation); empty texts give []. `confidences`,
        if given, gets each output's confidence (lmcore.translation.confidence)."""
        c, out = self.ckpt, []
        for start in range(0, len(texts), batch_size):
            chunk = [c.src_vocab.encode(c.src_tokenizer.tokenize(t))[: self.max_source_tokens] or [1]
                     for t in texts[start:start + batch_size]]
            out.extend(c.tgt_vocab.decode(ids) for ids in greedy_batch(self.model, chunk, confidences=confidences))
        return out

    def detokenize(self, tokens: Sequence[str]) -> str:
        return self.ckpt.tgt_tokenizer.detokenize(tokens)

    def _result(self, enc, res: DecodeResult, beam: int) -> TranslationResult:
        itos = self.ckpt.tgt_vocab.itos
        word = lambda i: itos[i] if 0 <= i < len(itos) else "<unk>"  # noqa: E731
        steps = [StepView(word(s.token), s.prob, [(word(i), p) for i, p in s.top_k], s.weights,
                          s.scores, s.context, s.query) for s in res.steps]
        output = [word(i) for i in res.tokens]
        attention = None
        if res.steps and res.steps[0].weights is not None:
            rows = np.stack([s.weights for s in res.steps[: len(output)]]) if output else \
                np.zeros((0, len(enc.tokens)), np.float32)
            attention = AttentionMaps(rows[None, None], tuple(output), tuple(enc.tokens), "cross")
        beams = [[{"tokens": [word(i) for i in b.tokens], "score": round(b.score, 4),
                   "finished": b.finished} for b in step] for step in res.beams]
        notices = list(enc.notices)
        if not res.finished:
            notices.append(Notice("s2s.notice.no_end"))
        result = TranslationResult(self.name, list(enc.tokens), output, self.detokenize(output),
                                   attention, steps, beams, list(enc.unknown), notices, beam,
                                   res.score, res.finished)
        result.confidence = confidence(result)
        result.verdict = verdict(result.confidence, self.thresholds)
        return result


def step_maps(steps: Sequence[StepView], source_tokens: Sequence[str]) -> AttentionMaps | None:
    """Cross attention of every given decoder step (the <eos> step included), one row each:
    (1, 1, steps, S), query tokens = what each step wrote. None without attention weights."""
    if not steps or steps[0].weights is None:
        return None
    rows = np.stack([np.asarray(s.weights, dtype=np.float32) for s in steps])  # (T, S)
    return AttentionMaps(rows[None, None], tuple(s.token for s in steps), tuple(source_tokens), "cross")


def bundled_path(name: str) -> Path:
    if name not in BUNDLED:
        raise UserFacingError("errors.unknown_model", name=name)
    return ASSETS / BUNDLED[name][0]


@lru_cache(maxsize=8)
def load_translator(name: str) -> Translator:
    """A bundled translator by catalog name, or a checkpoint directory path; cached."""
    path = Path(name)
    if name not in BUNDLED and (path / "config.json").is_file():
        return Translator(path.name, load_checkpoint(path), thresholds=read_thresholds(path))
    path = bundled_path(name)
    if not (path / "config.json").is_file():
        raise UserFacingError("s2s.err.not_bundled", name=name)
    return Translator(name, load_checkpoint(path), thresholds=read_thresholds(path))


def catalog_entries() -> list[ModelInfo]:
    """ModelInfo for each bundled translator whose files are present: kind "seq2seq" for the
    RNN models, "transformer" (attention "multi-head") for the Transformers."""
    entries = []
    for name, (folder, description) in BUNDLED.items():
        config_path = ASSETS / folder / "config.json"
        if not config_path.is_file():
            continue
        config = json.loads(config_path.read_text(encoding="utf-8"))
        if name in TRANSFORMERS:
            entries.append(_transformer_entry(name, description, config, ASSETS / folder))
        elif config.get("arch", "rnn") == "rnn":
            entries.append(_seq2seq_entry(name, description, config, ASSETS / folder))
    return entries


def _seq2seq_entry(name: str, description: str, config: dict, folder: Path) -> ModelInfo:
    data = config.get("meta", {}).get("data", {})
    extra = {"weights_bytes": checkpoint_size(folder),
             "cell": config["model"].get("cell"), "hidden_dim": config["model"].get("hidden_dim"),
             "dataset": config.get("meta", {}).get("dataset")}
    return ModelInfo(name, "seq2seq", True, description, data.get("src_lang"),
                     data.get("tgt_lang"), config["model"].get("attention", "none"), extra)


def _transformer_entry(name: str, description: str, config: dict, folder: Path) -> ModelInfo:
    model, meta = config["model"], config.get("meta", {})
    data = meta.get("data", {})
    extra = {"weights_bytes": checkpoint_size(folder), "d_model": model.get("d_model"),
             "n_heads": model.get("n_heads"), "n_layers": model.get("n_encoder_layers"),
             "positional": model.get("positional"), "dataset": meta.get("dataset")}
    return ModelInfo(name, "transformer", True, description, data.get("src_lang"),
                     data.get("tgt_lang"), "multi-head", extra)
