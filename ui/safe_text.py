"""User and model text shown inside Streamlit markdown as itself: no HTML, no markdown syntax.

    st.markdown(t("s2sp.steps.final", text=md_escape(translation)))

Streamlit's markdown drops raw HTML already (unsafe_allow_html stays off); this also stops
a typed `**`, `[link](...)`, `$math$` or `#` from turning into formatting.
"""
from __future__ import annotations

import html

_MARKDOWN = set("\\`*_{}[]()#+-.!|~>$:")


def md_escape(text: object) -> str:
    """`text` safe to place inside Streamlit markdown."""
    text = html.escape(str(text), quote=False)
    return "".join("\\" + ch if ch in _MARKDOWN else ch for ch in text)
