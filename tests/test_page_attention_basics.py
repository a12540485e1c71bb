"""The page "Attention: score, weight, context vector" run headless with AppTest."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lmcore.demos.score import MAX_LABEL_CHARS, PRESETS, SCORE_NAMES, compute_preset
from lmcore.i18n import translate
from tests.page_support import prepared_page, ran_cleanly, run_page, texts
from ui.safe_text import md_escape

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "attention_basics.py")


def _run(lang: str = "en", **widgets) -> AppTest:
    at = ran_cleanly(run_page(PAGE, lang, timeout=30))
    for key, value in widgets.items():
        widget = at.toggle(key=key) if key == "attn_scale" else at.selectbox(key=key)
        widget.set_value(value)
    if widgets:
        at.run()
    return at


def _table(at: AppTest):
    return at.dataframe[-1].value  # the results table comes after the input editor


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_page_renders_in_both_languages(lang):
    at = _run(lang)
    assert not at.error
    assert at.title[0].value == translate("attn.title", lang)
    assert len(at.get("plotly_chart")) == 2
    table = _table(at)
    assert list(table.columns)[0] == translate("attn.col.word", lang)
    words = ("I", "love", "you") if lang == "en" else ("나는", "너를", "사랑해")
    assert tuple(table.iloc[:, 0]) == words
    assert table[translate("attn.col.weight", lang)].sum() == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("score", SCORE_NAMES)
def test_each_score_function(score):
    at = _run("en", attn_score=score)
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 2
    expected = compute_preset("sentence", "en", score_name=score)
    weights = _table(at)[translate("attn.col.weight", "en")].tolist()
    assert weights == pytest.approx(list(expected.weights), abs=1e-4)


def test_masking_every_position_shows_an_error_not_an_exception():
    for lang in ("en", "ko"):
        at = _run(lang)
        at.multiselect[0].set_value([0, 1, 2]).run()
        assert not at.exception
        assert texts(at.error) == [translate("attn.err.all_masked", lang)]


def test_masking_one_position_gives_it_zero_weight():
    at = _run("en")
    at.multiselect[0].set_value([1]).run()
    table = _table(at)
    assert table[translate("attn.col.weight", "en")].iloc[1] == 0.0
    assert table[translate("attn.col.masked", "en")].iloc[1]


def test_scaled_toggle_changes_the_numbers():
    weight = translate("attn.col.weight", "en")
    plain = _table(_run("en", attn_preset="large"))
    scaled_at = _run("en", attn_preset="large", attn_scale=True)
    scaled = _table(scaled_at)
    assert translate("attn.col.scaled_score", "en") in scaled.columns
    assert translate("attn.col.scaled_score", "en") not in plain.columns
    assert plain[weight].tolist() != scaled[weight].tolist()


def test_every_preset_renders():
    for name in PRESETS:
        at = _run("ko", attn_preset=name)
        assert not at.exception and not at.error, name


def test_empty_cell_in_the_editor_is_a_translated_error():
    at = prepared_page(PAGE, "ko", timeout=30)
    at.session_state["attn_enc_sentence_ko"] = {
        "edited_rows": {1: {"x1": None}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert texts(at.error) == [translate("attn.err.empty_cell", "ko", where=md_escape("h2[1]"))]  # escaped for st.error


def test_script_label_is_shown_as_text():
    at = prepared_page(PAGE, "en", timeout=30)
    bad = "</script><img src=x onerror=alert(1)>"
    at.session_state["attn_enc_sentence_en"] = {
        "edited_rows": {0: {"label": bad}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception and not at.error
    assert _table(at).iloc[0, 0] == bad[:MAX_LABEL_CHARS].rstrip()


def test_too_few_rows_is_a_translated_error():
    at = prepared_page(PAGE, "en", timeout=30)
    at.session_state["attn_enc_sentence_en"] = {
        "edited_rows": {}, "added_rows": [], "deleted_rows": [1, 2]}
    at.run()
    assert not at.exception
    assert texts(at.error) == [translate("attn.err.state_count", "en", min=2, max=6, n=1)]
