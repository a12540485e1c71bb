"""Labelled sentence-classification data: the bundled tasks and user CSV/TSV files.

    data = load_task("negation")                     # LabelledSet with a train/validation split
    cols = table_columns(raw_bytes, "mine.csv")      # header names, for the column pickers
    data = read_labelled_table(raw_bytes, "text", "label", "mine.csv")
    train, val = data.train, data.validation

Uploads are decoded by `lmcore.files` (encodings, binary rejection); on top of that a
labelled table must fit in MAX_BYTES, have both named columns, a label on every row and
at least two classes with MIN_PER_CLASS sentences each. Problems raise
`UserFacingError("ft.err.*")`; dropped or capped rows give `Notice`s.
"""
from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

from lmcore.errors import UserFacingError
from lmcore.files import decode_upload
from lmcore.notices import Notice

TASK_DIR = Path(__file__).parents[1] / "assets" / "tasks"
MAX_BYTES = 5_000_000   # a labelled upload larger than this is refused
MAX_ROWS = 5_000        # more rows are dropped (with a notice): training runs on a CPU
MAX_CLASSES = 20
MIN_PER_CLASS = 4
VAL_FRACTION = 0.2


@dataclass(frozen=True)
class Split:
    """Texts with integer labels (indices into the parent's label_names)."""
    texts: tuple[str, ...]
    labels: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class LabelledSet:
    name: str
    label_names: tuple[str, ...]
    train: Split
    validation: Split
    notices: tuple[Notice, ...] = field(default_factory=tuple)

    def class_counts(self) -> dict[str, int]:
        counts = {n: 0 for n in self.label_names}
        for y in self.train.labels + self.validation.labels:
            counts[self.label_names[y]] += 1
        return counts


# ---------------------------------------------------------------- bundled tasks
def bundled_tasks() -> list[str]:
    """Names of the bundled tasks (files lmcore/assets/tasks/<name>.tsv)."""
    return sorted(p.stem for p in TASK_DIR.glob("*.tsv"))


def load_task(name: str) -> LabelledSet:
    """A bundled task with its stored split (columns text, label, split)."""
    if name not in bundled_tasks():
        raise UserFacingError("ft.err.unknown_task", name=name, names=", ".join(bundled_tasks()))
    rows = _parse(decode_upload((TASK_DIR / f"{name}.tsv").read_bytes()).lines, "\t")
    header, body = rows[0], rows[1:]
    t, y, s = (header.index(c) for c in ("text", "label", "split"))
    names = tuple(sorted({r[y] for r in body}))
    parts = {"train": ([], []), "validation": ([], [])}
    for r in body:
        parts[r[s]][0].append(r[t])
        parts[r[s]][1].append(names.index(r[y]))
    return LabelledSet(name, names, *(Split(tuple(a), tuple(b)) for a, b in parts.values()))


# ---------------------------------------------------------------- user tables
def _delimiter(first_line: str, filename: str) -> str:
    if filename.lower().endswith(".tsv") or "\t" in first_line:
        return "\t"
    return ";" if first_line.count(";") > first_line.count(",") else ","


def _parse(lines: list[str], delimiter: str) -> list[list[str]]:
    return [[c.strip() for c in row] for row in csv.reader(lines, delimiter=delimiter)]


def _table(data: bytes, filename: str) -> tuple[list[list[str]], list[Notice]]:
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("uploads are bytes")
    if len(data) > MAX_BYTES:
        raise UserFacingError("ft.err.too_big", megabytes=round(len(data) / 1e6, 1),
                              limit=round(MAX_BYTES / 1e6, 1))
    decoded = decode_upload(bytes(data), max_bytes=MAX_BYTES, max_lines=MAX_ROWS + 1)
    rows = _parse(decoded.lines, _delimiter(decoded.lines[0], filename))
    if len(rows) < 2 or len(rows[0]) < 2:
        raise UserFacingError("ft.err.no_table")
    return rows, list(decoded.notices)


def table_columns(data: bytes, filename: str = "") -> list[str]:
    """The header row of an uploaded CSV/TSV (for the column pickers)."""
    rows, _ = _table(data, filename)
    return [c or f"#{i + 1}" for i, c in enumerate(rows[0])]


def read_labelled_table(data: bytes, text_column: str, label_column: str, filename: str = "",
                        seed: int = 0) -> LabelledSet:
    """An uploaded CSV/TSV -> LabelledSet, split 80/20 per class with a fixed seed."""
    rows, notices = _table(data, filename)
    header = [c or f"#{i + 1}" for i, c in enumerate(rows[0])]
    for column in (text_column, label_column):
        if column not in header:
            raise UserFacingError("ft.err.no_column", column=column, columns=", ".join(header))
    if text_column == label_column:
        raise UserFacingError("ft.err.same_column")
    t, y = header.index(text_column), header.index(label_column)
    texts, labels, missing, empty = [], [], [], 0
    for line, row in enumerate(rows[1:], start=2):
        text = row[t] if t < len(row) else ""
        label = row[y] if y < len(row) else ""
        if not text:
            empty += 1
        elif not label:
            missing.append(line)
        else:
            texts.append(text)
            labels.append(label)
    if missing:
        raise UserFacingError("ft.err.missing_labels", count=len(missing), first=missing[0],
                              column=label_column)
    if empty:
        notices.append(Notice("ft.notice.empty_text", {"count": empty}))
    return make_set(filename or "upload", texts, labels, seed, tuple(notices))


def make_set(name: str, texts: list[str], labels: list[str], seed: int = 0,
             notices: tuple[Notice, ...] = ()) -> LabelledSet:
    """Texts and string labels -> LabelledSet, checked and split per class (stratified)."""
    names = tuple(sorted(set(labels)))
    if len(names) < 2:
        raise UserFacingError("ft.err.one_class", label=names[0] if names else "")
    if len(names) > MAX_CLASSES:
        raise UserFacingError("ft.err.too_many_classes", count=len(names), limit=MAX_CLASSES)
    rng = random.Random(seed)
    train, val = ([], []), ([], [])
    for k, label in enumerate(names):
        members = [x for x, lab in zip(texts, labels) if lab == label]
        if len(members) < MIN_PER_CLASS:
            raise UserFacingError("ft.err.too_few", label=label, count=len(members), minimum=MIN_PER_CLASS)
        rng.shuffle(members)
        n_val = max(1, round(len(members) * VAL_FRACTION))
        for part, chunk in ((val, members[:n_val]), (train, members[n_val:])):
            part[0].extend(chunk)
            part[1].extend([k] * len(chunk))
    return LabelledSet(name, names, _shuffled(train, rng), _shuffled(val, rng), notices)


def _shuffled(part: tuple[list[str], list[int]], rng: random.Random) -> Split:
    order = list(range(len(part[0])))
    rng.shuffle(order)
    return Split(tuple(part[0][i] for i in order), tuple(part[1][i] for i in order))
