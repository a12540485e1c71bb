"""The "Translation step by step" page headless (AppTest) on tiny untrained translators,
and the pure step logic and figures of ui.seq2seq_widgets."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

from lmcore.catalog import ModelInfo
from lmcore.translation.checkpoints import Checkpoint
from lmcore.i18n import translate
from lmcore.seq2seq import Seq2Seq, Seq2SeqConfig
from lmcore.translation.text import Tokenizer, Vocab
from lmcore.translation.translators import Translator, step_maps
from ui import loaders
from ui.safe_text import md_escape
from ui import steps
from tests.page_support import ran_cleanly, run_page, texts

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "translate_steps.py")
SRC = "the cat is sleeping on bed . i am cold".split()
TGT = "le chat dort sur lit . j' ai froid".split()
HOSTILE = "</script><img src=x onerror=alert(1)>"
TINY = [("s2s-en-fr-plain", "none"), ("s2s-en-fr-bahdanau", "bahdanau"), ("s2s-en-fr-luong", "luong-general")]


def tiny_translator(name: str, attention: str, seed: int = 0) -> Translator:
    """An untrained 32-wide translator over a 14-word vocabulary (deterministic by seed)."""
    torch.manual_seed(seed)
    model = Seq2Seq(Seq2SeqConfig(len(SRC) + 4, len(TGT) + 4, 32, 32, attention=attention)).eval()
    ckpt = Checkpoint(model, Tokenizer("word", "en"), Tokenizer("word", "fr"), Vocab(SRC), Vocab(TGT),
                      {"data": {"max_src_tokens": 12}})
    return Translator(name, ckpt)


def use_tiny_models(monkeypatch, models=TINY) -> dict[str, Translator]:
    """The pages see tiny translators under the bundled names; caches emptied."""
    infos = [ModelInfo(n, "seq2seq", True, "", "en", "fr", a) for n, a in models]
    tiny = {n: tiny_translator(n, a, i) for i, (n, a) in enumerate(models)}
    monkeypatch.setattr(loaders, "translator_choices", lambda: infos)
    monkeypatch.setattr(loaders, "translator", tiny.__getitem__)
    st.cache_data.clear()
    return tiny


pytestmark = pytest.mark.usefixtures("fresh_caches")


def open_page(lang: str = "en", text: str | None = None) -> AppTest:
    at = run_page(PAGE, lang)
    if text is not None:
        at.text_area(key="s2sp_text_en").set_value(text).run()
    return ran_cleanly(at)


def shown_step(at: AppTest) -> str:
    """The step count in the step figure's title ("Step 2 of 5: ...")."""
    import json
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("s2sp_step_figure"))
    return json.loads(chart.proto.spec)["layout"]["title"]["text"].split(":")[0]


def step_of(lang: str, step: int, total: int) -> str:
    return translate("s2sp.steps.figure_title", lang, step=step, total=total, word="w", p="0").split(":")[0]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_steps_advance_back_reset_and_play_in_both_languages(monkeypatch, lang):
    use_tiny_models(monkeypatch)
    monkeypatch.setattr(steps, "PLAY_SECONDS", 0.0)
    at = open_page(lang, "i am cold .")
    assert at.title[0].value == translate("s2sp.steps.title", lang)
    assert not at.error
    n = len(loaders.translate("s2s-en-fr-bahdanau", "i am cold .").steps)
    assert n >= 2
    assert shown_step(at) == step_of(lang, step=1, total=n)
    at.button(key="s2sp_step_next").click().run()
    assert shown_step(at) == step_of(lang, step=2, total=n)
    assert at.query_params["step"] == "2"  # a shared link opens at this step
    at.button(key="s2sp_step_back").click().run()
    assert shown_step(at) == step_of(lang, step=1, total=n)
    at.button(key="s2sp_step_last").click().run()
    assert shown_step(at) == step_of(lang, step=n, total=n)
    at.button(key="s2sp_step_first").click().run()
    at.button(key="s2sp_step_play_button").click().run()  # reruns itself to the end
    assert not at.exception
    assert shown_step(at) == step_of(lang, step=n, total=n)
    assert translate("s2sp.steps.full_title", lang) in texts(at.subheader)  # drawn once, outside the step
    assert at.success  # the final translation
    at.button(key="s2sp_step_first").click().run()
    assert shown_step(at) == step_of(lang, step=1, total=n)
    # the step (scores, weights, top-5), the full alignment, two side-by-side alignments
    assert len(at.get("plotly_chart")) == 4


def test_beam_mode_shows_kept_beams_and_greedy_vs_beam(monkeypatch):
    use_tiny_models(monkeypatch)
    at = open_page("ko", "the cat is on the bed .")
    at.segmented_control(key="s2sp_mode").set_value("beam").run()
    at.slider(key="s2sp_beam").set_value(4).run()
    assert not at.exception and not at.error
    assert translate("s2sp.steps.beams_title", "ko", k=4) in [m.value.strip("*") for m in at.markdown]
    assert len(at.dataframe) == 2  # the beams kept at this step, greedy vs beam


def test_plain_model_has_no_attention_but_still_top_k(monkeypatch):
    use_tiny_models(monkeypatch)
    at = open_page()
    at.selectbox(key="s2sp_model").set_value("s2s-en-fr-plain").run()
    assert not at.exception and not at.error
    assert translate("s2s.no_attention_trace", "en") in texts(at.info)


@pytest.mark.parametrize("lang,text,notice", [
    ("en", HOSTILE + " 😀", "s2s.notice.all_unknown"),
    ("ko", HOSTILE + " 😀", "s2s.notice.all_unknown"),
    ("ko", "나는 고양이를 좋아해", "s2s.notice.unexpected_korean"),
    ("en", "the dog is cold", "s2s.notice.unknown_words"),
    ("ko", " ".join(["cat"] * 500), "errors.text_truncated"),
    ("en", "   ", "errors.empty_text"),
])
def test_bad_input_gives_a_translated_notice(monkeypatch, lang, text, notice):
    use_tiny_models(monkeypatch)
    at = open_page(lang, text)
    assert not at.exception and not at.error
    literal = max(translate(notice, lang).split("{")[0].split("}"), key=len)[:20]
    assert any(literal in warning.value for warning in at.warning), texts(at.warning)


def test_no_translator_available_gives_a_message(monkeypatch):
    monkeypatch.setattr(loaders, "translator_choices", lambda: [])
    at = open_page("ko")
    assert not at.exception and not at.error
    assert at.warning[0].value.startswith(translate("s2sp.model_missing", "ko").split("\"")[0])


def test_one_attention_model_says_the_comparison_needs_two(monkeypatch):
    use_tiny_models(monkeypatch, TINY[:2])
    at = open_page()
    assert translate("s2sp.steps.compare_missing", "en") in texts(at.info)


# ---------------------------------------------------------------- pure logic and figures
def test_advance_stays_within_the_steps():
    assert steps.advance(1, 5, "next") == 2 and steps.advance(5, 5, "next") == 5
    assert steps.advance(1, 5, "back") == 1 and steps.advance(4, 5, "back") == 3
    assert steps.advance(4, 5, "first") == 1 and steps.advance(2, 5, "last") == 5
    assert steps.advance(9, 5, "other") == 5 and steps.advance(3, 0, "next") == 0


def test_a_shared_link_opens_at_its_step_and_a_new_sentence_starts_again(monkeypatch):
    use_tiny_models(monkeypatch)
    at = run_page(PAGE, "ko", text="i am cold .", step="3", mode="beam", beam="4")
    assert not at.exception and not at.error
    n = len(loaders.translate("s2s-en-fr-bahdanau", "i am cold .", 4).steps)
    assert at.text_area(key="s2sp_text_en").value == "i am cold ."
    assert at.segmented_control(key="s2sp_mode").value == "beam" and at.slider(key="s2sp_beam").value == 4
    assert shown_step(at) == step_of("ko", step=min(3, n), total=n)
    at.text_area(key="s2sp_text_en").set_value("the cat is on the bed .").run()
    assert at.slider(key="s2sp_step").value == 1 and "step" not in at.query_params


@pytest.mark.parametrize("params", [{"step": "999"}, {"step": "x"}, {"beam": "-3"}, {"mode": "<b>"},
                                    {"model": "no-such-model"}, {"text": "a" * 5000}])
def test_a_bad_link_falls_back_to_defaults_with_a_notice(monkeypatch, params):
    use_tiny_models(monkeypatch)
    at = run_page(PAGE, "en", **params)
    assert not at.exception and not at.error
    assert at.toast and "link" in at.toast[0].value


def test_step_maps_rows_are_distributions_and_grow_row_by_row():
    result = tiny_translator("t", "luong-dot").translate("the cat is on bed .")
    maps = step_maps(result.steps, result.source_tokens)
    assert maps.weights.shape == (1, 1, len(result.steps), len(result.source_tokens))
    np.testing.assert_allclose(maps.weights.sum(-1), 1.0, atol=1e-5)
    assert maps.kind == "cross" and maps.query_tokens[0] == result.steps[0].token
    two = maps.select(queries=slice(2))
    assert two.weights.shape[2] == 2 and two.query_tokens == maps.query_tokens[:2]
    np.testing.assert_array_equal(two.weights[0, 0], maps.weights[0, 0, :2])
    assert step_maps(tiny_translator("p", "none").translate("cat").steps, ["cat"]) is None


def test_markdown_escape_neutralises_markup():
    out = md_escape(HOSTILE + " *bold* [x](y)")
    assert "<" not in out and "\\*bold\\*" in out and "\\[x\\]" in out


def test_korean_comparison_names_the_transformer_it_shows(monkeypatch):
    """For Korean the two attention models are Bahdanau and a Transformer: the title says so."""
    infos = [ModelInfo("s2s-ko-en-bahdanau", "seq2seq", True, "", "ko", "en", "bahdanau"),
             ModelInfo("tf-ko-en", "transformer", True, "", "ko", "en", "multi-head")]
    tiny = {"s2s-ko-en-bahdanau": tiny_translator("s2s-ko-en-bahdanau", "bahdanau", 0),
            "tf-ko-en": tiny_translator("tf-ko-en", "luong-general", 1)}
    monkeypatch.setattr(loaders, "translator_choices", lambda: infos)
    monkeypatch.setattr(loaders, "translator", tiny.__getitem__)
    st.cache_data.clear()
    for lang in ("ko", "en"):
        at = run_page(PAGE, lang, text="the cat is cold .")
        assert not at.exception
        headers = texts(at.subheader)
        assert translate("s2sp.steps.compare_title", lang) not in headers
        assert translate("s2sp.steps.compare_title_pair", lang, a=translate("s2sp.steps.family.bahdanau", lang),
                         b=translate("s2sp.steps.family.transformer", lang)) in headers


def test_bahdanau_vs_luong_keeps_its_title_and_exports_are_named_by_model_and_step(monkeypatch):
    import json
    use_tiny_models(monkeypatch)
    at = open_page("en", "i am cold .")
    assert translate("s2sp.steps.compare_title", "en") in texts(at.subheader)
    at.button(key="s2sp_step_next").click().run()
    names = {c.proto.id.rsplit("-", 1)[-1]: json.loads(c.proto.config)["toImageButtonOptions"]["filename"]
             for c in at.get("plotly_chart")}
    assert names["s2sp_step_figure"] == "attention-lab-translate-steps-s2s-en-fr-bahdanau-step2"
    assert names["s2sp_alignment"] == "attention-lab-translate-steps-s2s-en-fr-bahdanau-alignment"
    assert names["s2sp_cmp_map_1"] == "attention-lab-translate-steps-s2s-en-fr-luong-alignment"
