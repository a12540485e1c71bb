"""Cached calls into lmcore for the BERT and GPT pages.

Models go in `st.cache_resource` (one copy shared by every session: read only);
results go in `st.cache_data` with bounded size. A `UserFacingError` raised inside
is not cached and reaches the page, which shows it translated.
"""
from __future__ import annotations

import json

import streamlit as st

from lmcore.pretrained import bertviz as bertviz_offline
from lmcore.pretrained import analysis as lm_analysis
from lmcore.pretrained import loading as lm_loading
from lmcore.pretrained import predict as lm_predict
from lmcore.pretrained import encoding as pretrained
from lmcore.catalog import ModelInfo
from lmcore.record import AttentionMaps

# The BERT page draws layers x heads x n^2 cells (72 x 64^2 for MiniLM): longer input is
# truncated with a notice; the CLI gives the full length.
PAGE_MAX_TOKENS = 64


@st.cache_data(ttl=300, show_spinner=False)
def model_choices(kinds: tuple[str, ...]) -> list[ModelInfo]:
    """Catalog entries of these kinds, ones that work offline first (catalog order kept)."""
    entries = [m for m in lm_loading.catalog_entries() if m.kind in kinds]
    return sorted(entries, key=lambda m: not m.offline)


@st.cache_resource(show_spinner=False, max_entries=6)
def model(name: str) -> lm_loading.LoadedModel:
    """A loaded model, shared by all sessions (never mutate it)."""
    return lm_loading.load_model(name)


@st.cache_data(show_spinner=False)
def metrics(name: str) -> dict:
    """The bundled model's measured quality and size (its asset's metrics.json)."""
    path = lm_loading.ASSETS / name / "metrics.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


@st.cache_data(max_entries=32, show_spinner=False)
def attention(name: str, text: str, text_b: str | None) -> pretrained.AttentionResult:
    """Attention of every layer and head, (layers, heads, n, n), for a text or pair."""
    return pretrained.attention(model(name), text, text_b, max_tokens=PAGE_MAX_TOKENS)


@st.cache_data(max_entries=32, show_spinner=False)
def display_maps(name: str, text: str, text_b: str | None, words: bool = False,
                 hide_special: bool = False) -> tuple[AttentionMaps, int | None]:
    """`pretrained.display_maps` of the cached attention: (maps (layers, heads, n', n'), B's start)."""
    return pretrained.display_maps(attention(name, text, text_b), words, hide_special)


@st.cache_data(max_entries=32, show_spinner=False)
def head_report(name: str, text: str, text_b: str | None, words: bool = False,
                hide_special: bool = False) -> list[dict]:
    """Clark et al. (2019) statistics of the shown maps, one dict per (layer, head)."""
    maps, _ = display_maps(name, text, text_b, words, hide_special)
    return [s.to_dict() for s in lm_analysis.head_report(maps)]


@st.cache_data(max_entries=32, show_spinner=False)
def rollout(name: str, text: str, text_b: str | None, words: bool = False,
            hide_special: bool = False) -> AttentionMaps:
    """Attention rollout (Abnar & Zuidema 2020) of the shown maps: (layers, 1, n, n)."""
    maps, _ = display_maps(name, text, text_b, words, hide_special)
    return lm_analysis.rollout_maps(maps)


@st.cache_data(max_entries=16, show_spinner=False)
def bertviz_html(view: str, name: str, text: str, text_b: str | None, words: bool,
                 hide_special: bool, lang: str) -> str:
    """bertviz's head or model view of the shown maps, as offline, escaped HTML."""
    maps, b_start = display_maps(name, text, text_b, words, hide_special)
    build = bertviz_offline.head_view_html if view == "head" else bertviz_offline.model_view_html
    return build(maps, b_start, lang)


@st.cache_data(max_entries=32, show_spinner=False)
def fill_mask(name: str, text: str, top_k: int) -> lm_predict.FillMaskResult:
    """Top-k words for each [MASK] in the text."""
    return lm_predict.fill_mask(model(name), text, top_k)


@st.cache_data(max_entries=32, show_spinner=False)
def next_sentence(name: str, text_a: str, text_b: str) -> lm_predict.NextSentenceResult:
    """P(B follows A) from the model's NSP head."""
    return lm_predict.next_sentence(model(name), text_a, text_b)


@st.cache_data(max_entries=32, show_spinner=False)
def next_token(name: str, text: str, top_k: int, temperature: float) -> lm_predict.NextTokenResult:
    """The next-token distribution after temperature and top-k."""
    return lm_predict.next_token(model(name), text, top_k, temperature)


@st.cache_data(max_entries=64, show_spinner=False)
def generation(name: str, prompt: str, steps: int, top_k: int, temperature: float,
               seed: int) -> lm_predict.GenerationTrace:
    """`steps` tokens generated from the prompt; a fixed seed makes step i repeatable."""
    return lm_predict.generate_trace(model(name), prompt, steps, top_k, temperature, seed)
