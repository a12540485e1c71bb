"""lmcore.views.legible: smallest fonts, a height cap, crowded token axes rotated or thinned
with every label kept on hover (issue 25, presentation mode)."""
from __future__ import annotations

import plotly.graph_objects as go

from lmcore.views.figure_data import figure_rows
from lmcore.views.legible import legible
from lmcore.views.plots import map_hover, token_axis


def _map(n: int, height: int = 400) -> go.Figure:
    labels = [f"tok{i}" for i in range(n)]
    fig = go.Figure(go.Heatmap(z=[[0.5] * n] * n, hovertemplate=map_hover("query", "key", "weight")))
    return fig.update_layout(height=height, xaxis=token_axis(labels), yaxis=token_axis(labels),
                             margin=dict(l=10, r=10, t=10, b=10))


def test_every_text_reaches_the_smallest_size():
    fig = _map(4)
    fig.update_layout(xaxis_tickfont_size=12, annotations=[dict(text="box", font=dict(size=14))])
    legible(fig, 20, 900)
    assert fig.layout.xaxis.tickfont.size == fig.layout.yaxis.tickfont.size == 20
    assert fig.layout.annotations[0].font.size == 20 and fig.layout.font.size == 20
    assert fig.layout.xaxis.ticktext == tuple(f"tok{i}" for i in range(4))  # room for all


def test_height_is_capped():
    assert legible(_map(4, height=900), 13, 900, max_height=500).layout.height == 500
    assert legible(_map(4, height=300), 13, 900, max_height=500).layout.height == 300


def test_crowded_axis_rotates_then_thins():
    fig = legible(_map(40, height=300), 20, 600)
    x, y = fig.layout.xaxis, fig.layout.yaxis
    assert x.tickangle == -90
    assert x.ticktext[0] == "tok0" and "" in x.ticktext and y.ticktext[1] == ""
    assert len(x.tickvals) == 40  # every position keeps its tick
    assert fig.data[0].customdata is None  # 1,600 cells: a label per cell would outweigh the map


def test_a_thinned_small_map_keeps_every_label_on_hover():
    fig = legible(_map(20, height=300), 20, 250)
    assert "" in fig.layout.xaxis.ticktext  # thinned
    trace = fig.data[0]
    assert "%{x}" not in trace.hovertemplate and "%{y}" not in trace.hovertemplate
    assert list(trace.customdata[3][7]) == ["tok3", "tok7"]


def test_fitting_twice_changes_nothing():
    fig = legible(_map(40, height=300), 20, 600)
    before = fig.to_plotly_json()
    assert legible(fig, 20, 600).to_plotly_json() == before


def test_the_numbers_keep_every_label():
    rows = figure_rows(legible(_map(40, height=300), 20, 600))
    assert {f"tok{i}" for i in range(40)} <= {v for row in rows for v in row.values()}
