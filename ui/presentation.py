"""Presentation mode for a classroom projector: large type, sidebar collapsed, chrome hidden.

Kept in the URL (`?present=1`) so a shared link opens in the same mode. The CSS is a
fixed string (no user text reaches it).
"""
from __future__ import annotations

import streamlit as st

from ui.i18n import t

PARAM = "present"

_CSS = """
<style>
html { font-size: 21px; }
[data-testid="stMain"] p, [data-testid="stMain"] li, [data-testid="stMain"] label,
[data-testid="stMain"] td, [data-testid="stMain"] th { font-size: 1.15rem !important; }
[data-testid="stMain"] h1 { font-size: 2.6rem !important; }
[data-testid="stMain"] h2 { font-size: 2.0rem !important; }
[data-testid="stMain"] .block-container { max-width: 100% !important; padding-top: 3.5rem !important; }
[data-testid="stMainMenu"], [data-testid="stToolbarActions"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"] { display: none !important; }
</style>
"""


def is_on() -> bool:
    return st.query_params.get(PARAM) == "1"


def apply() -> None:
    """Inject the presentation CSS when the mode is on (call once per run, from app.py)."""
    if is_on():
        st.html(_CSS)


def toggle() -> None:
    """Sidebar switch; writes the choice into the URL."""
    on = st.sidebar.toggle(t("present.toggle"), value=is_on(), help=t("present.help"),
                           key="presentation_toggle")
    if on and not is_on():
        st.query_params[PARAM] = "1"
        st.rerun()
    if not on and is_on():
        del st.query_params[PARAM]
        st.rerun()
