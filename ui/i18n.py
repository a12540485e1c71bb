"""The app's translation helper: `t(key, **params)` in the session's language.

The language comes from the URL (`?lang=ko`), else the browser's locale, else
English; the sidebar picker writes it back to the URL so a shared link keeps it.
"""
from __future__ import annotations

import streamlit as st

from lmcore.errors import UserFacingError
from lmcore.i18n import LANGUAGES, normalize_language, translate

_LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}


def current_language() -> str:
    """The session's language code ("en" or "ko")."""
    lang = st.query_params.get("lang")
    if lang in LANGUAGES:
        return lang
    try:
        browser = st.context.locale
    except Exception:  # outside a browser session (AppTest): no locale
        browser = None
    return normalize_language(browser)


def t(key: str, **params: object) -> str:
    """Translate `key` into the session's language."""
    return translate(key, current_language(), **params)


def map_labels() -> dict[str, str]:
    """The translated axis and colour-bar labels of an attention heatmap (plots.attention_heatmap)."""
    return dict(query_label=t("common.query"), key_label=t("common.key"), weight_label=t("common.weight"))


def error_text(error: UserFacingError) -> str:
    return error.message(current_language())


def language_picker() -> str:
    """Sidebar selector; the choice is kept in the URL as ?lang=."""
    lang = current_language()
    choice = st.sidebar.selectbox(
        t("common.language"), LANGUAGES, index=LANGUAGES.index(lang),
        format_func=_LANGUAGE_NAMES.__getitem__, key="language_picker",
    )
    if choice != st.query_params.get("lang"):
        st.query_params["lang"] = choice
    return choice
