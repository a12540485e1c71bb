"""ui.seq2seq_widgets.quality_caption: every translation page shows the chosen model's measured
quality, read from its files (issue 11)."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lmcore.i18n import translate
from lmcore.translation.translators import load_translator
from tests.page_support import run_page
from ui import loaders

ROOT = Path(__file__).resolve().parent.parent

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.mark.parametrize("page, model", [("pages/translate_steps.py", "s2s-ko-en-bahdanau"),
                                         ("pages/transformer.py", "tf-ko-en"),
                                         ("pages/transformer.py", "tf-en-fr"),
                                         ("pages/self_attention.py", "tf-ko-en"),
                                         ("pages/kv_cache.py", "tf-ko-en"),
                                         ("pages/heads_off.py", "tf-ko-en")])
def test_the_page_says_how_good_its_model_is(page, model):
    quality = loaders.translator_quality(model)
    assert quality is not None and quality["short"] is not None
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(lang="ko", model=model)
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    shown = [c.value for c in at.caption if "BLEU" in c.value]
    assert len(shown) == 1
    assert f"BLEU {quality['short']}" in shown[0] and f"{quality['held_out_pairs']}개" in shown[0]


def test_the_compare_page_says_it_for_each_translator():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(lang="en", mode="translate", a="s2s-ko-en-bahdanau", b="tf-ko-en",
                           text="나는 영어를 공부한다.")
    at.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    shown = [c.value for c in at.caption if "BLEU" in c.value]
    assert len(shown) == 2
    assert f"BLEU {loaders.translator_quality('s2s-ko-en-bahdanau')['short']}" in shown[0]


def test_a_model_without_scores_has_no_quality_line():
    assert loaders.translator_quality("no-such-model") is None


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_translation_says_how_sure_the_model_is(lang):
    """Issue 26 item 4: the Transformer page's translation carries the model's confidence, and
    an unsure or likely wrong one is a warning box, in the page's language."""
    at = run_page(str(ROOT / "pages" / "transformer.py"), lang, timeout=120, text="저는 매일 아침 커피를 마셔요.",
                  model="tf-ko-en")
    result = load_translator("tf-ko-en").translate("저는 매일 아침 커피를 마셔요.")
    expected = translate(f"s2s.confidence.{result.verdict}", lang, percent=round(100 * result.confidence))
    shown = [w.value for w in at.warning] + [c.value for c in at.caption]
    assert any(expected.split("(")[0].strip() in text for text in shown)
    if result.verdict != "likely-right":
        assert any(expected.split("(")[0].strip() in w.value for w in at.warning)
