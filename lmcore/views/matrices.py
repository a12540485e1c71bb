"""Pure plotly builders for the Transformer, self-attention-steps and positional pages.

Attention maps themselves go through `lmcore.views.plots` (attention_heatmap, attention_grid).
Here: signed matrices (Q, K, V, scores, encodings) on a diverging scale, waves of single
encoding dimensions, and the per-head summary. Labels are html-escaped and drawn at
integer positions (repeated tokens never merge); numbers are rounded for the browser.
"""
from __future__ import annotations

import html
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from lmcore.views.plots import escape_tokens, token_axis

DIVERGING = "RdBu_r"   # blue < 0 < red, white at 0
DECIMALS = 3
ROBUST_PERCENTILE = 99.5  # colour range of large signed matrices (outliers saturate)
HOVER_TEXT_LIMIT = 20_000  # cells above which hover shows row/column numbers, not labels


def _axis(labels: Sequence[str] | None, n: int, title: str | None, max_ticks: int = 40) -> dict:
    if labels is None:
        return dict(title=html.escape(title) if title else None, showgrid=False, zeroline=False)
    return token_axis(escape_tokens(labels), title, show=n <= max_ticks)


def matrix_heatmap(values: np.ndarray, row_labels: Sequence[str] | None = None,
                   col_labels: Sequence[str] | None = None, title: str | None = None,
                   row_title: str | None = None, col_title: str | None = None,
                   value_label: str = "value", symmetric: bool = True,
                   zmin: float | None = None, zmax: float | None = None,
                   colorscale: str = DIVERGING, height: int | None = None) -> go.Figure:
    """A (rows, cols) matrix with the number on hover; NaN cells are blank.

    symmetric: colour range centred on 0 (for signed numbers such as Q, K, scores).
    Row/column labels (tokens) sit at integer positions and are escaped.
    """
    z = np.round(np.asarray(values, dtype=np.float64), DECIMALS)
    n_rows, n_cols = z.shape
    finite = z[np.isfinite(z)]
    if symmetric and zmin is None and zmax is None:  # centred on 0; a few outliers may saturate
        bound = float(np.percentile(np.abs(finite), ROBUST_PERCENTILE if finite.size > 400 else 100)) \
            if finite.size else 1.0
        zmin, zmax = -(bound or 1.0), bound or 1.0
    r_lab = escape_tokens(row_labels) if row_labels is not None else [str(i) for i in range(n_rows)]
    c_lab = escape_tokens(col_labels) if col_labels is not None else [str(j) for j in range(n_cols)]
    v_l = html.escape(value_label)
    hover: dict = dict(hovertemplate=f"%{{y}} · %{{x}}<br>{v_l}: %{{z:.{DECIMALS}f}}<extra></extra>")
    if z.size <= HOVER_TEXT_LIMIT:  # name the tokens; big matrices show indices (lighter page)
        hover = dict(text=[[f"{r} · {c}<br>{v_l}: " + ("–" if np.isnan(v) else f"{v:.{DECIMALS}f}")
                            for c, v in zip(c_lab, row)] for r, row in zip(r_lab, z)],
                     hovertemplate="%{text}<extra></extra>")
    fig = go.Figure(go.Heatmap(z=z, x=list(range(n_cols)), y=list(range(n_rows)), zmin=zmin,
                               zmax=zmax, colorscale=colorscale, hoverongaps=False,
                               colorbar=dict(title=v_l, thickness=12), **hover))
    fig.update_layout(
        title=dict(text=html.escape(title) if title else None, y=0.98, yanchor="top"),
        plot_bgcolor="white",
        xaxis=_axis(col_labels, n_cols, col_title) | dict(side="top", tickangle=-45),
        yaxis=_axis(row_labels, n_rows, row_title) | dict(autorange="reversed"),
        margin=dict(l=10, r=10, b=10, t=(50 if title else 10) + (60 if col_labels is not None else 25)
                    + (25 if col_title else 0)),
        height=height)
    return fig


def waves_figure(table: np.ndarray, dims: Sequence[int], title: str | None = None,
                 position_label: str = "position", value_label: str = "value",
                 dim_label: str = "dim") -> go.Figure:
    """Selected columns of a (positions, dims) encoding as curves over the positions."""
    table = np.asarray(table, dtype=np.float64)
    positions = list(range(table.shape[0]))
    fig = go.Figure()
    for d in dims:
        fig.add_trace(go.Scatter(x=positions, y=np.round(table[:, d], DECIMALS).tolist(),
                                 mode="lines+markers" if len(positions) <= 64 else "lines",
                                 name=f"{html.escape(dim_label)} {int(d)}"))
    fig.update_layout(title=html.escape(title) if title else None,
                      xaxis_title=html.escape(position_label), yaxis_title=html.escape(value_label),
                      plot_bgcolor="white", margin=dict(l=10, r=10, t=50 if title else 20, b=10),
                      legend=dict(orientation="h", y=-0.2))
    return fig


def head_summary_figure(entropy: np.ndarray, distance: np.ndarray, layer: int,
                        head_label: str = "Head", entropy_label: str = "entropy (bits)",
                        distance_label: str = "mean distance", title: str | None = None) -> go.Figure:
    """Per-head entropy and mean attended distance of one layer as grouped bars.

    entropy, distance: (layers, heads) arrays.
    """
    heads = [f"{html.escape(head_label)} {h}" for h in range(entropy.shape[1])]
    fig = go.Figure([
        go.Bar(x=heads, y=np.round(entropy[layer], DECIMALS).tolist(), name=html.escape(entropy_label)),
        go.Bar(x=heads, y=np.round(distance[layer], DECIMALS).tolist(), name=html.escape(distance_label)),
    ])
    fig.update_layout(barmode="group", title=html.escape(title) if title else None,
                      plot_bgcolor="white", margin=dict(l=10, r=10, t=50 if title else 20, b=10),
                      legend=dict(orientation="h", y=-0.2))
    return fig
