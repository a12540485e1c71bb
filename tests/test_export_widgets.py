"""ui.export_widgets: one "Numbers" menu for a fragment's charts, drawn outside the fragment (issue 12)."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

SCRIPT = """
import streamlit as st
import plotly.graph_objects as go
from ui.export_widgets import chart, view_fragment

@view_fragment("demo_view")
def view():
    step = st.number_input("step", 1, 5, key="step")
    chart(go.Figure(go.Bar(y=[step, 2], marker_color="red")), key="bars", filename=f"bars-step{step}")
    chart(go.Figure(go.Heatmap(z=[[step, 1]])), key="map", filename=f"map-step{step}")

view()
chart(go.Figure(go.Bar(y=[1], marker_color="red")), key="alone", filename="alone")
"""


def popovers(at: AppTest) -> list[str]:
    """The user keys of the page's popover blocks."""
    found, stack = [], [at._tree]
    while stack:
        node = stack.pop()
        stack.extend(getattr(node, "children", {}).values())
        proto = getattr(node, "proto", None)
        if proto is not None and type(proto).__name__ == "Block" and proto.WhichOneof("type") == "popover":
            found.append(proto.popover.id.split("-", 2)[-1])
    return found


def test_one_menu_for_the_fragment_and_its_own_menu_for_a_chart_outside(tmp_path):
    path = tmp_path / "menu.py"
    path.write_text(SCRIPT, encoding="utf-8")
    at = AppTest.from_file(str(path), default_timeout=30).run()
    assert not at.exception
    assert sorted(popovers(at)) == ["alone_numbers", "demo_view_numbers"]
    at.number_input(key="step").set_value(3).run()
    at.session_state["demo_view_numbers"] = True  # open the shared menu: a full run
    at.run()
    keys = sorted(b.proto.id.split("-", 2)[-1] for b in at.get("download_button"))
    assert keys == ["bars_csv", "bars_json", "map_csv", "map_json"]
    captions = [c.value for c in at.caption]
    assert "bars-step3" in captions and "map-step3" in captions  # the step shown, not the first
