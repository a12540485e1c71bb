"""ui.wire: what st.plotly_chart sends is the same picture in fewer bytes (issue 12)."""
from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from lmcore.record import AttentionMaps
from lmcore.views import plots
from lmcore.views.colour_scales import recolor
from ui import wire

CYCLE = tuple(f"#{i:06d}" for i in range(1, 11))


def spec(fig: go.Figure) -> dict:
    return json.loads(pio.to_json(fig, validate=False))


def maps(n: int = 3) -> AttentionMaps:
    w = np.random.default_rng(0).dirichlet(np.ones(n), size=(1, 2, n)).astype(np.float32)
    return AttentionMaps(w, tuple("abc"[:n]), tuple("abc"[:n]), "self")


def test_a_heatmap_goes_with_a_named_scale_no_template_and_no_counting_axes():
    fig = plots.attention_heatmap(maps(), 0, 1)
    sent = spec(wire.for_browser(fig, CYCLE))
    trace = sent["data"][0]
    assert trace["colorscale"] == "Viridis"
    assert "x" not in trace and "y" not in trace
    assert sent["layout"]["template"] == {}
    assert sent["layout"]["xaxis"]["ticktext"] == ["a", "b", "c"]  # the tokens still name the cells
    assert "showticklabels" not in sent["layout"]["xaxis"]  # true is plotly.js's default
    hidden = go.Figure(go.Heatmap(z=[[0, 1]]), layout={"xaxis": {"showticklabels": False}})
    assert spec(wire.for_browser(hidden, CYCLE))["layout"]["xaxis"]["showticklabels"] is False
    assert len(json.dumps(sent)) < len(pio.to_json(fig, validate=False))
    # the same numbers, in the same cells
    z, original = trace["z"], spec(fig)["data"][0]["z"]
    assert z == original  # the same typed array: dtype, bytes and shape


def test_the_original_figure_is_untouched():
    fig = plots.attention_heatmap(maps(), 0, 0)
    before = pio.to_json(fig, validate=False)
    wire.for_browser(fig, CYCLE)
    assert pio.to_json(fig, validate=False) == before


def test_scales_plotly_js_draws_otherwise_stay_as_stops():
    fig = recolor(plots.attention_heatmap(maps(), 0, 0), "contrast")
    trace = spec(wire.for_browser(fig, CYCLE))["data"][0]
    assert isinstance(trace["colorscale"], list) and trace["colorscale"][0] == [0.0, "#ffffff"]
    blues = go.Figure(go.Heatmap(z=[[0, 1]], colorscale="Blues"))  # plotly.js's Blues is another scale
    assert isinstance(spec(wire.for_browser(blues, CYCLE))["data"][0]["colorscale"], list)
    cividis = go.Figure(go.Heatmap(z=[[0, 1]], colorscale="Cividis"))
    assert spec(wire.for_browser(cividis, CYCLE))["data"][0]["colorscale"] == "Cividis"


def test_the_colour_cycle_stays_for_traces_without_a_colour_of_their_own():
    lines = go.Figure(go.Scatter(x=[0, 1], y=[1, 2], mode="lines"))
    assert spec(wire.for_browser(lines, CYCLE))["layout"]["template"] == {"layout": {"colorway": list(CYCLE)}}
    coloured = go.Figure(go.Scatter(x=[0, 1], y=[1, 2], mode="lines", line_color="#123456"))
    assert spec(wire.for_browser(coloured, CYCLE))["layout"]["template"] == {}
    bars = go.Figure(go.Bar(x=[0, 1, 2], y=[1, 2, 3]))  # no marker colour: the cycle colours it
    sent = spec(wire.for_browser(bars, CYCLE))
    assert sent["layout"]["template"]["layout"]["colorway"] == list(CYCLE)
    assert "x" not in sent["data"][0]


def test_positions_that_do_not_just_count_are_kept():
    bars = go.Figure(go.Bar(x=[1, 2, 3], y=[1, 2, 3], marker_color="red"))
    assert spec(wire.for_browser(bars, CYCLE))["data"][0]["x"] == [1, 2, 3]
    hbars = go.Figure(go.Bar(x=[0.5, 0.2], y=[0, 1], orientation="h", marker_color="red"))
    sent = spec(wire.for_browser(hbars, CYCLE))["data"][0]
    assert "y" not in sent and sent["x"] == [0.5, 0.2]
    named = go.Figure(go.Heatmap(z=[[0, 1]], x=["a", "b"]))
    assert spec(wire.for_browser(named, CYCLE))["data"][0]["x"] == ["a", "b"]
