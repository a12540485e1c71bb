"""The app's translation helper: `t(key, **params)` in the session's language.

The language comes from the URL (`?lang=ko`), else the browser's locale, else
English; the sidebar picker writes it back to the URL so a shared link keeps it.

Escaping happens here, in one place: `t` and `error_text` fill every text parameter
escaped for Markdown (`ui.safe_text.md_escape`), because nearly everything they feed
(st.error/warning/info, captions, markdown, labels, toasts) renders Markdown. A link,
an image, HTML or a bare URL typed by a user or carried by a shared link shows as
text. Numbers pass as they are (format specs like `{p:.3f}` keep working), and text
that is already safe (`SafeMarkdown`: another `t(...)`, `md_escape(...)`) is not
escaped twice. Plain-text sinks (selectbox options, plotly titles, which escape HTML
themselves, file names, st.text) use `t_plain`.
"""
from __future__ import annotations

import streamlit as st

from lmcore.errors import UserFacingError
from lmcore.i18n import LANGUAGES, normalize_language, translate
from ui.safe_text import SafeMarkdown, md_escape

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


def _switch_language() -> None:
    """The main-area switch's callback: the URL takes its language, and the sidebar picker
    forgets its own choice (it is drawn again from the URL)."""
    chosen = st.session_state.get(SWITCH_KEY)
    if chosen in LANGUAGES:
        st.query_params["lang"] = chosen
        st.session_state.pop("language_picker", None)


SWITCH_KEY = "present_language"


def language_switch() -> None:
    """A compact EN / 한국어 switch in the main area (presentation mode, where the sidebar is
    folded away): the same language state as the sidebar picker, kept in the URL as ?lang=.
    Placed by ui.presentation's CSS in the top right corner, out of the page's flow."""
    lang = current_language()
    if st.session_state.get(SWITCH_KEY) != lang:
        st.session_state[SWITCH_KEY] = lang  # the sidebar, or a link, chose another
    with st.container(key="present_language_box"):
        st.segmented_control(translate("common.language", lang), LANGUAGES,
                             format_func=_LANGUAGE_NAMES.__getitem__, key=SWITCH_KEY,
                             on_change=_switch_language, label_visibility="collapsed")


def safe_params(params: dict[str, object]) -> dict[str, object]:
    """Every parameter made safe for Markdown: numbers as they are, text escaped once."""
    return {name: value if isinstance(value, (int, float)) and not isinstance(value, bool)
            else md_escape(value) for name, value in params.items()}


def t(key: str, **params: object) -> SafeMarkdown:
    """Translate `key` into the session's language; parameters escaped for Markdown."""
    return SafeMarkdown(translate(key, current_language(), **safe_params(params)))


def t_plain(key: str, **params: object) -> str:
    """Translate `key` with parameters as they are, for sinks that render no Markdown
    (selectbox options, plotly titles: lmcore.views escapes HTML, file names, st.text)."""
    return translate(key, current_language(), **params)


def map_labels() -> dict[str, str]:
    """The translated axis and colour-bar labels of an attention heatmap (plots.attention_heatmap)."""
    return dict(query_label=t("common.query"), key_label=t("common.key"), weight_label=t("common.weight"))


def error_text(error: UserFacingError) -> SafeMarkdown:
    """A UserFacingError's message in the session's language, its parameters escaped (for st.error)."""
    return SafeMarkdown(translate(error.key, current_language(), **safe_params(error.params)))


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
