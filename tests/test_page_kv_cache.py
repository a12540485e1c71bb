"""The "Key/value cache" page, pages/kv_cache.py (AppTest, both languages)."""
from __future__ import annotations

from pathlib import Path

import pytest

from lmcore.i18n import translate
from tests.page_support import assert_clean, chart, click, run_page, values

ROOT = Path(__file__).resolve().parent.parent
KV = str(ROOT / "pages" / "kv_cache.py")
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_kv_cache_page_steps_grow_the_cache(lang):
    at = run_page(KV, lang, timeout=240, model="tiny-gpt2", text="the cat sat", tokens="3")
    assert_clean(at)
    assert at.title[0].value == translate("kv.title", lang)
    grid = chart(at, "kv_grid")
    first = len(grid["data"])
    assert first == 4                                    # tiny-gpt2: one layer of 4 heads shown
    rows = values(grid["data"][0]["z"]).shape[0]
    click(at, "kv_step_next")
    assert values(chart(at, "kv_grid")["data"][0]["z"]).shape[0] == rows + 1
    assert any("e-0" in s.value or "0.0e+00" in s.value for s in at.success)  # the max difference
    growth = chart(at, "kv_growth")
    assert len(growth["data"]) == 3


def test_kv_cache_page_translator():
    at = run_page(KV, "en", timeout=240, model="tf-en-fr", text="the cat is here .")
    assert_clean(at)
    assert len(at.metric) == 4                           # + the source's keys/values, computed once


def test_kv_cache_page_opens_where_the_cache_wins_and_explains_a_small_gain(monkeypatch, fresh_caches):
    from lmcore.demos import kv_cache_steps
    from lmcore.pretrained import cache_steps

    at = run_page(KV, "en", timeout=240)
    assert_clean(at)
    assert (at.selectbox(key="kv_model").value, at.slider(key="kv_steps").value) == ("minilm-gpt", 16)
    assert cache_steps.gpt_steps("minilm-gpt", "The cat sat on the", 16).generated == 16  # no early [SEP]
    monkeypatch.setattr(cache_steps, "best_seconds", lambda fn: 0.1)  # a tie: 1.00x
    monkeypatch.setattr(kv_cache_steps, "best_seconds", lambda fn: 0.1)
    at = run_page(KV, "ko", timeout=240, text="the cat sat", tokens="2")
    assert_clean(at)
    why = " ".join([translate("kv.small_gain", "ko", n=2), translate("kv.try_longer", "ko", tokens=16)])
    assert why in [c.value for c in at.caption]
    at = run_page(KV, "en", timeout=240, model="tf-en-fr", text="the cat is here .", tokens="16")
    assert_clean(at)
    steps = kv_cache_steps.translator_steps("tf-en-fr", "the cat is here .").generated
    assert steps < 16, "a translator ends at <eos>"
    why = " ".join([translate("kv.small_gain", "en", n=steps), translate("kv.ended_early", "en", n=steps)])
    assert why in [c.value for c in at.caption]
