"""The "Switch heads off" page, pages/heads_off.py (AppTest, both languages)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lmcore.i18n import translate
from ui.safe_text import md_escape
from tests.page_support import assert_clean, chart, click, run_page, values

ROOT = Path(__file__).resolve().parent.parent
ABLATION = str(ROOT / "pages" / "heads_off.py")
MLM_TEXT = "the cat sat on the [MASK] ."
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_heads_off_page_grid_before_after_and_ranking(lang):
    at = run_page(ABLATION, lang, timeout=240, model="tiny-bert", text=MLM_TEXT, heads="0:1,3:2")
    assert_clean(at)
    assert at.title[0].value == translate("abl.title", lang)
    grid = chart(at, "abl_grid")
    assert len(values(grid["data"][0]["x"])) == 16                   # tiny-bert: 4 layers x 4 heads
    assert list(values(grid["data"][1]["y"])) == [0, 3]              # the crosses: heads off
    bars = chart(at, "abl_bars")
    assert len(bars["data"]) == 2 and not np.array_equal(values(bars["data"][0]["y"]),
                                                         values(bars["data"][1]["y"]))
    assert len(values(chart(at, "abl_scatter")["data"][0]["x"])) == 16


def test_heads_off_buttons_toggle_and_clear_and_bad_heads_are_a_message():
    at = run_page(ABLATION, "en", timeout=240, model="tiny-bert", text=MLM_TEXT)
    assert_clean(at)
    assert at.info[0].value == translate("abl.no_heads", "en")
    at.selectbox(key="abl_layer").select(2).run()
    click(at, "abl_toggle")
    assert at.session_state["abl_heads"] == "2:0" and at.query_params["heads"] in ("2:0", ["2:0"])
    click(at, "abl_clear")
    assert at.session_state["abl_heads"] == ""
    at.text_input(key="abl_heads").input("<b>9:9</b>").run()
    assert at.error and not at.exception
    assert "&lt;b&gt;9\\:9" in at.error[0].value and "<b>" not in at.error[0].value  # escaped


def test_heads_off_translator():
    at = run_page(ABLATION, "en", timeout=240, model="tf-en-fr", heads="0:0")
    assert_clean(at)
    assert len(at.metric) == 2 and at.metric[0].label == translate("abl.before", "en")
    assert len(values(chart(at, "abl_grid")["data"][0]["x"])) == 3 * 6  # cross-attention heads


def test_heads_off_question_names_the_sentence_and_word_on_the_page():
    at = run_page(ABLATION, "en", timeout=240, model="tiny-bert", text=MLM_TEXT)
    assert_clean(at)
    label = at.expander[-1].label
    assert "“the cat sat on the \\[MASK\\] \\.”" in label, label  # the page's own text, escaped
    word = at.selectbox(key="abl_word").format_func(-1)  # "auto: <word>", the grid's word
    assert "animal" not in label and "“it”" not in label
    assert f"most to “{md_escape(word.split(': ', 1)[1])}”" in label, (label, word)
