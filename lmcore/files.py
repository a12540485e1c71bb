"""Files in and out: uploaded or loaded text (bytes -> lines or rows, with caps and a report)
and a model folder zipped for a download. Every package of lmcore may use it.

Text is generic on purpose (sentence-pair uploads, one-sentence-per-line files, labelled
rows all use it):

    decoded = decode_upload(data)            # DecodedText(lines, encoding, notices, ...)
    rows, notices = split_rows(decoded.lines, min_columns=2)

Encodings recognised, in this order: a BOM (UTF-8, UTF-16 LE/BE); UTF-16 without BOM
(NUL bytes in every other position); strict UTF-8; CP949 (a superset of EUC-KR, the
usual Korean Windows encoding) only when the result is Hangul (Latin-1 `Größe` also
decodes as CP949, to `Gr秤e`); Windows-1252, then Latin-1 (which decodes any bytes) for
Western text. `decode_upload(data, encoding=...)` overrides the guess (the pages offer
ENCODINGS in a selectbox); `DecodedText.encoding` says which one was used.
Binary data (NUL bytes, many control characters) is rejected. Size and line caps
keep the first part and add a notice naming what was dropped; nothing fails silently.
"""
from __future__ import annotations

import codecs
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lmcore.errors import UserFacingError
from lmcore.notices import Notice

MAX_BYTES = 5_000_000      # default size cap: the first 5 MB are kept
MAX_LINES = 50_000         # default line cap
MAX_LINE_CHARS = 2_000     # longer lines are cut to this many characters
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp949", "cp1252", "latin-1")  # the override's choices


@dataclass(frozen=True)
class DecodedText:
    """Text lines from an upload and what was done to get them."""

    lines: list[str]            # non-empty lines, without line endings, after the caps
    encoding: str               # one of ENCODINGS
    total_lines: int            # non-empty lines before the line cap (within the size cap)
    size_capped: bool = False   # True when only the first max_bytes were read
    lines_capped: bool = False  # True when lines beyond max_lines were dropped
    long_lines_cut: int = 0     # lines cut to max_line_chars
    notices: list[Notice] = field(default_factory=list)

    def report(self) -> dict:
        return {"encoding": self.encoding, "lines": len(self.lines),
                "total_lines": self.total_lines, "size_capped": self.size_capped,
                "lines_capped": self.lines_capped, "long_lines_cut": self.long_lines_cut,
                "notices": [n.to_dict() for n in self.notices]}


def detect_encoding(data: bytes) -> str:
    """Best guess of the text encoding; raises UserFacingError for binary data."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = data[:4096]
    if sample and b"\x00" in sample:
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) > 0.3 * len(odd) and even.count(0) < 0.05 * max(1, len(even)):
            return "utf-16-le"
        if even.count(0) > 0.3 * len(even) and odd.count(0) < 0.05 * max(1, len(odd)):
            return "utf-16-be"
        raise UserFacingError("upload.err.binary")
    if _decodes(data, "utf-8"):
        return "utf-8"
    if _decodes(data, "cp949") and _is_hangul(data.decode("cp949", errors="replace")):
        return "cp949"
    return "cp1252" if _decodes(data, "cp1252") else "latin-1"


def _is_hangul(text: str) -> bool:
    """True when most non-ASCII letters are Hangul (syllables or jamo), not CJK ideographs."""
    wide = [ch for ch in text[:20_000] if ord(ch) > 127 and ch.isalpha()]
    hangul = sum(1 for ch in wide if "\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff"
                 or "\u3130" <= ch <= "\u318f")
    return bool(wide) and hangul >= 0.8 * len(wide)


def _decodes(data: bytes, encoding: str) -> bool:
    """True when data is valid in `encoding`, allowing one multi-byte character cut at the end."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=False)
        return True
    except UnicodeDecodeError:
        return False


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    if not sample:
        return False
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    return "\x00" in sample or control > 0.02 * len(sample)


def decode_upload(data: bytes, max_bytes: int = MAX_BYTES, max_lines: int = MAX_LINES,
                  max_line_chars: int = MAX_LINE_CHARS, encoding: str | None = None) -> DecodedText:
    """Bytes of a text file -> non-empty lines, with caps applied and reported.

    encoding: one of ENCODINGS to use instead of the guess (undecodable bytes become �).
    Raises UserFacingError: "upload.err.empty" (no text), "upload.err.binary".
    """
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("decode_upload takes bytes")
    data = bytes(data)
    size_capped = len(data) > max_bytes
    if size_capped:
        data = data[:max_bytes]
    encoding = encoding if encoding in ENCODINGS else detect_encoding(data)
    text = data.decode(encoding, errors="replace")  # only a cut last character can fail
    if size_capped and "\n" in text:
        text = text[: text.rfind("\n")]  # drop the line the cap cut through
    text = text.lstrip("\ufeff")
    if _looks_binary(text):
        raise UserFacingError("upload.err.binary")
    return _make_lines(text, encoding.replace("-le", "").replace("-be", ""), size_capped,
                       max_bytes, max_lines, max_line_chars)


def _make_lines(text: str, encoding: str, size_capped: bool, max_bytes: int, max_lines: int,
                max_line_chars: int) -> DecodedText:
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise UserFacingError("upload.err.empty")
    notices: list[Notice] = []
    if size_capped:
        notices.append(Notice("upload.notice.size_capped", {"megabytes": round(max_bytes / 1e6, 1)}))
    total = len(lines)
    lines_capped = total > max_lines
    if lines_capped:
        lines = lines[:max_lines]
        notices.append(Notice("upload.notice.lines_capped", {"kept": max_lines, "total": total}))
    cut = sum(1 for line in lines if len(line) > max_line_chars)
    if cut:
        lines = [line[:max_line_chars] for line in lines]
        notices.append(Notice("upload.notice.long_lines", {"count": cut, "chars": max_line_chars}))
    return DecodedText(lines, encoding, total, size_capped, lines_capped, cut, notices)


def recode(data: bytes, encoding: str) -> bytes:
    """The bytes read as `encoding` (one of ENCODINGS), as UTF-8: what an override hands on
    to a parser that guesses (decode_upload then finds UTF-8)."""
    text = bytes(data).decode(encoding, errors="replace").lstrip("\ufeff")
    return text.encode("utf-8")


def read_text_file(path: str | Path, **caps: int) -> DecodedText:
    """decode_upload on a file's bytes (reads at most the size cap plus a little)."""
    limit = caps.get("max_bytes", MAX_BYTES)
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError:
        raise UserFacingError("upload.err.unreadable", path=str(path)) from None
    return decode_upload(data, **caps)


def split_rows(lines: list[str], sep: str = "\t", min_columns: int = 1,
               max_columns: int | None = None) -> tuple[list[list[str]], list[Notice]]:
    """Lines -> rows of stripped columns; rows with fewer than min_columns are skipped.

    Extra columns beyond max_columns are dropped. Raises UserFacingError
    ("upload.err.columns") when no line has min_columns columns.
    """
    rows: list[list[str]] = []
    skipped = 0
    for line in lines:
        cols = [c.strip() for c in line.split(sep)]
        if len(cols) < min_columns or not all(cols[:min_columns]):
            skipped += 1
            continue
        rows.append(cols[:max_columns] if max_columns else cols)
    if not rows:
        raise UserFacingError("upload.err.columns", columns=min_columns)
    notices = [Notice("upload.notice.rows_skipped", {"count": skipped, "columns": min_columns})] \
        if skipped else []
    return rows, notices


def zip_folder(folder: str | Path) -> bytes:
    """A model folder's files (weights, config, vocabularies) as zip bytes, for a download."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(Path(folder).iterdir()):
            if path.is_file():
                archive.write(path, path.name)
    return buffer.getvalue()
