"""The numbers behind any plotly figure the app draws, as flat rows for CSV/JSON export.

    rows = figure_rows(fig)        # [{"series": ..., "row": ..., "column": ..., "value": ...}, ...]
    export.rows_to_csv(rows)       # spreadsheet-safe CSV (formula cells neutralised)

Heatmaps give one row per cell, labelled with the axis tick text (so tokens, not
positions); bars and lines give one row per point. Labels were HTML-escaped for
display (lmcore.views.plots) and are unescaped here: a CSV holds the text the user typed.
Masked cells (NaN, e.g. the upper triangle of a causal map) become empty values.
"""
from __future__ import annotations

import html
import math
from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go

from lmcore.views.legible import full_ticktext

DECIMALS = 6
HEATMAP_COLUMNS = ("series", "row", "column", "value")
POINT_COLUMNS = ("series", "x", "y", "label")


def _clean(value: Any) -> Any:
    """Plain JSON-able value: unescaped text, rounded finite floats, None for NaN."""
    if isinstance(value, str):
        return html.unescape(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(value) else round(float(value), DECIMALS)
    return value


def _axis_layout(fig: go.Figure, ref: str | None, letter: str) -> Any:
    """The layout axis a trace is drawn on: 'x2' → layout.xaxis2."""
    suffix = (ref or letter)[1:]
    return fig.layout[f"{letter}axis{suffix}"]


def _tick_labels(axis: Any, values: Sequence[Any] | None, n: int) -> list[Any]:
    """Each position's label: the axis tick text when the axis maps positions to words."""
    values = list(range(n)) if values is None else list(values)
    ticks = dict(zip(axis.tickvals or (), full_ticktext(axis) or ())) if axis is not None else {}
    return [ticks.get(v, v) for v in values]


def _series_name(fig: go.Figure, index: int, trace: Any) -> str:
    if trace.name:
        return _clean(trace.name)
    title = fig.layout.title.text if fig.layout.title else None
    base = _clean(title) if title else trace.type
    return base if len(fig.data) == 1 else f"{base} #{index + 1}"


def _heatmap_rows(fig: go.Figure, series: str, trace: Any) -> list[dict]:
    z = np.asarray(trace.z if trace.z is not None else [], dtype=float)
    if z.ndim != 2:
        return []
    rows_n, cols_n = z.shape
    xs = _tick_labels(_axis_layout(fig, trace.xaxis, "x"), trace.x, cols_n)
    ys = _tick_labels(_axis_layout(fig, trace.yaxis, "y"), trace.y, rows_n)
    return [{"series": series, "row": _clean(ys[i]), "column": _clean(xs[j]), "value": _clean(z[i, j])}
            for i in range(rows_n) for j in range(cols_n)]


def _point_rows(fig: go.Figure, series: str, trace: Any) -> list[dict]:
    xs = list(trace.x) if trace.x is not None else []
    ys = list(trace.y) if trace.y is not None else []
    n = max(len(xs), len(ys))
    xs = xs or list(range(n))
    ys = ys or list(range(n))
    text = trace.text if isinstance(trace.text, (list, tuple)) else [None] * n
    x_axis = _tick_labels(_axis_layout(fig, trace.xaxis, "x"), xs, len(xs))
    y_axis = _tick_labels(_axis_layout(fig, trace.yaxis, "y"), ys, len(ys))
    return [{"series": series, "x": _clean(x_axis[i]), "y": _clean(y_axis[i]),
             "label": _clean(text[i]) if i < len(text) else None} for i in range(n)]


def figure_rows(fig: go.Figure) -> list[dict]:
    """Every trace's numbers as flat rows: heatmap cells, bar and line points."""
    rows: list[dict] = []
    for index, trace in enumerate(fig.data):
        series = _series_name(fig, index, trace)
        if trace.type == "heatmap":
            rows += _heatmap_rows(fig, series, trace)
        elif trace.type in ("bar", "scatter", "scattergl"):
            rows += _point_rows(fig, series, trace)
    return rows


def figure_columns(rows: Sequence[dict]) -> list[str]:
    """Column order for a CSV of figure_rows: heatmap columns, then point columns, as present."""
    present = {key for row in rows for key in row}
    return [c for c in dict.fromkeys(HEATMAP_COLUMNS + POINT_COLUMNS) if c in present]
