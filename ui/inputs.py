"""Bounded text inputs: an over-long paste stays whole in its box; the page reads the first
`limit` characters and says so.

    text = inputs.text_area(t("cmp.text"), limit=2000, height=80,
                            key=url_state.field("cmp_text", "text", EXAMPLE))

Streamlit's own `max_chars` silently ignores a paste longer than the limit (the old text
stays, nothing is said). These helpers give the widget a generous ceiling instead
(WIDGET_CEILING characters), keep what the user typed in the box as it is (nothing typed is
lost: they can shorten it themselves), hand the page the first `limit` characters, and say so
for as long as the text is longer. url_state keeps a text longer than its URL cap out of the link.
"""
from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from lmcore import files
from lmcore.errors import UserFacingError
from ui.i18n import t, t_plain

WIDGET_CEILING = 1_000_000   # characters the browser may send at all (about 1 MB: within limits)


def _bounded(widget: Callable[..., str], label: str, key: str, limit: int, **kwargs: Any) -> str:
    if key in st.session_state:  # the session's value wins (no "default and Session State" warning)
        kwargs.pop("value", None)
    value = widget(label, key=key, max_chars=max(WIDGET_CEILING, limit), **kwargs) or ""
    if len(value) > limit:
        st.warning(t("input.first_part", limit=limit, total=len(value)), icon=":material/content_cut:")
    return value[:limit]


def text_area(label: str, *, key: str, limit: int, **kwargs: Any) -> str:
    """st.text_area whose value for the page is at most `limit` characters (longer input: the
    box keeps it whole, the page reads the first `limit`, with a notice)."""
    return _bounded(st.text_area, label, key, limit, **kwargs)


def text_input(label: str, *, key: str, limit: int, **kwargs: Any) -> str:
    """st.text_input, bounded as text_area."""
    return _bounded(st.text_input, label, key, limit, **kwargs)


# ---------------------------------------------------------------- uploads
UPLOAD_LIMIT_MB = 5  # the most any page reads of an upload (= server.maxUploadSize, each uploader's max)
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "utf-16": "UTF-16", "utf-16-le": "UTF-16",
                  "utf-16-be": "UTF-16", "cp949": "CP949 (한국어 Windows)", "cp1252": "Windows-1252",
                  "latin-1": "Latin-1 (ISO-8859-1)"}


def upload_encoding(raw: bytes, key: str) -> bytes:
    """Say which encoding an upload is read as and offer to override it; the bytes to parse.

    "auto" keeps lmcore.files' guess (the bytes as they are); another choice hands
    on the text re-encoded as UTF-8. Binary data is left to the parser, which says so.
    """
    try:
        guessed = files.detect_encoding(raw)
    except UserFacingError:
        return raw
    names = {"auto": t_plain("upload.encoding.auto", encoding=ENCODING_NAMES[guessed])}
    names |= {e: ENCODING_NAMES[e] for e in files.ENCODINGS}
    choice = st.selectbox(t("upload.encoding.label"), list(names), format_func=names.__getitem__,
                          key=key, help=t("upload.encoding.help"))
    used = guessed if choice == "auto" else choice
    st.caption(t("upload.encoding.used", encoding=ENCODING_NAMES[used]))
    return raw if choice == "auto" else files.recode(raw, choice)
