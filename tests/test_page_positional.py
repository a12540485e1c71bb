"""The positional-encoding page runs in English and Korean; bad input gives messages."""
from pathlib import Path

import pytest

from tests.page_support import page_opener, titled_page

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "positional.py")
open_page = page_opener(PAGE, timeout=120)


@pytest.mark.parametrize("lang,title", [("en", "Positional encoding"), ("ko", "위치 인코딩")])
def test_page_runs_in_both_languages(lang, title):
    at = titled_page(open_page, lang, title)
    assert at.success, "without positions the page shows that order is invisible"


def test_positions_make_the_maps_differ():
    at = open_page("en")
    at.toggle(key="pos_with_positions").set_value(True).run()
    assert not at.exception and not at.success and at.info
    assert float(at.metric[0].value) > 0.01


def test_rows_beyond_the_table_give_a_notice():
    at = open_page("ko")
    at.number_input(key="pos_rows").set_value(4000).run()
    assert not at.exception
    assert at.warning and "4000" in at.warning[0].value


@pytest.mark.parametrize("text", ["", "cat", "</script><img src=x onerror=alert(1)>"])
def test_bad_sentences(text):
    at = open_page("en")
    at.text_input(key="pos_order_text").input(text).run()
    assert not at.exception
    if text != "</script><img src=x onerror=alert(1)>":
        assert at.error
