"""Many sentences through one model: parse an upload or pasted text, then one row per sentence.

    parsed = parse_sentences(data, "notes.csv")          # ParsedSentences (encoding, columns, notices)
    model = load_batch_model("tiny-bert")                # or BatchModel(name, kind, loaded object)
    rows = run_batch(model, parsed.sentences, progress=lambda done, total: ...)
    rows[0].to_dict("ko")                                # one flat table row (stable English keys)
    sentence_maps(model, rows[0].sentence)               # its AttentionMaps (self, causal or cross)

Encoders and LMs (kinds encoder, masked-lm, causal-lm) give head-report highlights
(Clark et al. 2019: the heads whose weight sits most on one category) and the mean
row entropy in bits, H = -sum_j a_ij log2 a_ij; translators (seq2seq, transformer) give the
translation. A sentence the model rejects gets a row with its translated error;
the batch goes on.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from lmcore.catalog import LM_KINDS, TRANSLATOR_KINDS, get_model_info
from lmcore.errors import UserFacingError
from lmcore.files import decode_upload
from lmcore.notices import Notice
from lmcore.pretrained.encoding import attention, report
from lmcore.pretrained.loading import load_model
from lmcore.record import AttentionMaps
from lmcore.translation.translators import load_translator

MAX_BYTES = 2_000_000        # uploads: the first 2 MB are read
REFUSE_BYTES = 20_000_000    # larger uploads are refused before reading
MAX_SENTENCES = 500          # sentences run per batch
MAX_SENTENCE_CHARS = 1_000   # longer sentences are cut (then to the model's token limit)
MAX_TOKENS = 64              # tokens per sentence given to an encoder / LM
TOP_HEADS = 3

Progress = Callable[[int, int], None]  # (sentences done, total)


# ---------------------------------------------------------------- parsing
@dataclass(frozen=True)
class ParsedSentences:
    sentences: list[str]
    encoding: str
    columns: list[str] = field(default_factory=list)  # header names (or "1", "2"...) for a table
    column: int = 0                                   # the column the sentences come from
    has_header: bool = False
    notices: list[Notice] = field(default_factory=list)


def _delimiter(filename: str, lines: list[str]) -> str | None:
    """"\\t" for .tsv, "," or ";" or "\\t" for .csv (whichever splits the first line), None for text."""
    name = filename.lower()
    if name.endswith(".tsv"):
        return "\t"
    if not name.endswith(".csv"):
        return None
    first = lines[0]
    return max(("\t", ";", ","), key=lambda d: (first.count(d), d == ","))


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def text_column(rows: Sequence[Sequence[str]]) -> int:
    """The column with the longest cells on average (where sentences usually are)."""
    width = max(len(r) for r in rows)
    lengths = [sum(len(r[i]) for r in rows if i < len(r)) for i in range(width)]
    return max(range(width), key=lambda i: lengths[i])


def looks_like_header(first: Sequence[str], rest: Sequence[Sequence[str]]) -> bool:
    """A first row of short non-numeric labels (no sentence end) above data that differs:
    numbers under a label, or cells much longer than their label."""
    if not rest or not all(c.strip() for c in first):
        return False
    if any(len(c) > 40 or _is_number(c) or c.rstrip().endswith((".", "?", "!")) for c in first):
        return False
    for i, label in enumerate(first):
        cells = [r[i] for r in rest if i < len(r) and r[i]]
        if not cells:
            continue
        if sum(map(_is_number, cells)) > 0.8 * len(cells):
            return True
        if len(label) < 0.6 * sum(map(len, cells)) / len(cells):
            return True
    return False


def check_upload_size(size: int, limit: int = REFUSE_BYTES) -> None:
    """Refuse an upload by its declared size, before reading it (UserFacingError)."""
    if size > limit:
        raise UserFacingError("sent.err.too_big", megabytes=round(size / 1e6, 1),
                              limit=round(limit / 1e6), kept=round(MAX_BYTES / 1e6))


def parse_sentences(data: bytes, filename: str = "upload.txt", column: int | None = None,
                    has_header: bool | None = None, max_bytes: int = MAX_BYTES,
                    max_sentences: int = MAX_SENTENCES) -> ParsedSentences:
    """An uploaded .txt (one sentence a line) or .csv/.tsv (one column) -> sentences.

    Encoding, binary rejection and the size cap come from lmcore.files; a header
    row is detected unless `has_header` is given; without `column` the column with
    the longest cells is used. Raises UserFacingError.
    """
    decoded = decode_upload(data, max_bytes=max_bytes, max_line_chars=100 * MAX_SENTENCE_CHARS)
    # one notice for the sentence cap, counting the lines the line cap dropped too
    notices = [n for n in decoded.notices if n.key != "upload.notice.lines_capped"]
    dropped = decoded.total_lines - len(decoded.lines)
    sep = _delimiter(filename, decoded.lines)
    if sep is None:
        return _finish(decoded.lines, decoded.encoding, [], 0, False, notices, max_sentences, dropped)
    rows = [[c.strip() for c in r] for r in csv.reader(decoded.lines, delimiter=sep)]
    width = max(len(r) for r in rows)
    header = looks_like_header(rows[0], rows[1:]) if has_header is None else has_header
    column = text_column(rows[1:] if header else rows) if column is None else int(column)
    if not 0 <= column < width:
        raise UserFacingError("sent.err.column", column=column + 1, columns=width)
    names = [(rows[0][i] if header and i < len(rows[0]) and rows[0][i] else str(i + 1))
             for i in range(width)]
    body = rows[1:] if header else rows
    cells = [r[column] for r in body if column < len(r) and r[column]]
    return _finish(cells, decoded.encoding, names, column, header, notices, max_sentences, dropped)


def parse_pasted(text: str, max_sentences: int = MAX_SENTENCES) -> ParsedSentences:
    """Text from the text area, one sentence a line."""
    if not isinstance(text, str):
        raise UserFacingError("errors.empty_text")
    if "\x00" in text:
        raise UserFacingError("upload.err.binary")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return _finish(lines, "utf-8", [], 0, False, [], max_sentences)


def _finish(lines: list[str], encoding: str, columns: list[str], column: int, header: bool,
            notices: list[Notice], max_sentences: int, dropped: int = 0) -> ParsedSentences:
    if not lines:
        raise UserFacingError("sent.err.no_sentences")
    notices = list(notices)
    if len(lines) > max_sentences:
        notices.append(Notice("sent.notice.sentences_capped",
                              {"kept": max_sentences, "total": len(lines) + dropped}))
        lines = lines[:max_sentences]
    long = sum(1 for s in lines if len(s) > MAX_SENTENCE_CHARS)
    if long:
        notices.append(Notice("sent.notice.long_sentences", {"count": long, "chars": MAX_SENTENCE_CHARS}))
        lines = [s[:MAX_SENTENCE_CHARS] for s in lines]
    return ParsedSentences(lines, encoding, columns, column, header, notices)


# ---------------------------------------------------------------- running
@dataclass(frozen=True)
class BatchModel:
    name: str
    kind: str      # a catalog kind: encoder, masked-lm, causal-lm, seq2seq, transformer
    model: object  # pretrained.loading.LoadedModel or translators.Translator (shared: read only)


def load_batch_model(name: str) -> BatchModel:
    """A catalog model for batch runs (raises UserFacingError for unknown/unavailable names)."""
    info = get_model_info(name)
    if info.kind in LM_KINDS:
        return BatchModel(name, info.kind, load_model(name))
    return BatchModel(name, info.kind, load_translator(name))


@dataclass(frozen=True)
class SentenceRow:
    index: int                       # 0-based position in the batch
    sentence: str
    tokens: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()    # words the model maps to [UNK] / <unk>
    truncated: bool = False
    heads: tuple[str, ...] = ()      # "L2 H1 prev 0.83": the most distinctive heads
    mean_entropy: float | None = None  # bits, mean over layers, heads and queries
    translation: str | None = None
    notices: tuple[Notice, ...] = ()
    error: Notice | None = None      # the model refused this sentence

    def to_dict(self, lang: str = "en") -> dict:
        """One flat table row; keys are stable English names (CSV/JSON columns)."""
        return {"index": self.index + 1, "sentence": self.sentence, "n_tokens": len(self.tokens),
                "tokens": " ".join(self.tokens), "n_unknown": len(self.unknown),
                "unknown": " ".join(self.unknown), "truncated": self.truncated,
                "heads": "; ".join(self.heads),
                "mean_entropy": None if self.mean_entropy is None else round(self.mean_entropy, 3),
                "translation": self.translation,
                "notes": " ".join(n.message(lang) for n in ((self.error,) if self.error else self.notices))}


def run_batch(model: BatchModel, sentences: Sequence[str], progress: Progress | None = None,
              max_tokens: int = MAX_TOKENS) -> list[SentenceRow]:
    """One SentenceRow per sentence; progress(done, total) after each."""
    rows = []
    for i, sentence in enumerate(sentences):
        try:
            rows.append(analyse_sentence(model, sentence, i, max_tokens))
        except UserFacingError as err:
            rows.append(SentenceRow(i, sentence, error=Notice(err.key, dict(err.params))))
        if progress is not None:
            progress(i + 1, len(sentences))
    return rows


def analyse_sentence(model: BatchModel, sentence: str, index: int = 0,
                     max_tokens: int = MAX_TOKENS) -> SentenceRow:
    if model.kind in LM_KINDS:
        return _lm_row(model, sentence, index, max_tokens)
    if model.kind in TRANSLATOR_KINDS:
        return _translation_row(model, sentence, index)
    raise UserFacingError("errors.unknown_model", name=model.name)


def _lm_row(model: BatchModel, sentence: str, index: int, max_tokens: int) -> SentenceRow:
    lm = model.model
    result = attention(lm, sentence, max_tokens=max_tokens)
    enc = result.encoded
    unk = None if lm.byte_level else lm.tokenizer.unk_token
    unknown = tuple(label for raw, label in zip(enc.raw_tokens, enc.tokens) if unk and raw == unk)
    stats = report(lm, result)
    top = sorted(stats, key=lambda s: -_strength(s))[:TOP_HEADS]
    heads = tuple(f"L{s.layer} H{s.head} {_best(s)} {_strength(s):.2f}" for s in top)
    entropy = float(np.mean([s.entropy for s in stats])) if stats else None
    return SentenceRow(index, sentence, enc.tokens, unknown, _truncated(result.notices), heads,
                       entropy, None, tuple(result.notices))


_CATEGORIES = ("cls", "sep", "punct", "prev", "next", "same")


def _best(stats) -> str:
    return max(_CATEGORIES, key=lambda c: getattr(stats, c))


def _strength(stats) -> float:
    """How much of a head's weight sits on its strongest category (1 = all of it)."""
    return float(getattr(stats, _best(stats)))


def _translation_row(model: BatchModel, sentence: str, index: int) -> SentenceRow:
    result = model.model.translate(sentence)
    return SentenceRow(index, sentence, tuple(result.source_tokens), tuple(result.unknown_words),
                       _truncated(result.notices), translation=result.translation,
                       notices=tuple(result.notices))


def _truncated(notices) -> bool:
    return any(n.key == "errors.text_truncated" for n in notices)


def sentence_maps(model: BatchModel, sentence: str, max_tokens: int = MAX_TOKENS) -> AttentionMaps | None:
    """The attention of one sentence: (layers, heads, n, n) self/causal for encoders and
    LMs, cross (1, 1, output, source) for translators; None for a model without attention."""
    if model.kind in LM_KINDS:
        return attention(model.model, sentence, max_tokens=max_tokens).maps
    if model.kind in TRANSLATOR_KINDS:
        return model.model.translate(sentence).attention
    raise UserFacingError("errors.unknown_model", name=model.name)
