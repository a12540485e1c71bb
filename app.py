"""Attention Lab: the router. Page groups follow the chapter; the sidebar holds the language.

Run: streamlit run app.py   (pages are registered in ui/navigation.py)
"""
from __future__ import annotations

import streamlit as st

from ui import presentation, school
from ui.i18n import language_picker, language_switch, t
from ui.navigation import PAGES

st.set_page_config(page_title="Attention Lab", page_icon="🔎", layout="wide",
                   initial_sidebar_state="collapsed" if presentation.is_on() else "auto")


def build_navigation() -> dict[str, list]:
    return {
        t(group): [st.Page(spec.script, title=t(spec.title_key), icon=spec.icon,
                           url_path=spec.url_path, default=(spec.url_path == ""))
                   for spec in specs]
        for group, specs in PAGES
    }


language_picker()
school.session_notice()  # after a replica restart: say the session is new
presentation.toggle()
presentation.view_settings()
presentation.apply()
if presentation.is_on():
    language_switch()  # the sidebar is folded away: the language stays in reach
st.navigation(build_navigation(), expanded=True).run()  # every lesson page in view
