"""Shareable state (ui.url_state), the step control (ui.steps) and the view settings
(colour scale, picture format) headless: a link reopens the same values; bad links fall
back to defaults with a notice, never a traceback."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lmcore.i18n import translate

SCRIPT = '''
import streamlit as st
from ui import url_state
from ui.steps import autoplay, stepper
text = st.text_area("text", key=url_state.field("k_text", "text", "hello"))
layer = st.selectbox("layer", range(4), key=url_state.field("k_layer", "layer", 0, choices=range(4)))
flag = st.toggle("flag", key=url_state.field("k_flag", "flag", False))
step = stepper("k_step", 5, signature=(text,), play=True)
st.write(f"step={step}")
autoplay("k_step", 5)
'''


@pytest.fixture
def app(tmp_path: Path):
    path = tmp_path / "page.py"
    path.write_text(SCRIPT, encoding="utf-8")

    def open_with(**params: str) -> AppTest:
        at = AppTest.from_file(str(path), default_timeout=30)
        at.query_params.update(params)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at
    return open_with


def shown_step(at: AppTest) -> int:
    return int(next(m.value for m in at.markdown if m.value.startswith("step=")).split("=")[1])


def test_a_link_restores_every_value(app):
    at = app(text="나는 학교에 간다 😀", layer="3", flag="1", step="4", lang="ko")
    assert at.text_area[0].value == "나는 학교에 간다 😀"
    assert at.selectbox[0].value == 3 and at.toggle[0].value is True and shown_step(at) == 4
    assert not at.toast


def test_changes_are_written_back_and_defaults_left_out(app):
    at = app()
    assert dict(at.query_params) == {}
    at.selectbox[0].set_value(2).run()
    at.text_area[0].set_value("</script><b>x</b>").run()
    assert at.query_params["layer"] == "2" and at.query_params["text"] == "</script><b>x</b>"
    at.selectbox[0].set_value(0).run()
    assert "layer" not in at.query_params  # the default keeps links short


@pytest.mark.parametrize("params", [{"layer": "9"}, {"layer": "one"}, {"flag": "maybe"},
                                    {"step": "0"}, {"step": "2.5"}, {"text": "x" * 2001}])
def test_a_bad_value_falls_back_to_the_default_with_a_translated_notice(app, params):
    at = app(lang="ko", **params)
    param = next(iter(params))
    assert at.toast[0].value == translate("url.refused", "ko", param=param)
    assert at.selectbox[0].value == 0 and shown_step(at) == 1 and at.text_area[0].value == "hello"


def test_text_too_long_for_a_url_is_kept_out_of_it(app):
    at = app()
    at.text_area[0].set_value("y" * 3000).run()
    assert "text" not in at.query_params and not at.exception


def test_keyboard_buttons_step_and_a_new_text_starts_again(app, monkeypatch):
    import ui.steps
    monkeypatch.setattr(ui.steps, "PLAY_SECONDS", 0.0)
    at = app(step="2")
    shortcuts = {b.key: b.proto.shortcut for b in at.button}
    assert shortcuts["k_step_back"] == "left" and shortcuts["k_step_next"] == "right"
    assert shortcuts["k_step_first"] == "home" and shortcuts["k_step_last"] == "end"
    at.button(key="k_step_next").click().run()
    assert shown_step(at) == 3 and at.query_params["step"] == "3"
    at.button(key="k_step_last").click().run()
    assert shown_step(at) == 5 and at.button(key="k_step_next").disabled
    at.button(key="k_step_first").click().run()
    assert shown_step(at) == 1 and "step" not in at.query_params
    at.button(key="k_step_play_button").click().run()  # plays to the end by itself
    assert shown_step(at) == 5
    at.text_area[0].set_value("another sentence").run()
    assert shown_step(at) == 1


def test_view_settings_come_from_the_link_and_reach_every_chart():
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=60)
    at.query_params.update(scale="contrast", img="svg", lang="ko")
    at.run()
    at.switch_page("pages/attention_basics.py").run()
    assert not at.exception
    assert at.selectbox(key="view_colour_scale").value == "contrast"
    assert at.radio(key="view_picture_format").value == "svg"
    charts = at.get("plotly_chart")
    assert charts
    for element in charts:
        config = json.loads(element.proto.config)
        assert config["toImageButtonOptions"]["format"] == "svg"
    assert not at.get("download_button")  # the Numbers menus are lazy: no buttons while closed
    key = charts[0].proto.id.split("-", 2)[-1]
    at.session_state[f"{key}_numbers"] = True  # open the first chart's menu
    at.run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert translate("export.csv", "ko") in labels and translate("export.json", "ko") in labels


def test_chart_draws_in_the_chosen_scale(tmp_path):
    path = tmp_path / "chart.py"
    path.write_text("""
import numpy as np
from lmcore.views import plots
from lmcore.record import AttentionMaps
from ui.export_widgets import chart
maps = AttentionMaps(np.full((1, 1, 2, 2), 0.5, np.float32), ("a", "b"), ("a", "b"), "self")
chart(plots.attention_heatmap(maps), key="one")
""", encoding="utf-8")
    at = AppTest.from_file(str(path), default_timeout=30)
    at.query_params.update(scale="contrast")
    at.run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["colorscale"][0] == [0.0, "#ffffff"]
    assert json.loads(at.get("plotly_chart")[0].proto.config)["toImageButtonOptions"].get("format", "png") == "png"
    # a heatmap draws in its own scale: no template at all (the front end applies the theme)
    assert spec["layout"]["template"] == {}
    assert spec["data"][0]["x"] == ["a", "b"] and spec["layout"]["xaxis"]["type"] == "category"  # unique tokens
    assert not at.get("download_button")  # lazy Numbers menu
