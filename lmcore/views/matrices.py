"""Pure plotly builders for the Transformer, self-attention-steps and positional pages.

Attention maps themselves go through `lmcore.views.plots` (attention_heatmap), and the
all-heads overview through `head_grid` here (one mosaic heatmap: light and clickable).
Also here: signed matrices (Q, K, V, scores, encodings) on a diverging scale, waves of single
encoding dimensions, and the per-head summary. Labels are html-escaped and drawn at
integer positions (repeated tokens never merge); numbers are rounded for the browser.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from lmcore.record import AttentionMaps
from lmcore.views.plots import (
    COLORSCALE,
    display_weights,
    escape_tokens,
    plot_text,
    token_axis,
)

DIVERGING = "RdBu_r"   # blue < 0 < red, white at 0
DECIMALS = 3
ROBUST_PERCENTILE = 99.5  # colour range of large signed matrices (outliers saturate)


def _axis(labels: Sequence[str] | None, n: int, title: str | None, max_ticks: int = 40) -> dict:
    if labels is None:
        return dict(title=plot_text(title) if title else None, showgrid=False, zeroline=False)
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
    v_l = plot_text(value_label)
    # one hovertemplate, no per-cell strings: %{y}/%{x} show the axes' tick text (the escaped
    # labels, also where they are hidden), or the row/column number without labels
    fig = go.Figure(go.Heatmap(z=z.astype(np.float32), x=list(range(n_cols)), y=list(range(n_rows)), zmin=zmin, zmax=zmax, colorscale=colorscale,
                               hoverongaps=False, colorbar=dict(title=v_l, thickness=12),
                               hovertemplate=f"%{{y}} · %{{x}}<br>{v_l}: %{{z:.{DECIMALS}f}}<extra></extra>"))
    fig.update_layout(
        title=dict(text=plot_text(title) if title else None, y=0.98, yanchor="top"),
        plot_bgcolor="white",
        xaxis=_axis(col_labels, n_cols, col_title) | dict(side="top", tickangle=-45),
        yaxis=_axis(row_labels, n_rows, row_title) | dict(autorange="reversed"),
        margin=dict(l=10, r=10, b=10, t=(50 if title else 10) + (60 if col_labels is not None else 25)
                    + (25 if col_title else 0)),
        height=height)
    return fig


def binary_heatmap(values: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str],
                   labels: tuple[str, str], title: str | None = None, row_title: str | None = None,
                   col_title: str | None = None) -> go.Figure:
    """A 0/1 matrix (a mask) in two colours with a two-entry legend `labels` (for 0, for 1),
    not a 0-100 % colour bar: the hover names the entry, never a number."""
    z = (np.asarray(values) > 0.5).astype(np.uint8)
    names = np.array([plot_text(label) for label in labels], dtype=object)[z]
    fig = matrix_heatmap(z, row_labels, col_labels, title, row_title, col_title, zmin=0, zmax=1,
                         colorscale=[[0, "#f4f4f4"], [0.5, "#f4f4f4"], [0.5, "#3b3b3b"], [1, "#3b3b3b"]],
                         symmetric=False)
    fig.update_traces(customdata=names, hovertemplate="%{y} · %{x}: %{customdata}<extra></extra>",
                      colorbar=dict(tickvals=[0.25, 0.75], ticktext=[plot_text(x) for x in labels],
                                    title=None, thickness=12, len=0.5))
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
                                 name=f"{plot_text(dim_label)} {int(d)}"))
    fig.update_layout(title=plot_text(title) if title else None,
                      xaxis_title=plot_text(position_label), yaxis_title=plot_text(value_label),
                      plot_bgcolor="white", margin=dict(l=10, r=10, t=50 if title else 20, b=10),
                      legend=dict(orientation="h", y=-0.2))
    return fig


def head_summary_figure(entropy: np.ndarray, distance: np.ndarray, layer: int,
                        head_label: str = "Head", entropy_label: str = "entropy (bits)",
                        distance_label: str = "mean distance", title: str | None = None) -> go.Figure:
    """Per-head entropy and mean attended distance of one layer as grouped bars.

    entropy, distance: (layers, heads) arrays.
    """
    heads = [f"{plot_text(head_label)} {h}" for h in range(entropy.shape[1])]
    fig = go.Figure([
        go.Bar(x=heads, y=np.round(entropy[layer], DECIMALS).tolist(), name=plot_text(entropy_label)),
        go.Bar(x=heads, y=np.round(distance[layer], DECIMALS).tolist(), name=plot_text(distance_label)),
    ])
    fig.update_layout(barmode="group", title=plot_text(title) if title else None,
                      plot_bgcolor="white", margin=dict(l=10, r=10, t=50 if title else 20, b=10),
                      legend=dict(orientation="h", y=-0.2))
    return fig


# ---------------------------------------------------------------- the all-heads overview
def _gap(n_q: int, n_k: int) -> int:
    """Blank cells between two thumbnails: about a tenth of a thumbnail, at least one."""
    return max(1, round(max(n_q, n_k) / 10))


def head_mosaic(maps: AttentionMaps, layers: Sequence[int], heads: Sequence[int],
                mask: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Every chosen head's map tiled into one float32 matrix, NaN between tiles and on masked cells.

    Returns (mosaic (rows*q + (rows-1)*gap, cols*k + (cols-1)*gap), gap); tile (r, c) is
    head heads[c] of layer layers[r] and starts at (r*(q+gap), c*(k+gap)).
    """
    n_q, n_k = len(maps.query_tokens), len(maps.key_tokens)
    gap = _gap(n_q, n_k)
    rows, cols = len(layers), len(heads)
    z = np.full((rows * (n_q + gap) - gap, cols * (n_k + gap) - gap), np.nan, dtype=np.float32)
    for r, layer in enumerate(layers):
        for c, head in enumerate(heads):
            top, left = r * (n_q + gap), c * (n_k + gap)
            z[top:top + n_q, left:left + n_k] = display_weights(maps, layer, head, mask)
    return z, gap


def grid_pick(point_index: int, layers: Sequence[int], heads: Sequence[int]) -> tuple[int, int]:
    """(layer, head) of the thumbnail whose marker has this index in `head_grid`'s second trace."""
    row, col = divmod(int(point_index), len(heads))
    return int(layers[row]), int(heads[col])


def head_grid(maps: AttentionMaps, layers: Sequence[int] | None = None,
              heads: Sequence[int] | None = None, title: str | None = None,
              layer_label: str = "Layer", head_label: str = "Head", weight_label: str = "Weight",
              colorscale: str = COLORSCALE, tile_px: int = 64, font_size: int = 13,
              mask: np.ndarray | None = None) -> go.Figure:
    """Thumbnails of every (layer, head) map: one mosaic heatmap plus one invisible marker per tile.

    maps.weights: (layers, heads, q, k). The mosaic (see `head_mosaic`) is a single trace, so a
    72-head grid is as light as one big map; the tiles carry no per-token labels (they would
    collide): layers label the rows, heads the columns. Hovering anywhere names the nearest
    tile's layer and head; clicking selects its marker (trace 1, point i -> `grid_pick`).
    tile_px: height of one row of thumbnails in pixels (bigger in presentation mode).
    """
    layers = list(range(maps.n_layers)) if layers is None else list(layers)
    heads = list(range(maps.n_heads)) if heads is None else list(heads)
    n_q, n_k = len(maps.query_tokens), len(maps.key_tokens)
    z, gap = head_mosaic(maps, layers, heads, mask)
    xs = [c * (n_k + gap) + (n_k - 1) / 2 for c in range(len(heads))]
    ys = [r * (n_q + gap) + (n_q - 1) / 2 for r in range(len(layers))]
    l_l, h_l, w_l = (plot_text(s) for s in (layer_label, head_label, weight_label))
    names = [[la, h] for la in layers for h in heads]
    mosaic = go.Heatmap(z=z, coloraxis="coloraxis", hoverinfo="skip", hoverongaps=False)
    markers = go.Scatter(
        x=[x for _ in ys for x in xs], y=[y for y in ys for _ in xs], mode="markers",
        marker=dict(size=max(8, tile_px // 2), opacity=0, symbol="square"), customdata=names,
        hovertemplate=f"{l_l} %{{customdata[0]}} · {h_l} %{{customdata[1]}}<extra></extra>",
        showlegend=False)
    axis = dict(showgrid=False, zeroline=False, ticks="", showline=False, tickfont=dict(size=font_size))
    fig = go.Figure([mosaic, markers])
    fig.update_layout(
        title=dict(text=plot_text(title) if title else None, y=0.99, yanchor="top"),
        plot_bgcolor="white", hovermode="closest", hoverdistance=-1,
        coloraxis=dict(colorscale=colorscale, cmin=0.0, cmax=1.0,
                       colorbar=dict(title=w_l, thickness=12)),
        xaxis=axis | dict(tickmode="array", tickvals=xs, ticktext=[f"{h_l} {h}" for h in heads],
                          side="top", range=[-0.5, z.shape[1] - 0.5]),
        yaxis=axis | dict(tickmode="array", tickvals=ys, ticktext=[f"{l_l} {la}" for la in layers],
                          range=[z.shape[0] - 0.5, -0.5]),
        font=dict(size=font_size), height=len(layers) * tile_px + (110 if title else 70),
        margin=dict(l=10, r=10, b=10, t=(80 if title else 40)))
    return fig
