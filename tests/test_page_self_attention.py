"""The self-attention page runs in English and Korean, with real and random weights."""
from pathlib import Path

import pytest

from tests.page_support import page_opener, titled_page

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "self_attention.py")
open_page = page_opener(PAGE, timeout=120)


@pytest.mark.parametrize("lang,title", [("en", "Self-attention, step by step"),
                                        ("ko", "셀프 어텐션 단계별 보기")])
def test_page_runs_in_both_languages(lang, title):
    at = titled_page(open_page, lang, title)
    assert len(at.get("plotly_chart")) >= 9


def test_random_weights_are_labelled_and_causal_mask_runs():
    at = open_page("en")
    at.selectbox(key="sa_source").set_value("random").run()
    at.toggle(key="sa_causal").set_value(True).run()
    assert not at.exception and not at.error
    assert any("random" in w.value for w in at.warning)


@pytest.mark.parametrize("text,kind", [("", "error"), ("안녕하세요 😀 </script><img src=x onerror=alert(1)>", "info")])
def test_bad_input_gives_a_translated_message(text, kind):
    at = open_page("ko")
    at.text_area(key="sa_text_all-MiniLM-L6-v2").input(text).run()
    assert not at.exception
    messages = at.error if kind == "error" else at.info
    assert messages and any("\uac00" <= ch <= "\ud7a3" for ch in messages[0].value)


def test_every_weight_source_runs_in_korean():
    at = open_page("ko")
    options = at.selectbox(key="sa_source").options
    for i, label in enumerate(options):
        at.selectbox(key="sa_source").select_index(i).run()
        assert not at.exception and not at.error, label
