"""The one way the app shows `lmcore.notices.Notice`s.

    show_notices(result.notices)              # st.warning per notice
    show_notices(parsed.notices, "info")      # st.info

Each notice is translated into the session's language by `ui.i18n.t`, which escapes every
parameter for Markdown (`ui.safe_text.md_escape`): a parameter is user or model text (a word,
a file's line, a model name) and must show as itself, never as a link, an image or HTML.
"""
from __future__ import annotations

from typing import Iterable, Literal

import streamlit as st

from lmcore.notices import Notice
from ui.i18n import t


def notice_text(notice: Notice) -> str:
    """The notice in the session's language, its parameters escaped for Markdown."""
    return t(notice.key, **notice.params)


def show_notices(notices: Iterable[Notice], level: Literal["warning", "info"] = "warning") -> None:
    """Each notice once (the same text twice is shown once), as st.warning or st.info."""
    show = st.warning if level == "warning" else st.info
    seen: set[str] = set()
    for notice in notices:
        text = notice_text(notice)
        if text not in seen:
            seen.add(text)
            show(text)
