"""The BERT page (AppTest, both languages) and its pure helpers."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lmcore.pretrained.bertviz import params_from_html
from lmcore.i18n import translate
from ui import lm_logic
from ui.safe_text import md_escape
from tests.page_support import (assert_clean, chart, charts, prepared_page, run_page, strings, texts,
                                values, weights)

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "bert.py")
HOSTILE = "</script><img src=x onerror=alert(1)>"


def open_page(lang: str = "en", model: str | None = None, show: str | None = None) -> AppTest:
    """The page, then `model` chosen in its (on-page) picker and the view `show` opened."""
    at = run_page(PAGE, lang, timeout=120)
    if model is not None:
        at.selectbox(key="lmp_bert_model").select(model).run()
    if show is not None:
        at.segmented_control(key="lmp_bert_show").set_value(show).run()
    return at


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_default_page_draws_the_grid_only_and_every_view_opens(lang):
    at = open_page(lang)  # the bundled masked LM (minilm-mlm) by default: every view works
    assert_clean(at)
    assert at.title[0].value == translate("lmp.bert.title", lang)
    grid = chart(at, "lmp_bert_grid")
    assert [d["type"] for d in grid["data"]] == ["heatmap", "scatter"], "one mosaic, one marker layer"
    assert len(grid["data"][1]["customdata"]) == 6 * 12, "one clickable thumbnail per layer and head"
    assert len(at.get("plotly_chart")) == 1 and not at.get("iframe"), "only the open view is drawn"
    at.segmented_control(key="lmp_bert_show").set_value("head").run()
    assert_clean(at)
    assert len(chart(at, "lmp_bert_heatmap")["data"]) == 1 and len(at.get("plotly_chart")) == 1
    at.segmented_control(key="lmp_bert_show").set_value("bertviz").run()
    for view, marker in (("head", "function renderVis"), ("model", "function renderThumbnail")):
        at.radio(key="lmp_bert_view").set_value(view).run()  # one view at a time
        assert_clean(at)
        iframes = [e.proto.srcdoc for e in at.get("iframe")]
        assert len(iframes) == 1 and marker in iframes[0]
        assert "d3js.org v5" in iframes[0] and "cdnjs" not in iframes[0]
        downloads = [b for b in at.get("download_button") if "lmp_bert_view_download" in b.proto.id]
        assert len(downloads) == 1, "the shown view can be saved as a standalone HTML file"
    at.segmented_control(key="lmp_bert_show").set_value("fill").run()
    assert_clean(at)
    assert at.selectbox(key="lmp_bert_model").value == "minilm-mlm"
    assert not at.info and chart(at, "lmp_bert_fill_1"), "the default model fills the blank itself"
    for view in ("report", "rollout", "nsp"):
        at.segmented_control(key="lmp_bert_show").set_value(view).run()
        assert_clean(at)
        assert at.query_params["show"] == view, "the open view is part of a shared link"


def test_the_first_run_computes_only_the_grid(monkeypatch, fresh_caches):
    from lmcore.pretrained import analysis, bertviz, predict

    def refuse(*args, **kwargs):
        raise AssertionError("computed for a view that is not open")
    for module, names in ((analysis, ("head_report", "rollout_maps")), (predict, ("fill_mask", "next_sentence")),
                          (bertviz, ("head_view_html", "model_view_html"))):
        for func in names:
            monkeypatch.setattr(module, func, refuse)
    at = open_page("en", "tiny-bert")
    assert_clean(at)
    at.segmented_control(key="lmp_bert_mode").set_value("pair").run()
    assert_clean(at)


@pytest.mark.parametrize("params,view,widget,value", [
    ({"view": "model"}, "bertviz", "lmp_bert_view", "model"), ({"mask": "2"}, "fill", "lmp_bert_mask_word", 2),
    ({"rollout": "1"}, "rollout", "lmp_bert_rollout_layer", 1),
    ({"layer": "1", "head": "2"}, "head", "lmp_bert_head", 2), ({"show": "report"}, "report", None, None)])
def test_old_and_new_links_reopen_their_view(params, view, widget, value):
    at = prepared_page(PAGE, "en", timeout=120, model="tiny-bert", **params).run()
    assert_clean(at)
    assert at.segmented_control(key="lmp_bert_show").value == view
    if widget is not None:
        assert at.session_state[widget] == value


def test_layer_and_head_pickers_choose_the_big_map():
    at = open_page("en", "tiny-bert", show="head")
    at.selectbox(key="lmp_bert_layer").set_value(2).run()
    at.selectbox(key="lmp_bert_head").set_value(3).run()
    assert_clean(at)
    assert chart(at, "lmp_bert_heatmap")["layout"]["title"]["text"] == "Layer 2, head 3"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_fill_mask_with_tiny_bert(lang):
    at = open_page(lang, "tiny-bert", show="fill")
    assert_clean(at)
    picker = at.selectbox(key="lmp_bert_mask_word")
    assert "cat" in picker.options
    picker.select_index(picker.options.index("cat")).run()
    assert at.query_params["mask"] == "1"  # the hidden word is part of a shared link
    assert_clean(at)
    assert any(t.value == "The [MASK] sat on the mat because it was tired." for t in at.text)
    bars = charts(at, "lmp_bert_fill_")  # one bar chart per [MASK]
    assert all(f["data"][0]["type"] == "bar" for f in bars)
    probabilities = values(bars[0]["data"][0]["y"])
    assert len(bars) == 1 and len(probabilities) == 5
    assert 0 < probabilities.sum() <= 1.0001 and (np.diff(probabilities) <= 0).all()


def test_typed_masks_each_get_guesses():
    at = open_page("en", "tiny-bert", show="fill")
    at.text_area(key="lmp_bert_a").input("the [MASK] is [MASK] .").run()
    assert_clean(at)
    bars = charts(at, "lmp_bert_fill_")
    assert len(bars) == 2 and all(f["data"][0]["type"] == "bar" for f in bars)


def test_pair_gives_next_sentence_probability_in_korean():
    at = open_page("ko", "tiny-bert", show="nsp")
    at.segmented_control(key="lmp_bert_mode").set_value("pair").run()
    assert_clean(at)
    assert len(at.metric) == 1 and at.metric[0].value.endswith("%")
    at.segmented_control(key="lmp_bert_show").set_value("bertviz").run()
    params = params_from_html(at.get("iframe")[0].proto.srcdoc)
    assert len(params["attention"]) == 5 and params["attention"][1]["name"] == "문장 A → 문장 A"


def test_hostile_text_is_escaped_everywhere():
    at = open_page("en", "tiny-bert")
    at.text_area(key="lmp_bert_a").input(f"the king {HOSTILE} is dead").run()
    assert_clean(at)
    for view in lm_logic.BERT_VIEWS:
        at.segmented_control(key="lmp_bert_show").set_value(view).run()
        assert_clean(at)
        for figure in charts(at):
            decoded = " ".join(strings(figure)).lower()
            assert "<img" not in decoded and "<script" not in decoded and "</script" not in decoded
        for frame in at.get("iframe"):
            assert "<img" not in frame.proto.srcdoc and "\\u003c" in frame.proto.srcdoc
    at.segmented_control(key="lmp_bert_show").set_value("head").run()
    ticks = strings(chart(at, "lmp_bert_heatmap")["layout"])
    assert any("&lt;" in s for s in ticks) and not any("<" in s for s in ticks)


def test_korean_on_an_english_vocabulary_names_a_model_that_can():
    at = open_page("ko", "tiny-bert")
    at.text_area(key="lmp_bert_a").input("고양이가 매트 위에 앉았다").run()
    assert not at.exception
    assert any(md_escape("tiny-bert") in w.value and "한글" in w.value for w in at.warning)  # params escaped
    assert not any("tiny-gpt2" in w.value and "써 보세요" in w.value for w in at.warning), \
        "no advice to pick a model this page's picker does not offer"


@pytest.mark.parametrize("bad,key", [("   ", "errors.empty_text"), ("a\x00b", "lm.err.binary")])
def test_bad_text_gives_a_translated_error(bad, key):
    at = open_page("ko", "tiny-bert")
    at.text_area(key="lmp_bert_a").input(bad).run()
    assert not at.exception
    assert texts(at.error) == [translate(key, "ko")]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_unavailable_hub_model_is_an_error_not_a_crash(lang):
    at = open_page(lang, "bert-base-uncased")
    assert not at.exception
    assert texts(at.error) == [translate("lm.err.unavailable", lang,
                                                     name="bert-base-uncased")]


def test_unknown_model_name_typed_by_hand():
    at = open_page("en", lm_logic_other())
    at.text_input(key="lmp_bert_model_other").input(HOSTILE).run()
    assert not at.exception and len(at.error) == 1 and "Unknown model" in at.error[0].value


def lm_logic_other() -> str:
    from ui.lm_widgets import OTHER
    return OTHER


# ---------------------------------------------------------------- pure helpers
def test_mask_word_replaces_exactly_the_chosen_word():
    text = "The cat's hat, the cat."
    spans = lm_logic.maskable_words(text)
    assert [text[a:b] for a, b in spans] == ["The", "cat's", "hat", "the", "cat"]
    assert lm_logic.mask_word(text, spans[4]) == "The cat's hat, the [MASK]."
    assert lm_logic.maskable_words("... !!") == []


def test_report_row_maps_to_layer_and_head():
    rows = [{"layer": 3, "head": 2}, {"layer": 0, "head": 1}]
    assert lm_logic.report_row_head(rows, 1) == (0, 1)


def test_report_table_translates_headers_and_labels():
    row = {"layer": 0, "head": 1, "cls": 0.9, "sep": 0.0, "punct": 0.0, "prev": 0.05,
           "next": 0.0, "same": 0.05, "entropy": 0.4, "label": "cls"}
    table = lm_logic.report_table([row], lambda key: translate(key, "ko"))
    assert table["층"] == [0] and table["하는 일"] == [translate("lm.head.cls", "ko")]
    assert table[translate("lm.head.entropy", "ko")] == [0.4]


def test_long_text_is_truncated_with_a_notice():
    at = open_page("en", "tiny-bert")
    at.text_area(key="lmp_bert_a").input("the king is dead . " * 40).run()
    assert_clean(at)
    assert any(w.value.startswith("The text was long") for w in at.warning)
    at.segmented_control(key="lmp_bert_show").set_value("head").run()
    assert len(chart(at, "lmp_bert_heatmap")["layout"]["xaxis"]["tickvals"]) == 64


def test_emoji_and_mixed_scripts_run_cleanly():
    at = open_page("en", "tiny-bert")
    at.text_area(key="lmp_bert_a").input("I ❤️ 🐱 cats, 고양이 ünïcode").run()
    assert not at.exception and not at.error
    config = json.loads((Path(PAGE).parents[1] / "lmcore/assets/tiny-bert/config.json").read_text())
    markers = chart(at, "lmp_bert_grid")["data"][1]["customdata"]
    assert len(markers) == config["num_hidden_layers"] * config["num_attention_heads"]


def test_a_local_model_folder_can_be_typed_in():
    folder = str(Path(PAGE).parents[1] / "lmcore" / "assets" / "tiny-bert")
    at = open_page("ko", lm_logic_other())
    at.text_input(key="lmp_bert_model_other").input(folder).run()
    assert_clean(at)
    assert at.query_params["model_id"] == folder
    assert any(c.value == translate("lmp.model.local", "ko", name=folder) for c in at.caption)


def test_rollout_rows_sum_to_one():
    at = open_page("en", "tiny-bert", show="rollout")
    z = weights(chart(at, "lmp_bert_rollout")["data"][0])  # exactly one rollout chart; whole percents
    np.testing.assert_allclose(z.sum(axis=1), 1, atol=0.005 * z.shape[1])


def test_view_from_an_old_link_and_korean_advice_within_the_picker():
    assert lm_logic.view_from_link({}) == "grid"
    assert lm_logic.view_from_link({"view": "head", "layer": "2"}) == "bertviz"
    assert lm_logic.view_from_link({"text": "x", "top_k": "3"}) == "fill"
    from lmcore.notices import Notice
    lost = Notice("lm.notice.hangul_lost", {"name": "tiny-bert", "suggestion": "tiny-gpt2"})
    other = Notice("errors.text_truncated", {"kept": 1, "total": 2})
    assert [n.key for n in lm_logic.page_notices([lost, other], ["tiny-bert"])] == \
        ["lmp.bert.hangul_lost", "errors.text_truncated"]
    assert lm_logic.page_notices([lost], ["tiny-gpt2"]) == [lost]


def test_export_names_say_page_model_layer_head():
    at = open_page("en", "tiny-bert", show="head")
    at.selectbox(key="lmp_bert_head").set_value(1).run()
    config = chart(at, "lmp_bert_heatmap")  # the figure; the file name rides in the chart's config
    plot = next(c for c in at.get("plotly_chart") if "lmp_bert_heatmap" in c.proto.id)
    assert json.loads(plot.proto.config)["toImageButtonOptions"]["filename"] == \
        "attention-lab-bert-tiny-bert-layer0-head1"
    assert config["layout"]["title"]["text"] == "Layer 0, head 1"


def test_minilm_without_heads_says_where_its_picker_is():
    at = open_page("en", "all-MiniLM-L6-v2", "fill")
    notice = translate("lmp.fill.needs_mlm", "en", name="all-MiniLM-L6-v2")
    assert any(notice == i.value for i in at.info) and "sidebar" not in notice
    assert chart(at, "lmp_bert_fill_1"), "the bundled masked LM still fills the blank"


def _question(at) -> str:
    label = at.expander[-1].label
    assert label.startswith(f"**{translate('lesson.quiz.title', 'en')}:**")
    return label


def test_the_question_is_about_the_text_on_the_page():
    at = open_page("en")  # the default sentence has 'it': the live question
    assert _question(at).endswith(translate("lesson.bert.live_q", "en", word="it"))
    at.text_area(key="lmp_bert_a").set_value("My phone fell in the water").run()
    at.segmented_control(key="lmp_bert_mode").set_value("pair").run()
    at.text_area(key="lmp_bert_b").set_value("Now I need a new phone").run()
    assert_clean(at)
    label = _question(at)  # no pronoun: the typed pair's own first and last words
    assert label.endswith(translate("lesson.bert.q", "en", sentence="My phone fell in the water Now I need a new phone",
                                    word="My", later="phone"))
    assert "cat" not in label and "cat" not in " ".join(map(str, at.radio[-1].options))
