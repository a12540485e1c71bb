"""The GPT page (AppTest, both languages) and its pure helpers."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lmcore.i18n import translate
from lmcore.pretrained import nucleus
from lmcore.views import lens
from ui import lm_logic
from tests.page_support import assert_clean, chart, charts, run_page, texts, values, weights

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "gpt.py")
HOSTILE = "</script><img src=x onerror=alert(1)>"


def open_page(lang: str = "en", model: str | None = None, **params: str) -> AppTest:
    at = run_page(PAGE, lang, timeout=120, model="tiny-gpt2", **params)  # the smallest bundled GPT
    if model is not None:  # the picker sits on the page (not in the sidebar)
        at.selectbox(key="lmp_gpt_model").select(model).run()
    return at


def generated(at: AppTest) -> int:
    return at.session_state["lmp_gpt_steps"]


def bar_data(at: AppTest) -> tuple[np.ndarray, list[str]]:
    """(the bars' probabilities, their marker colours)."""
    bars = chart(at, "lmp_gpt_next")["data"][0]
    return values(bars["y"]), list(bars["marker"]["color"])


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_page_shows_next_token_distribution_first_and_the_causal_map_on_demand(lang):
    at = open_page(lang)  # bundled tiny-gpt2
    assert_clean(at)
    assert at.title[0].value == translate("lmp.gpt.title", lang)
    assert len(charts(at)) == 1  # the bars; generation shows none yet
    probabilities, colours = bar_data(at)
    assert len(probabilities) == 10 and np.all(np.diff(probabilities) <= 1e-9)
    assert 0 < probabilities.sum() <= 1 + 1e-6  # the model's probabilities, before renormalising
    assert set(colours) == {lens.IN_COLOUR}   # top-p 1: every token is in the nucleus
    assert at.info[0].value == translate("lmp.gpt.no_steps", lang)
    if lang == "en":  # a click (AppTest formats a segmented control's options in English only)
        at.segmented_control(key="lmp_gpt_view").set_value("causal").run()
    else:             # a shared link
        at = open_page(lang, view="causal")
    assert_clean(at)
    z = values(chart(at, "lmp_gpt_causal")["data"][0]["z"])  # (n, n), NaN above the diagonal
    assert np.isnan(z[np.triu_indices(len(z), 1)]).all()
    assert not np.isnan(z[np.tril_indices(len(z))]).any()


def test_old_links_with_a_layer_open_the_causal_map():
    at = open_page("en", layer="1", head="2")
    assert_clean(at)
    assert at.selectbox(key="lmp_gpt_layer").value == 1 and chart(at, "lmp_gpt_causal")


def test_top_k_slider_changes_the_number_of_bars():
    at = open_page("en")
    at.slider(key="lmp_gpt_topk").set_value(3).run()
    assert_clean(at)
    assert len(bar_data(at)[0]) == 3


def test_top_p_marks_the_nucleus_and_redraws_from_cached_logits(monkeypatch):
    at = open_page("en")
    before, _ = bar_data(at)
    calls = []  # the bars' one model call: it must not run again for a sampling control
    monkeypatch.setattr(nucleus, "next_token_logits",
                        lambda *a: calls.append(a) or pytest.fail("the model ran again"))
    at.slider(key="lmp_gpt_topp").set_value(0.5).run()
    assert_clean(at)
    after, colours = bar_data(at)
    assert np.allclose(before, after)  # same model probabilities: only the marks changed
    inside_n = colours.count(lens.IN_COLOUR)
    assert colours == [lens.IN_COLOUR] * inside_n + [lens.OUT_COLOUR] * (len(colours) - inside_n)
    assert after[:inside_n].sum() >= 0.5 - 1e-3 and after[:inside_n - 1].sum() < 0.5
    at.slider(key="lmp_gpt_temp").set_value(0.5).run()
    at.slider(key="lmp_gpt_topk").set_value(4).run()
    assert_clean(at)
    assert not calls and len(bar_data(at)[0]) == 4


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_step_adds_one_token_and_reset_clears(lang):
    at = open_page(lang)
    text_before = at.text[0].value
    at.button(key="lmp_gpt_step").click().run()
    assert_clean(at)
    assert generated(at) == 1 and at.text[0].value != text_before
    assert at.text[0].value.startswith(text_before)
    table = at.dataframe[0].value
    assert len(table) == 1
    step = chart(at, "lmp_gpt_step_figure")  # one figure: the candidates over the new token's row per head
    rivals, new_attention = step["data"]
    assert rivals["type"] == "bar" and new_attention["type"] == "heatmap"
    assert len(values(rivals["y"])) == 10
    z = weights(new_attention)  # whole percents on the wire: each cell within 0.005
    config = json.loads((Path(PAGE).parents[1] / "lmcore/assets/tiny-gpt2/config.json").read_text())
    heads = config.get("n_layer", 0) * config.get("n_head", 0)
    assert z.shape[0] == heads and np.allclose(np.nansum(z, axis=1), 1, atol=0.005 * z.shape[1])
    at.button(key="lmp_gpt_step").click().run()
    assert generated(at) == 2 and len(at.dataframe[0].value) == 2
    at.button(key="lmp_gpt_reset").click().run()
    assert_clean(at)
    assert generated(at) == 0 and at.text[0].value == text_before


def test_play_adds_several_tokens_and_changing_settings_restarts():
    at = open_page("en")
    at.slider(key="lmp_gpt_topp").set_value(0.9).run()
    at.button(key="lmp_gpt_play").click().run()
    assert_clean(at)
    assert generated(at) == 10 and len(at.dataframe[0].value) == 10
    at.slider(key="lmp_gpt_temp").set_value(0.5).run()
    assert generated(at) == 0


def test_same_seed_repeats_the_same_tokens():
    first, second = open_page("en"), open_page("en")
    for at in (first, second):
        at.button(key="lmp_gpt_play").click().run()
    assert first.text[0].value == second.text[0].value


def test_hostile_prompt_is_shown_as_text_and_escaped_in_figures():
    at = open_page("en")
    at.text_area(key="lmp_gpt_prompt").input(HOSTILE).run()
    at.button(key="lmp_gpt_step").click().run()
    assert_clean(at)
    assert at.text[0].value.startswith(HOSTILE)  # st.text: shown as plain text
    for decoded in charts(at):
        text = json.dumps(decoded, ensure_ascii=False).lower()
        assert "<img" not in text and "<script" not in text and "</script" not in text


def test_korean_prompt_works_with_a_byte_level_notice():
    at = open_page("ko")
    at.text_area(key="lmp_gpt_prompt").input("안녕하세요, 로미오").run()
    at.button(key="lmp_gpt_step").click().run()
    assert_clean(at)
    assert any("바이트" in w.value for w in at.warning)


@pytest.mark.parametrize("bad,key", [("", "errors.empty_text"), ("x" * 20_001, "lm.err.too_long")])
def test_bad_prompt_gives_a_translated_error(bad, key):
    at = open_page("ko")
    at.text_area(key="lmp_gpt_prompt").input(bad).run()
    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value == translate(key, "ko", chars=len(bad), limit=20_000)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_unavailable_hub_model_is_an_error_not_a_crash(lang):
    at = open_page(lang, "gpt2")
    assert not at.exception
    assert texts(at.error) == [translate("lm.err.unavailable", lang, name="gpt2")]


# ---------------------------------------------------------------- pure helpers
def test_next_steps_buttons():
    assert lm_logic.next_steps(3, "step", 10, 40) == 4
    assert lm_logic.next_steps(35, "play", 10, 40) == 40
    assert lm_logic.next_steps(40, "step", 10, 40) == 40
    assert lm_logic.next_steps(7, "reset", 10, 40) == 0
    assert lm_logic.next_steps(7, None, 10, 40) == 7


def test_rivals_text():
    class P:
        def __init__(self, display, probability):
            self.display, self.probability = display, probability
    assert lm_logic.rivals_text([P("the", 0.5), P("a", 0.25)]) == "the 0.50 · a 0.25"


def test_emoji_prompt_generates():
    at = open_page("en")
    at.text_area(key="lmp_gpt_prompt").input("ROMEO: 🐱❤️").run()
    at.button(key="lmp_gpt_step").click().run()
    assert_clean(at)
    assert generated(at) == 1 and at.text[0].value.startswith("ROMEO: 🐱❤️")


@pytest.mark.skipif(not (Path(PAGE).parents[1] / "lmcore/assets/minilm-gpt/config.json").is_file(),
                    reason="minilm-gpt is not trained here")
def test_minilm_caption_gives_the_real_budget_and_a_korean_data_line():
    at = run_page(PAGE, "ko", timeout=180, model="minilm-gpt")
    assert_clean(at)
    metrics = json.loads((Path(PAGE).parents[1] / "lmcore/assets/minilm-gpt/metrics.json").read_text())
    captions = " ".join(c.value for c in at.caption)
    assert f"{metrics['train_cpu_seconds'] / 60:.1f}분" in captions and " 0.0분" not in captions
    assert translate("inside.data.minilm-gpt", "ko") in captions and metrics["data"] not in captions


@pytest.mark.skipif(not (Path(PAGE).parents[1] / "lmcore/assets/minilm-gpt/config.json").is_file(),
                    reason="minilm-gpt is not trained here")
def test_default_generation_goes_past_one_word_and_shows_its_minimum():
    at = run_page(PAGE, "en", timeout=180)  # the page's own default model and prompt
    assert_clean(at)
    assert at.text_area(key="lmp_gpt_prompt").value == "My mother is a"
    assert at.number_input(key="lmp_gpt_min").value == 6
    at.button(key="lmp_gpt_play").click().run()
    assert_clean(at)
    assert generated(at) == 10
    shown = [e.value for e in at.get("text")]
    assert "My mother is a teacher. and then i can do the job" in shown, shown
