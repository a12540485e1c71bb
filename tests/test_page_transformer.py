"""The Transformer page runs in English and Korean with the bundled translators."""
from pathlib import Path

import pytest

from lmcore.translation.translators import TRANSFORMERS, bundled_path
from tests.page_support import page_opener, titled_page

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "transformer.py")
PRESENT = [n for n in TRANSFORMERS if (bundled_path(n) / "config.json").is_file()]
needs_models = pytest.mark.skipif(not PRESENT, reason="no bundled Transformer yet")
open_page = page_opener(PAGE, timeout=120)


@pytest.mark.parametrize("lang,title", [("en", "The Transformer, head by head"),
                                        ("ko", "트랜스포머, 헤드별로 보기")])
def test_page_runs_in_both_languages(lang, title):
    at = titled_page(open_page, lang, title)
    if PRESENT:
        assert len(at.get("plotly_chart")) >= 6


@needs_models
@pytest.mark.parametrize("kind", ["decoder", "cross"])
def test_every_attention_kind_and_the_last_layer(kind):
    at = open_page("en")
    at.segmented_control(key="tf_kind").set_value(kind).run()
    layers = at.selectbox(key="tf_layer").options
    at.selectbox(key="tf_layer").set_value(layers[-1]).run()
    assert not at.exception and not at.error


@needs_models
@pytest.mark.parametrize("text,kind", [("", "error"), ("x " * 500, "info"),
                                       ("</script><img src=x onerror=alert(1)> 😀", None),
                                       ("나는 학생이다", "info")])
def test_bad_input(text, kind):
    at = open_page("ko")
    name = at.selectbox(key="tf_model").value
    at.text_input(key=f"tf_text_{name}").input(text).run()
    assert not at.exception
    if kind == "error":
        assert at.error
    elif kind == "info":
        assert at.info and any("\uac00" <= ch <= "\ud7a3" for ch in at.info[0].value)


@needs_models
def test_beam_search_runs():
    at = open_page("en")
    at.selectbox(key="tf_beam").set_value(3).run()
    assert not at.exception and not at.error


@needs_models
def test_the_one_head_map_comes_first_and_the_grid_is_one_clickable_mosaic():
    import json
    at = open_page("en")
    assert not at.exception and not at.error
    charts = at.get("plotly_chart")
    assert charts[0].proto.id.endswith("tf_one"), "the page opens on its main figure"
    grid = next(c for c in charts if c.proto.id.endswith("tf_grid"))
    figure = json.loads(grid.proto.spec)
    assert [d["type"] for d in figure["data"]] == ["heatmap", "scatter"]
    n_heads = len(at.selectbox(key="tf_head").options)
    assert len(figure["data"][1]["customdata"]) == n_heads
    assert json.loads(charts[0].proto.config)["toImageButtonOptions"]["filename"] == \
        f"attention-lab-transformer-{PRESENT[0]}-encoder-layer0-head0"
