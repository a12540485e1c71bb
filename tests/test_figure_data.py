"""The numbers behind every chart (lmcore.views.figure_data) and the colour-scale switch
(lmcore.views.colour_scales): pure functions on plotly figures, no Streamlit."""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import plotly.graph_objects as go

from lmcore.views import export
from lmcore.views import plots
from lmcore.views.colour_scales import SCALES, recolor
from lmcore.views.figure_data import figure_columns, figure_rows
from lmcore.record import AttentionMaps
from lmcore.views.matrices import matrix_heatmap

HOSTILE = "</script><img src=x onerror=alert(1)>"


def causal_maps() -> AttentionMaps:
    w = np.tril(np.ones((1, 2, 3, 3), dtype=np.float32))
    w /= w.sum(-1, keepdims=True)
    return AttentionMaps(w, ("the", HOSTILE, "the"), ("the", HOSTILE, "the"), "causal")


def test_heatmap_rows_carry_the_tokens_typed_not_positions_or_escapes():
    rows = figure_rows(plots.attention_heatmap(causal_maps(), 0, 1, title="L0 H1"))
    assert len(rows) == 9 and figure_columns(rows) == ["series", "row", "column", "value"]
    assert {r["row"] for r in rows} == {"the", HOSTILE}  # unescaped: the text the user typed
    by_cell = {(i // 3, i % 3): r for i, r in enumerate(rows)}
    assert by_cell[(1, 1)]["value"] == 0.5 and by_cell[(1, 0)]["column"] == "the"
    assert by_cell[(0, 2)]["value"] is None  # masked (upper triangle) cells are empty, not 0


def test_grid_rows_name_each_layer_and_head():
    maps = AttentionMaps(np.full((2, 2, 2, 2), 0.5, np.float32), ("a", "b"), ("a", "b"), "self")
    rows = figure_rows(plots.attention_grid(maps, layer_label="Layer", head_label="Head"))
    assert len(rows) == 16
    assert {r["series"] for r in rows} == {f"Layer {la} · Head {h}" for la in (0, 1) for h in (0, 1)}


def test_bars_and_lines_give_one_row_per_point():
    bar = plots.weights_bar(["a", "=1+1"], [0.25, 0.75], title="w")
    rows = figure_rows(bar)
    assert [(r["x"], r["y"]) for r in rows] in ([("a", 0.25), ("=1+1", 0.75)], [(0.25, "a"), (0.75, "=1+1")])
    line = go.Figure([go.Scatter(x=[1, 2], y=[0.5, float("nan")], name="loss")])
    assert figure_rows(line) == [{"series": "loss", "x": 1, "y": 0.5, "label": None},
                                 {"series": "loss", "x": 2, "y": None, "label": None}]


def test_csv_of_a_figure_neutralises_formula_cells_and_json_round_trips():
    bar = plots.weights_bar(["=HYPERLINK(\"http://x\")", "@SUM(A1)", "ok"], [0.2, 0.3, 0.5])
    rows = figure_rows(bar)
    table = list(csv.DictReader(io.StringIO(export.rows_to_csv(rows, figure_columns(rows)).decode("utf-8-sig"))))
    cells = [v for row in table for v in row.values()]
    assert not any(c.startswith(("=", "@", "+", "-")) for c in cells), cells
    back = json.loads(export.rows_to_json(rows))
    assert back == rows and any("ok" in row.values() for row in back)


def test_figures_without_data_traces_give_no_rows():
    assert figure_rows(go.Figure()) == []
    assert figure_rows(go.Figure(go.Pie(values=[1, 2]))) == []


def test_recolor_swaps_sequential_scales_and_keeps_diverging_ones():
    heat = plots.attention_heatmap(causal_maps())
    grid = plots.attention_grid(causal_maps())
    signed = matrix_heatmap(np.array([[-1.0, 1.0]]), title="pe")
    before = signed.data[0].colorscale
    for name in SCALES:
        recolor(heat, name), recolor(grid, name), recolor(signed, name)
    assert heat.data[0].colorscale == go.Heatmap(colorscale=SCALES["contrast"]).colorscale
    assert grid.layout.coloraxis.colorscale == heat.data[0].colorscale
    assert signed.data[0].colorscale == before  # red-blue for signs keeps its meaning
    recolor(heat, "no-such-scale")  # unknown names change nothing
    assert heat.data[0].colorscale == go.Heatmap(colorscale=SCALES["contrast"]).colorscale


def test_recolor_to_the_default_leaves_the_figure_alone():
    heat = plots.attention_heatmap(causal_maps())
    before = heat.to_plotly_json()
    assert recolor(heat, "viridis").to_plotly_json() == before
