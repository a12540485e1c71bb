"""Cached calls into lmcore for the three seq2seq pages (10.1, 10.2, train your own).

Translators go in `st.cache_resource` (one copy shared by every session: read only,
never trained); results go in `st.cache_data` with bounded size. A `UserFacingError`
raised inside is not cached and reaches the page, which shows it translated.
"""
from __future__ import annotations

import json

import streamlit as st

from lmcore.catalog import TRANSLATOR_KINDS, ModelInfo, list_models
from lmcore.translation.data import pairs_from_bytes
from lmcore.notices import Notice
from lmcore.translation.translators import ASSETS, TranslationResult, Translator, load_translator

EVAL_FILE = ASSETS / "seq2seq_eval.json"
UPLOAD_MAX_BYTES = 2_000_000   # uploads: the first 2 MB are read (with a notice)
UPLOAD_MAX_LINES = 20_000      # and the first 20k lines: a few minutes of CPU training at most


@st.cache_data(ttl=60, show_spinner=False)
def translator_choices() -> list[ModelInfo]:
    """Bundled translators whose files are present (seq2seq first, then Transformers)."""
    models = [m for m in list_models() if m.kind in TRANSLATOR_KINDS and m.offline]
    return sorted(models, key=lambda m: TRANSLATOR_KINDS.index(m.kind))


@st.cache_resource(max_entries=6, show_spinner=False)
def translator(name: str) -> Translator:
    """A loaded translator shared by all sessions (eval mode; never train it)."""
    return load_translator(name)


@st.cache_data(max_entries=64, show_spinner=False)
def translate(name: str, text: str, beam: int = 1) -> TranslationResult:
    """Translation with the full per-step trace (greedy when beam is 1)."""
    return translator(name).translate(text, beam=beam)


@st.cache_data(max_entries=32, show_spinner=False)
def encoder_view(name: str, text: str) -> dict:
    """The encoder's states and final state (the plain model's one context vector)."""
    return translator(name).encoder_states(text)


@st.cache_data(ttl=60, show_spinner=False)
def eval_report() -> dict | None:
    """lmcore/assets/seq2seq_eval.json (BLEU and chrF by length), or None when absent."""
    if not EVAL_FILE.is_file():
        return None
    try:
        return json.loads(EVAL_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@st.cache_data(max_entries=4, show_spinner=False)
def uploaded_pairs(raw: bytes, swap: bool) -> tuple[list[tuple[str, str]], list[Notice]]:
    """Sentence pairs from an uploaded TSV (encodings, binary and caps via lmcore.demos.uploads)."""
    return pairs_from_bytes(raw, swap=swap, max_bytes=UPLOAD_MAX_BYTES, max_lines=UPLOAD_MAX_LINES)
