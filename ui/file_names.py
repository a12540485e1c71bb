"""Export file names that say what a file holds: page, model, layer, head.

    export_stem("bert", "all-MiniLM-L6-v2", "layer2", "head3")
    -> "attention-lab-bert-all-minilm-l6-v2-layer2-head3"

A model may be a local folder or a hub id ("org/name"): only its last part is kept, and
anything but letters, digits, dots and dashes becomes a dash (safe on every file system).
"""
from __future__ import annotations

import re
from pathlib import PurePath

PREFIX = "attention-lab"
MAX_PART = 60


def _part(value: object) -> str:
    text = str(value).strip().rstrip("/\\")
    if "/" in text or "\\" in text:
        text = PurePath(text.replace("\\", "/")).name or text
    text = re.sub(r"[^0-9A-Za-z.\-]+", "-", text).strip("-.").lower()
    return text[:MAX_PART]


def export_stem(page: str, model: str | None, *parts: object) -> str:
    """A file name stem (no extension) from the page, the model and what the view shows."""
    named = [_part(p) for p in (page, model, *parts) if p is not None and str(p) != ""]
    return "-".join([PREFIX, *[p for p in named if p]])
