"""ui.wire: what st.plotly_chart sends is the same picture in fewer bytes (issue 12)."""
from __future__ import annotations

import base64
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


def maps(n: int = 3, tokens: str = "abcdefghijklmnopqrstuvwxyz") -> AttentionMaps:
    w = np.random.default_rng(0).dirichlet(np.ones(n), size=(1, 2, n)).astype(np.float32)
    return AttentionMaps(w, tuple(tokens[:n]), tuple(tokens[:n]), "self")


def test_a_heatmap_goes_with_a_named_scale_no_template_and_no_counting_axes():
    fig = plots.attention_heatmap(maps(3, "aba"), 0, 1)  # a repeated token: the axes keep their ticks
    sent = spec(wire.for_browser(fig, CYCLE))
    trace = sent["data"][0]
    assert trace["colorscale"] == "Viridis"
    assert "x" not in trace and "y" not in trace
    assert sent["layout"]["template"] == {}
    assert sent["layout"]["xaxis"]["ticktext"] == ["a", "b", "a"]  # the tokens still name the cells
    assert "showticklabels" not in sent["layout"]["xaxis"]  # true is plotly.js's default
    hidden = go.Figure(go.Heatmap(z=[[0, 1]]), layout={"xaxis": {"showticklabels": False}})
    assert spec(wire.for_browser(hidden, CYCLE))["layout"]["xaxis"]["showticklabels"] is False
    assert len(json.dumps(sent)) < len(pio.to_json(fig, validate=False))


def decoded(array: dict) -> np.ndarray:
    flat = np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"]))
    return flat.reshape([int(n) for n in array["shape"].split(",")])


def test_an_attention_map_goes_as_whole_percents_one_byte_a_cell():
    fig = plots.attention_heatmap(maps(16), 0, 1, weight_label="Weight")
    trace, original = spec(wire.for_browser(fig, CYCLE))["data"][0], spec(fig)["data"][0]
    assert trace["z"]["dtype"] == "u1" and original["z"]["dtype"] == "f4"
    np.testing.assert_array_equal(decoded(trace["z"]), np.rint(decoded(original["z"]).astype(np.float64) * 100))
    assert (trace["zmin"], trace["zmax"]) == (0, 100)  # the same colours for the same weights
    assert trace["hovertemplate"].endswith("Weight: %{z}%<extra></extra>")
    assert trace["colorbar"] == {"title": {"text": "Weight"}, "ticksuffix": "%"}
    assert len(trace["z"]["bdata"]) < len(original["z"]["bdata"]) / 3.5


def test_maps_that_percents_would_change_keep_their_floats():
    masked = plots.attention_heatmap(maps(4), 0, 0, mask=np.triu(np.ones((4, 4), bool), 1))  # NaN gaps
    sent = spec(wire.for_browser(masked, CYCLE))["data"][0]
    assert sent["z"] == spec(masked)["data"][0]["z"] and sent["zmax"] == 1
    assert sent["hovertemplate"].endswith("%{z:.0%}<extra></extra>") and sent["colorbar"]["tickformat"] == ".0%"
    grid = spec(wire.for_browser(plots.attention_grid(maps(4)), CYCLE))
    axis = next(v for k, v in grid["layout"].items() if k.startswith("coloraxis"))
    assert axis["colorbar"]["tickformat"] == ".0%"  # the grid's colour bar reads like the maps' 
    signed = go.Figure(go.Heatmap(z=[[-0.5, 0.5]], zmin=-1, zmax=1, hovertemplate="%{z:.2f}"))
    labelled = go.Figure(go.Heatmap(z=[[0.2, 0.8]], zmin=0, zmax=1, hovertemplate="%{z}",
                                    text=[["a", "b"]], texttemplate="%{text}"))
    no_hover = go.Figure(go.Heatmap(z=[[0.2, 0.8]], zmin=0, zmax=1, hovertemplate="%{customdata}"))
    for fig in (signed, labelled, no_hover):
        assert spec(wire.for_browser(fig, CYCLE))["data"][0]["z"] == spec(fig)["data"][0]["z"]


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


def test_unique_labels_at_counting_positions_become_the_axis_categories():
    fig = plots.attention_heatmap(maps(3), 0, 0)  # tokens a, b, c: each names one position
    sent = spec(wire.for_browser(fig, CYCLE))
    trace, axis = sent["data"][0], sent["layout"]["xaxis"]
    assert trace["x"] == trace["y"] == ["a", "b", "c"]
    assert axis["type"] == "category" and not {"tickmode", "tickvals", "ticktext"} & set(axis)
    assert axis["dtick"] == 1 and "zeroline" not in axis  # every name shows; no zero line on categories
    assert sent["layout"]["yaxis"]["autorange"] == "reversed"  # the rest of the axis stays
    assert "showgrid" not in axis and "hoverongaps" not in trace  # a gapless map hides the grid
    bars = spec(wire.for_browser(plots.weights_bar(["x", "y"], [0.7, 0.3]), CYCLE))
    assert bars["data"][0]["x"] == ["x", "y"] and bars["layout"]["xaxis"]["type"] == "category"
    assert bars["layout"]["xaxis"]["showgrid"] is False  # bars do not cover the grid
    assert "showlegend" not in bars["layout"]  # one trace: plotly.js draws no legend anyway
    rows = [f"L{i // 12} H{i % 12}" for i in range(72)]
    many = spec(wire.for_browser(go.Figure(go.Heatmap(z=np.full((72, 2), 0.5), zmin=0, zmax=1, hovertemplate="%{z}"),
                                           layout={"yaxis": {"tickmode": "array", "tickvals": list(range(72)),
                                                             "ticktext": rows}}), CYCLE))
    assert many["data"][0]["y"] == rows and "dtick" not in many["layout"]["yaxis"]  # 72 rows: thinned
    digits = spec(wire.for_browser(plots.attention_heatmap(maps(2, "12"), 0, 0), CYCLE))
    assert digits["data"][0]["x"] == ["1", "2"] and digits["layout"]["xaxis"]["type"] == "category"


def test_shared_or_matched_axes_keep_their_ticks():
    from plotly.subplots import make_subplots
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True)
    for row in (1, 2):
        fig.add_trace(go.Bar(y=[1, 2]), row=row, col=1)
    fig.update_xaxes(tickmode="array", tickvals=[0, 1], ticktext=["p", "q"])
    sent = spec(wire.for_browser(fig, CYCLE))
    assert all("x" not in t or t["x"] != ["p", "q"] for t in sent["data"])
    assert sent["layout"]["xaxis2"]["ticktext"] == ["p", "q"]


def test_an_axis_shared_with_a_line_keeps_its_ticks():
    """The GPT page's bars and their cumulative line share x: categories would move the line."""
    fig = go.Figure([go.Bar(y=[0.5, 0.3], marker_color="red"), go.Scatter(x=[0, 1], y=[0.5, 0.8], mode="lines")],
                    layout={"xaxis": {"tickmode": "array", "tickvals": [0, 1], "ticktext": ["door", "table"]}})
    sent = spec(wire.for_browser(fig, CYCLE))
    assert sent["layout"]["xaxis"]["ticktext"] == ["door", "table"] and "type" not in sent["layout"]["xaxis"]
    assert "x" not in sent["data"][0] and sent["data"][1]["x"] == [0, 1]


def test_a_trace_name_goes_only_where_a_legend_or_a_hover_shows_it():
    fig = go.Figure([go.Bar(y=[1, 2], name="scores", hovertemplate="%{y}<extra></extra>"),
                     go.Bar(y=[3, 4], name="weights", hovertemplate="%{y}")])  # this hover shows it
    fig.update_layout(showlegend=False)
    sent = spec(wire.for_browser(fig, CYCLE))["data"]
    assert "name" not in sent[0] and sent[1]["name"] == "weights"
    fig.update_layout(showlegend=True)  # a legend lists both
    assert [t.get("name") for t in spec(wire.for_browser(fig, CYCLE))["data"]] == ["scores", "weights"]
    assert fig.data[0].name == "scores"  # the figure itself (its Numbers) keeps the names


def test_subplot_places_go_with_four_decimals_and_data_is_not_rounded():
    from plotly.subplots import make_subplots
    fig = make_subplots(rows=3, cols=1, subplot_titles=["a", "b", "c"])
    for row in (1, 2, 3):
        fig.add_trace(go.Scatter(x=[0.123456789, 1.0], y=[2.0, 0.987654321]), row=row, col=1)
    fig.add_trace(go.Heatmap(z=[[0.5]], colorbar=dict(len=1 / 3, y=1 / 7)), row=3, col=1)
    sent = spec(wire.for_browser(fig, CYCLE))
    layout = sent["layout"]
    assert layout["yaxis"]["domain"] == [round(fig.layout.yaxis.domain[0], 4), 1.0]
    assert all(len(str(a["y"])) <= 6 for a in layout["annotations"])
    assert sent["data"][3]["colorbar"]["len"] == 0.3333 and sent["data"][3]["colorbar"]["y"] == 0.1429
    assert sent["data"][0]["x"] == [0.123456789, 1.0] and sent["data"][0]["y"] == [2.0, 0.987654321]
