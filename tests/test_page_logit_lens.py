"""The logit-lens page (AppTest, both languages): the lens grid, the sinks view, URL state."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lmcore.i18n import translate
from lmcore.pretrained.logit_lens import logit_lens
from lmcore.pretrained import sinks
from lmcore.pretrained.encoding import attention
from tests.page_support import assert_clean, chart, chart_keys, run_page, ticks, values, weights

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "logit_lens.py")
HOSTILE = "</script><img src=x onerror=alert(1)>"


def open_page(lang: str = "en", **params: str):
    return run_page(PAGE, lang, timeout=120, **({"model": "tiny-gpt2"} | params))


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_lens_grid_shows_every_layer_and_position_with_the_models_own_top_row(lang):
    at = open_page(lang)
    assert_clean(at)
    assert at.title[0].value == translate("inside.title", lang)
    assert chart_keys(at) == ["inside_lens"]
    fig = chart(at, "inside_lens")
    z = values(fig["data"][0]["z"])
    text = at.text_input(key="inside_text").value
    lens = logit_lens("tiny-gpt2", text, top_k=5)
    assert z.shape == lens.top_probability.shape == (5, len(lens.tokens))  # tiny-gpt2: 4 layers + embeddings
    assert np.allclose(z, np.round(lens.top_probability, 3), atol=1e-3)
    assert fig["data"][0]["text"][-1] == [top[0].display for top in lens.layers[-1]]
    assert ticks(fig, "yaxis")[0] == translate("inside.lens.embeddings", lang)


def test_sinks_view_from_the_url_and_the_hide_switch():
    at = open_page("ko", view="sinks", layer="1", head="2")
    assert_clean(at)
    assert chart_keys(at) == ["inside_sinks", "inside_sink_map"]
    maps = attention("tiny-gpt2", at.text_input(key="inside_text").value).maps
    grid = weights(chart(at, "inside_sinks")["data"][0])  # whole percents on the wire
    assert np.allclose(grid, sinks.first_token_mass(maps), atol=0.006)  # 3 decimals, then whole percents
    full = weights(chart(at, "inside_sink_map")["data"][0])
    assert full.shape == (len(maps.key_tokens),) * 2
    at.toggle(key="inside_hide").set_value(True).run()
    assert_clean(at)
    hidden = weights(chart(at, "inside_sink_map")["data"][0])
    assert hidden.shape == (len(maps.key_tokens) - 1,) * 2
    assert np.allclose(np.nansum(hidden, axis=1), 1, atol=0.01)  # rows renormalised
    assert at.query_params["hide"] in ("1", ["1"]) and at.query_params["view"] in ("sinks", ["sinks"])


def test_masked_lm_reads_the_blank_and_the_question_is_live():
    at = open_page("en", model="tiny-bert", text="the king spoke to the [MASK] .")
    assert_clean(at)
    fig = chart(at, "inside_lens")
    assert "[MASK]" in ticks(fig)
    (question,) = at.radio  # the live question: which layer first gets the blank right
    assert question.options[1:] == [translate("inside.lens.layer_option", "en", n=i) for i in (1, 2, 3, 4)]
    word = translate("lesson.logit-lens.live_q", "en", word="[MASK]", token="")
    assert word.split("‘’")[0] in at.expander[1].label.replace("\\", "")


def test_hostile_text_is_escaped_and_bad_input_is_a_translated_error():
    at = open_page("en", text=HOSTILE)
    assert_clean(at)
    dumped = json.dumps(chart(at, "inside_lens"), ensure_ascii=False).lower()
    assert "<img" not in dumped and "</script" not in dumped
    assert not any("<img" in c.value for c in at.caption)  # markdown captions: escaped
    at.text_input(key="inside_text").input("").run()
    assert not at.exception
    assert [e.value for e in at.error] == [translate("errors.empty_text", "en")]


def test_an_encoder_is_refused_with_a_clear_message():
    at = open_page("en", model="all-MiniLM-L6-v2")
    assert not at.exception  # the picker offers only GPT and masked LMs: the link falls back
    assert chart_keys(at) == ["inside_lens"]
