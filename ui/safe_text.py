"""User and model text shown inside Streamlit markdown as itself: no HTML, no markdown syntax.

    st.markdown(t("s2sp.steps.final", text=md_escape(translation)))

Streamlit's markdown drops raw HTML already (unsafe_allow_html stays off); this also stops
a typed `**`, `[link](...)`, `$math$`, `#`, a bare `https://` or `www.` link or an
`a@b.example` mail link from turning into formatting. The result is a `SafeMarkdown`
string, which `ui.i18n.t` passes on without escaping it a second time.
"""
from __future__ import annotations

import html
import re

_MARKDOWN = set("\\`*_{}[]()#.!|~>$:@")   # syntax anywhere in a line (":" stops https://, "@" mail)
_LINE_START = re.compile(r"^([ \t]*)([-+=])", re.MULTILINE)  # list items and headings only there


class SafeMarkdown(str):
    """Text already safe for Markdown (a translation with escaped parameters, or md_escape's output)."""


def md_escape(text: object) -> SafeMarkdown:
    """`text` safe to place inside Streamlit markdown."""
    if isinstance(text, SafeMarkdown):
        return text
    text = html.escape(str(text), quote=False)
    text = "".join("\\" + ch if ch in _MARKDOWN else ch for ch in text)
    return SafeMarkdown(_LINE_START.sub(r"\1\\\2", text))
