"""The Compare page headless (AppTest) on tiny models, in English and Korean, both modes.

Under the bundled names: "all-MiniLM-L6-v2" is a tiny WordPiece BERT, "tiny-bert" a tiny
byte-level GPT-2 (so the two tokenizers differ), the translators tiny untrained LSTMs.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lmcore.pretrained import loading
from lmcore.catalog import ModelInfo
from lmcore.errors import UserFacingError
from lmcore.i18n import translate
from tests.test_page_translate_steps import TINY, tiny_translator
from tests.test_pretrained import HOSTILE, bert_dir, gpt2_dir  # noqa: F401 (fixtures)
from ui import loaders
from ui.safe_text import md_escape
from tests.page_support import chart, charts, metrics, ran_cleanly, run_page, texts, ticks

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "compare.py")
LMS = [ModelInfo("all-MiniLM-L6-v2", "encoder", True), ModelInfo("tiny-bert", "masked-lm", True),
       ModelInfo("gpt2", "causal-lm", False)]


@pytest.fixture(autouse=True)
def tiny_models(monkeypatch, fresh_caches, bert_dir, gpt2_dir):  # noqa: F811
    folders = {"all-MiniLM-L6-v2": bert_dir, "tiny-bert": gpt2_dir}

    def model(name: str):
        if name not in folders:
            raise UserFacingError("lm.err.unavailable", name=name)
        return loading.load_model(folders[name])

    translators = {n: tiny_translator(n, a, i) for i, (n, a) in enumerate(TINY)}
    infos = [ModelInfo(n, "seq2seq", True, "", "en", "fr", a) for n, a in TINY]
    monkeypatch.setattr(loaders, "model_choices", lambda kinds: LMS)
    monkeypatch.setattr(loaders, "model", model)
    monkeypatch.setattr(loaders, "translator_choices", lambda: infos)
    monkeypatch.setattr(loaders, "translator", translators.__getitem__)


def open_page(lang: str = "en", **params: str) -> AppTest:
    return ran_cleanly(run_page(PAGE, lang, **params))


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_two_encoders_on_the_same_words(lang):
    at = open_page(lang)
    assert not at.error, texts(at.error)
    assert at.title[0].value == translate("cmp.title", lang)
    assert at.selectbox(key="cmp_lm_a").value == "all-MiniLM-L6-v2"
    assert at.selectbox(key="cmp_lm_b").value == "tiny-bert"
    assert len(charts(at)) == 3
    a, b, diff = chart(at, "cmp_map_a"), chart(at, "cmp_map_b"), chart(at, "cmp_diff")
    words = ["I", "am", "eating", "an", "apple", "."]  # the page's default sentence
    assert ticks(a) == ticks(b) == ticks(a, "yaxis") == ticks(diff) == words  # one word axis
    assert a["layout"]["title"]["text"] == translate(
        "cmp.map_title", lang, model="all-MiniLM-L6-v2", layer=0, head=translate("cmp.heads_mean", lang))
    found = metrics(at)
    assert 0 <= float(found[translate("cmp.agree.js", lang)]) <= 1
    assert found[translate("cmp.agree.top", lang)].endswith("%")
    assert found[translate("cmp.agree.rows", lang)] == str(len(words))
    causal = translate("cmp.causal", lang, model="tiny-bert")  # the GPT-2 one cannot look ahead
    assert causal in texts(at.caption)


def test_a_link_restores_text_models_layers_and_heads():
    text = "the cat sat on the mat ."
    at = open_page("en", text=text, a="tiny-bert", b="all-MiniLM-L6-v2", layer_a="1", head_a="2",
                   layer_b="1", head_b="-1")
    assert not at.error
    assert at.text_area(key="cmp_text").value == text
    assert at.selectbox(key="cmp_lm_a").value == "tiny-bert"
    assert at.selectbox(key="cmp_lm_b").value == "all-MiniLM-L6-v2"
    assert at.selectbox(key="cmp_layer_a").value == 1 and at.selectbox(key="cmp_head_a").value == 2
    assert at.selectbox(key="cmp_layer_b").value == 1 and at.selectbox(key="cmp_head_b").value == -1
    assert chart(at, "cmp_map_a")["layout"]["title"]["text"] == "tiny-bert · layer 1, head 2"
    at.selectbox(key="cmp_head_b").set_value(3).run()
    assert at.query_params["head_b"] == ["3"] or at.query_params["head_b"] == "3"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_two_translators_side_by_side(lang):
    at = open_page(lang, mode="translate", text="the cat is sleeping on the bed .")
    assert not at.error, texts(at.error)
    assert at.radio(key="cmp_mode").value == "translate"
    assert at.selectbox(key="cmp_translate_a").value == "s2s-en-fr-bahdanau"
    assert at.selectbox(key="cmp_translate_b").value == "s2s-en-fr-luong"  # no-attention model left out
    assert "s2s-en-fr-plain" not in at.selectbox(key="cmp_translate_a").options
    assert len(charts(at)) == 2
    a, b = chart(at, "cmp_tr_map_a"), chart(at, "cmp_tr_map_b")
    assert ticks(a) == ticks(b) == ["the", "cat", "is", "sleeping", "on", "the", "bed", "."]
    prefix = translate("cmp.tr.translation", lang, text="")
    assert sum(m.value.startswith(prefix) for m in at.markdown) == 2
    found = metrics(at)
    assert {translate(k, lang) for k in ("cmp.tr.shared", "cmp.tr.top", "cmp.tr.coverage")} <= set(found)
    assert 0 <= float(found[translate("cmp.tr.coverage", lang)]) <= 1


def test_a_translator_link_is_restored_and_a_new_mode_starts_fresh():
    at = open_page("en", mode="translate", a="s2s-en-fr-luong", b="s2s-en-fr-bahdanau")
    assert at.selectbox(key="cmp_translate_a").value == "s2s-en-fr-luong"
    assert at.selectbox(key="cmp_translate_b").value == "s2s-en-fr-bahdanau"
    at.radio(key="cmp_mode").set_value("lm").run()
    assert not at.exception
    assert "a" not in at.query_params and "b" not in at.query_params
    assert at.selectbox(key="cmp_lm_a").value == "all-MiniLM-L6-v2"


def test_empty_text_asks_for_a_sentence():
    at = open_page("ko")
    at.text_area(key="cmp_text").set_value("   ").run()
    assert translate("cmp.empty", "ko") in texts(at.info)
    assert not at.get("plotly_chart")


def test_unknown_and_missing_models_give_the_usual_messages():
    at = open_page("en", a="no-such-model")
    assert translate("errors.unknown_model", "en", name="no-such-model") in texts(at.warning)
    assert at.selectbox(key="cmp_lm_a").value == "all-MiniLM-L6-v2"  # the default instead
    at.selectbox(key="cmp_lm_b").set_value("gpt2").run()  # listed, but not downloaded
    assert not at.exception
    assert texts(at.error) == [translate("lm.err.unavailable", "en", name="gpt2")]
    assert len(at.get("plotly_chart")) == 0  # nothing to compare with


def test_korean_into_an_english_vocabulary_is_reported():
    at = open_page("ko", text="고양이가 침대에서 잔다.")
    warnings = texts(at.warning)
    assert translate("cmp.notice.blind", "ko", name=md_escape("all-MiniLM-L6-v2")) in warnings  # params escaped
    assert any("[UNK]" in w for w in warnings)  # the model's own notice (lm.notice.hangul_lost)


def test_long_text_is_truncated_with_notices():
    at = open_page("en", text=" ".join(["the cat sat on the mat ."] * 20))
    assert not at.exception and not at.error
    warnings = texts(at.warning)
    assert any(w.startswith(translate("errors.text_truncated", "en", kept=0, total=0)[:12]) for w in warnings)
    cut = [w for w in warnings if w.startswith("The sentence was too long")]
    assert len(cut) == 1
    assert len(ticks(chart(at, "cmp_map_a"))) < 140


def test_hostile_text_reaches_the_charts_escaped():
    at = open_page("en", text=HOSTILE)
    assert not at.exception
    for spec in (c.proto.spec for c in at.get("plotly_chart")):
        assert "<script" not in spec and "<img" not in spec
    at.radio(key="cmp_mode").set_value("translate").run()
    assert not at.exception
    assert all("<script" not in m.value and "<img" not in m.value for m in at.markdown)
