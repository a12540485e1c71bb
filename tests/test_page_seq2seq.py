"""The "Seq2seq: encoder–decoder" page headless (AppTest) on tiny translators, and its figures."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lmcore.i18n import translate
from lmcore.translation.translators import ASSETS
from tests.test_page_translate_steps import HOSTILE, use_tiny_models
from tests.test_views_seq2seq import fake_report
from ui import loaders
from tests.page_support import ran_cleanly, run_page, texts

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "seq2seq.py")
pytestmark = pytest.mark.usefixtures("fresh_caches")


def open_page(lang: str = "en") -> AppTest:
    return ran_cleanly(run_page(PAGE, lang))


def set_text(at: AppTest, text: str) -> AppTest:
    at.text_area(key="s2sp_s2s_text_short").set_value(text).run()
    return ran_cleanly(at)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_page_shows_the_context_vectors_and_the_length_chart(monkeypatch, lang):
    use_tiny_models(monkeypatch)
    monkeypatch.setattr(loaders, "eval_report", fake_report)
    at = open_page(lang)
    assert at.title[0].value == translate("s2sp.s2s.title", lang)
    assert not at.error
    charts = at.get("plotly_chart")
    assert len(charts) == 3  # one context vector, per-step context vectors, BLEU by length
    assert "python -m lmcore evaluate --report" in texts(at.code)
    at.radio(key="s2sp_metric").set_value("chrf").run()
    assert not at.exception and len(at.get("plotly_chart")) == 3


def test_long_example_is_one_click_away(monkeypatch):
    use_tiny_models(monkeypatch)
    at = open_page("ko")
    at.radio(key="s2sp_s2s_example").set_value("long").run()
    assert not at.exception and not at.error
    assert at.text_area(key="s2sp_s2s_text_long").value == translate("s2sp.s2s.example_long", "en")


@pytest.mark.parametrize("lang,text,notice", [
    ("en", HOSTILE + " 😀", "s2s.notice.all_unknown"),
    ("ko", HOSTILE + " 😀", "s2s.notice.all_unknown"),
    ("ko", "나는 춥다", "s2s.notice.unexpected_korean"),
    ("en", " ".join(["cold"] * 500), "errors.text_truncated"),
    ("ko", "", "errors.empty_text"),
])
def test_bad_input_gives_a_translated_notice(monkeypatch, lang, text, notice):
    use_tiny_models(monkeypatch)
    at = set_text(open_page(lang), text)
    assert not at.error
    literal = translate(notice, lang).split("{")[0][:20]
    assert any(literal in x.value for x in at.warning), texts(at.warning)


def test_missing_models_and_report_give_messages_not_errors(monkeypatch):
    monkeypatch.setattr(loaders, "translator_choices", lambda: [])
    monkeypatch.setattr(loaders, "eval_report", lambda: None)
    at = open_page("ko")
    assert not at.error
    assert translate("s2sp.model_missing", "ko", name="s2s-en-fr-plain") == at.warning[0].value
    assert translate("s2sp.s2s.no_report", "ko") in texts(at.info)


@pytest.mark.skipif(not (ASSETS / "s2s-en-fr-plain" / "config.json").is_file(), reason="plain model not bundled")
def test_the_bundled_plain_model_translates():
    at = open_page("en")
    assert not at.error
    assert any(m.value.startswith("**" + translate("s2sp.s2s.translation", "en")) and len(m.value) > 20
               for m in at.markdown)
