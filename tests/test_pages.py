"""Every registered page runs in both languages through the real router (AppTest)."""
from __future__ import annotations

import pytest
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui.navigation import all_pages

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE_PATHS = [spec.script for spec in all_pages()]


def open_page(script: str, lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = lang
    at.run()
    if script != "pages/home.py":
        at.switch_page(script)
        at.run()
    return at


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("script", PAGE_PATHS)
def test_page_runs_without_exception(script, lang):
    at = open_page(script, lang)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title or at.header, "the page shows a title"


def test_language_follows_the_url():
    english = open_page("pages/home.py", "en")
    korean = open_page("pages/home.py", "ko")
    assert english.title[0].value == "Attention Lab"
    assert korean.title[0].value == "어텐션 랩"
    assert korean.sidebar.selectbox[0].value == "ko"


def test_home_lists_the_glossary_in_korean():
    at = open_page("pages/home.py", "ko")
    labels = [e.label for e in at.expander]
    assert "셀프 어텐션" in labels and len(labels) >= 8


def test_presentation_mode_is_kept_in_the_url():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception
    toggle = at.sidebar.toggle[0]
    assert toggle.value is True
    toggle.set_value(False).run()
    assert "present" not in at.query_params


def test_presentation_mode_switches_language_in_the_main_area():
    """The sidebar is folded away when presenting: a main-area switch (same state, ?lang=)."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["present"] = "1"
    at.query_params["lang"] = "en"
    at.run()
    switch = at.button_group(key="present_language")
    assert switch.value == "en"
    switch.set_value("ko").run()
    assert not at.exception
    assert at.query_params["lang"] == ["ko"] or at.query_params["lang"] == "ko"
    assert at.title[0].value == "어텐션 랩"
    assert at.sidebar.selectbox[0].value == "ko"
    assert at.button_group(key="present_language").value == "ko"
