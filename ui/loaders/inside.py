"""Cached calls of the "inside a generating model" pages (GPT's top-p bars, the logit lens,
attention sinks, heads off, the key/value cache), beside the rest of ui.loaders, whose models
they share. Same rules as ui.loaders: results in bounded `st.cache_data`, no figures cached,
model calls through `lmcore.inference.backend()` (ui.loaders._infer: embedded or Ray Serve).
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from lmcore import catalog
from lmcore.pretrained.logit_lens import LogitLens
from lmcore.pretrained.nucleus import NextTokenLogits, NucleusView, next_token_view
from lmcore.pretrained.sinks import first_token_mass, without_first
from lmcore.record import AttentionMaps
from ui.loaders import PAGE_MAX_TOKENS, _infer, attention, model


# ---------------------------------------------------------------- inside a generating model
@st.cache_data(max_entries=32, show_spinner=False)
def next_token_logits(name: str, text: str) -> NextTokenLogits:
    """The one model call behind the GPT page's bars: last-position logits (vocab,)."""
    return _infer().next_token_logits(name, text)


@st.cache_data(max_entries=64, show_spinner=False)
def next_token_bars(name: str, text: str, top_k: int, temperature: float,
                    top_p: float) -> NucleusView:
    """The top-k bars with the nucleus, from the cached logits (the model does not run again)."""
    return next_token_view(model(name), next_token_logits(name, text), top_k, temperature, top_p)


@st.cache_data(max_entries=32, show_spinner=False)
def logit_lens(name: str, text: str, top_k: int) -> LogitLens:
    """Top-k per layer and position through the model's own output head."""
    return _infer().logit_lens(name, text, top_k, max_tokens=PAGE_MAX_TOKENS)


@st.cache_data(max_entries=32, show_spinner=False)
def sink_mass(name: str, text: str) -> np.ndarray:
    """(layers, heads): mean weight the tokens after the first put on the first token."""
    return first_token_mass(attention(name, text, None).maps)


@st.cache_data(max_entries=32, show_spinner=False)
def sink_maps(name: str, text: str, hide_first: bool) -> AttentionMaps:
    """The cached attention (layers, heads, n, n), or without its first token (rows renormalised)."""
    maps = attention(name, text, None).maps
    return without_first(maps) if hide_first else maps


# ================================================================ inside a generating model (issue 14 B)
@st.cache_data(ttl=300, show_spinner=False)
def heads_off_models() -> list[str]:
    """Offline models whose heads the "Switch heads off" page can switch off."""
    return [m.name for m in catalog.list_models() if m.offline and m.kind in ("masked-lm", "causal-lm", "transformer")]


@st.cache_data(max_entries=32, show_spinner=False)
def heads_off_ranking(name: str, text: str):
    """Every head switched off alone (layers x heads passes); Ranking.on_word picks the word."""
    return _infer().heads_off_ranking(name, text)


@st.cache_data(max_entries=64, show_spinner=False)
def heads_off_before_after(name: str, text: str, heads: tuple):
    return _infer().heads_off_before_after(name, text, heads)


@st.cache_data(max_entries=16, show_spinner=False)
def kv_cache_steps(name: str, text: str, steps: int):
    """Decoding step by step with the key/value cache, checked and timed against no cache."""
    return _infer().kv_cache_steps(name, text, steps)
