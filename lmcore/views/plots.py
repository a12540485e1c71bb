"""Pure plotly figure builders for the attention record (no Streamlit, no translator).

Heatmaps take an `AttentionMaps` the way d2l's `show_heatmaps` takes a 4-D
(rows, cols, queries, keys) array. Every caller passes its own (translated)
label strings. The traps handled here, once:

- repeated tokens ("the ... the"): cells sit at integer positions and the axis
  shows tokens through `tickvals`/`ticktext`, so no two columns merge;
- plotly parses some HTML in labels: every token goes through `plot_text` (&, <, > escaped; quotes kept, as plotly does not decode entities);
- colour scale fixed to `zmin=0, zmax=1`; masked cells (the upper triangle of a
  causal map, or any given mask) are NaN, drawn blank;
- numbers are rounded before they go to the browser, as float32 (plotly sends numpy
  arrays as base64 typed arrays);
- hover is one `hovertemplate` per trace, no per-cell strings: on an axis with
  `tickmode="array"` plotly.js shows the tick text for `%{x}`/`%{y}` (also where the
  labels are hidden), so hover names the tokens at no cost per cell.
"""
from __future__ import annotations

import functools
import html
from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go

from lmcore.record import AttentionMaps

COLORSCALE = "Viridis"  # perceptually uniform, colour-blind safe, keeps contrast on projectors
DECIMALS = 3            # weights sent to the browser
MAX_TICK_LABELS = 40    # tokens per axis above which a grid hides its tick labels


def plot_text(text: object) -> str:
    """Text made safe for a plotly label, title or hover: plotly renders a subset of HTML, so
    `&`, `<` and `>` are escaped; quotes stay as they are (plotly does not decode `&quot;`,
    and a `"` token would show as the entity)."""
    return html.escape(str(text), quote=False)


def escape_tokens(tokens: Sequence[str]) -> list[str]:
    return [plot_text(t) for t in tokens]


def visible_mask(maps: AttentionMaps, mask: np.ndarray | None = None) -> np.ndarray:
    """bool (queries, keys), False where a cell is masked and must be drawn blank.

    causal maps hide keys after the query (diagonal shifted right when there are
    more keys than queries, as when decoding with a cache); `mask` (True = visible)
    hides more, e.g. padding.
    """
    n_q, n_k = len(maps.query_tokens), len(maps.key_tokens)
    visible = np.ones((n_q, n_k), dtype=bool)
    if maps.kind == "causal":
        visible = np.tril(visible, k=n_k - n_q)
    if mask is not None:
        visible &= np.broadcast_to(np.asarray(mask, dtype=bool), (n_q, n_k))
    return visible


def display_weights(maps: AttentionMaps, layer: int, head: int,
                    mask: np.ndarray | None = None) -> np.ndarray:
    """One head's map (queries, keys) rounded, with masked cells NaN.

    float32: plotly sends numpy arrays as typed arrays, half the bytes of float64.
    """
    z = np.round(maps.head(layer, head).astype(np.float64), DECIMALS)
    return np.where(visible_mask(maps, mask), z, np.nan).astype(np.float32)


def map_hover(query_label: str, key_label: str, weight_label: str) -> str:
    """'query: X<br>key: Y<br>weight: 0.123' for every cell of a map on token axes: %{y} and
    %{x} show the axes' tick text (the tokens), so no per-cell strings go to the browser."""
    q_l, k_l, w_l = (plot_text(s) for s in (query_label, key_label, weight_label))
    return f"{q_l}: %{{y}}<br>{k_l}: %{{x}}<br>{w_l}: %{{z:.{DECIMALS}f}}<extra></extra>"


def token_axis(labels: Sequence[str], title: str | None = None, show: bool = True) -> dict:
    """A plotly axis with one tick per position 0..n-1, so repeated tokens keep their own place.

    labels: display labels already made safe (escape_tokens); title: plain text, escaped here.
    """
    return dict(tickmode="array", tickvals=list(range(len(labels))), ticktext=list(labels),
                showticklabels=show, ticks=None if show else "",  # hidden labels: no tick marks either
                title=plot_text(title) if title else None, showgrid=False, zeroline=False)


def attention_heatmap(maps: AttentionMaps, layer: int = 0, head: int = 0,
                      title: str | None = None, colorscale: str = COLORSCALE,
                      query_label: str = "Query", key_label: str = "Key",
                      weight_label: str = "Weight", mask: np.ndarray | None = None) -> go.Figure:
    """One head's attention map: queries down the rows, keys across the columns.

    Built unvalidated (fast_figure): a head change or a step builds one, under load.
    """
    queries, keys = escape_tokens(maps.query_tokens), escape_tokens(maps.key_tokens)
    z = display_weights(maps, layer, head, mask)  # (queries, keys) float32
    trace = dict(type="heatmap", z=z, x=list(range(len(keys))), y=list(range(len(queries))),
                 zmin=0.0, zmax=1.0, colorscale=resolved_scale(colorscale), hoverongaps=False,
                 hovertemplate=map_hover(query_label, key_label, weight_label),
                 colorbar=dict(title=plot_text(weight_label)))
    layout = dict(title=plot_text(title) if title else None,
                  xaxis=token_axis(keys, key_label) | dict(tickangle=-45),
                  yaxis=token_axis(queries, query_label) | dict(autorange="reversed"),
                  plot_bgcolor="white", margin=dict(l=10, r=10, t=60 if title else 30, b=10))
    return fast_figure([trace], layout)


@functools.lru_cache(maxsize=32)
def resolved_scale(scale: str | tuple) -> tuple:
    """A colour scale (a name, or ((0.0, colour), ...)) as plotly's validation writes it:
    ((0.0, "#440154"), ...)."""
    return tuple(tuple(step) for step in go.Heatmap(colorscale=scale).colorscale)


def _normalised(value: Any, key: str = "") -> Any:
    """Plain dicts in the form plotly's validation gives: no None values, titles as {"text": ...}."""
    if isinstance(value, dict):
        return {k: _normalised(v, k) for k, v in value.items() if v is not None}
    if key == "title" and isinstance(value, str):
        return {"text": value}
    return value


def fast_figure(traces: list[dict], layout: dict) -> go.Figure:
    """go.Figure from plain dicts without plotly's property validation (~5x faster to build;
    validation is most of a small figure's cost). The dicts must be valid: tests/test_plots
    checks that each builder using this gives the same JSON as a validated figure."""
    return go.Figure(data=[_normalised(t) for t in traces], layout=_normalised(layout),
                     _validate=False)


def attention_grid(maps: AttentionMaps, layers: Sequence[int] | None = None,
                   heads: Sequence[int] | None = None, title: str | None = None,
                   colorscale: str = COLORSCALE, layer_label: str = "Layer",
                   head_label: str = "Head", query_label: str = "Query", key_label: str = "Key",
                   weight_label: str = "Weight", mask: np.ndarray | None = None) -> go.Figure:
    """A layers x heads grid of small heatmaps: one trace per cell, one shared colour axis.

    Hover names the tokens (map_hover: the axes' tick text, no per-cell strings).
    The layout is built as one dict (make_subplots + update_*axes is ~10x slower).
    """
    layers = list(range(maps.n_layers)) if layers is None else list(layers)
    heads = list(range(maps.n_heads)) if heads is None else list(heads)
    queries, keys = escape_tokens(maps.query_tokens), escape_tokens(maps.key_tokens)
    w_l = plot_text(weight_label)
    hover = map_hover(query_label, key_label, weight_label)
    layout, traces = _grid_layout(len(layers), len(heads), queries, keys), []
    for i, (layer, head) in enumerate((la, h) for la in layers for h in heads):
        z = display_weights(maps, layer, head, mask)
        suffix = "" if i == 0 else str(i + 1)
        cell = dict(z=z, coloraxis="coloraxis", hoverongaps=False, xaxis=f"x{suffix}",
                    yaxis=f"y{suffix}", hovertemplate=hover,
                    name=f"{plot_text(layer_label)} {layer} · {plot_text(head_label)} {head}")
        traces.append(go.Heatmap(**cell))
    layout["annotations"] = _grid_titles([f"{plot_text(head_label)} {h}" for h in heads],
                                         [f"{plot_text(layer_label)} {la}" for la in layers])
    layout |= dict(title=plot_text(title) if title else None, plot_bgcolor="white",
                   coloraxis=dict(colorscale=colorscale, cmin=0.0, cmax=1.0,
                                  colorbar=dict(title=w_l, x=1.03)),
                   height=max(300, 160 * len(layers)), margin=dict(l=10, r=60, t=80, b=10))
    return go.Figure(data=traces, layout=layout)


GRID_GAP_X, GRID_GAP_Y = 0.01, 0.03


def _grid_layout(rows: int, cols: int, queries: list[str], keys: list[str]) -> dict:
    """Axis pairs x/y, x2/y2, ... row by row; tick labels on the outer edges of small maps."""
    width = (1 - GRID_GAP_X * (cols - 1)) / cols
    height = (1 - GRID_GAP_Y * (rows - 1)) / rows
    small = max(len(queries), len(keys)) <= MAX_TICK_LABELS
    layout: dict = {}
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        suffix = "" if i == 0 else str(i + 1)
        left, top = c * (width + GRID_GAP_X), 1 - r * (height + GRID_GAP_Y)
        layout[f"xaxis{suffix}"] = token_axis(keys, show=small and r == rows - 1) | dict(
            domain=[left, left + width], anchor=f"y{suffix}", tickangle=-90)
        layout[f"yaxis{suffix}"] = token_axis(queries, show=small and c == 0) | dict(
            domain=[top - height, top], anchor=f"x{suffix}", autorange="reversed")
    return layout


def _grid_titles(column_titles: list[str], row_titles: list[str]) -> list[dict]:
    """Head names above the columns, layer names right of the rows (paper coordinates)."""
    cols, rows = len(column_titles), len(row_titles)
    width = (1 - GRID_GAP_X * (cols - 1)) / cols
    height = (1 - GRID_GAP_Y * (rows - 1)) / rows
    common = dict(xref="paper", yref="paper", showarrow=False, font=dict(size=12))
    above = [dict(text=text, x=c * (width + GRID_GAP_X) + width / 2, y=1.0, xanchor="center",
                  yanchor="bottom", **common) for c, text in enumerate(column_titles)]
    right = [dict(text=text, x=1.0, y=1 - r * (height + GRID_GAP_Y) - height / 2, xanchor="left",
                  yanchor="middle", textangle=90, **common) for r, text in enumerate(row_titles)]
    return above + right


def weights_bar(tokens: Sequence[str], weights: Sequence[float], title: str | None = None,
                token_label: str = "Key", weight_label: str = "Weight",
                masked: Sequence[bool] | None = None, masked_label: str = "masked") -> go.Figure:
    """Attention weights of one query as bars on a fixed 0..1 axis, one bar per position.

    masked[j] True marks a position the query may not see: its bar is grey and labelled.
    """
    labels = escape_tokens(tokens)
    w = np.round(np.asarray(weights, dtype=np.float64), DECIMALS).astype(np.float32)
    hidden = np.zeros(len(w), bool) if masked is None else np.asarray(masked, dtype=bool)
    shown = dict(texttemplate=f"%{{y:.{DECIMALS}f}}", marker_color="#3b528b")  # no per-bar strings
    if hidden.any():
        shown = dict(text=[plot_text(masked_label) if m else f"{v:.{DECIMALS}f}" for v, m in zip(w, hidden)],
                     marker_color=["#bbbbbb" if m else "#3b528b" for m in hidden])
    fig = go.Figure(go.Bar(  # %{x} shows the axis tick text (the token)
        x=list(range(len(w))), y=w, textposition="outside", **shown,
        hovertemplate=(f"{plot_text(token_label)}: %{{x}}<br>"
                       f"{plot_text(weight_label)}: %{{y:.{DECIMALS}f}}<extra></extra>")))
    fig.update_layout(
        title=plot_text(title) if title else None, plot_bgcolor="white",
        xaxis=token_axis(labels, token_label),
        yaxis=dict(range=[0, 1.15], title=plot_text(weight_label), gridcolor="#eee"),
        margin=dict(l=10, r=10, t=50 if title else 20, b=10), showlegend=False)
    return fig


def vector_plot(labels: Sequence[str], vectors: np.ndarray, weights: Sequence[float],
                query: np.ndarray | None, context: np.ndarray, title: str | None = None,
                query_label: str = "s", context_label: str = "c",
                masked: Sequence[bool] | None = None) -> go.Figure:
    """Encoder states h_j, the decoder state s and the context c = sum_j a_j h_j in 2-D.

    vectors (n, d>=2) and query/context (d,) are drawn by their first two dimensions.
    Each h_j is an arrow whose opacity follows its weight; the dotted path adds the
    terms a_j h_j tip to tail and ends at c. A masked h_j is drawn grey and dashed.
    """
    names = escape_tokens(labels)
    v = np.round(_first_two(np.asarray(vectors, dtype=np.float64)), DECIMALS)  # (n, 2)
    w = np.asarray(weights, dtype=np.float64)
    hidden = np.zeros(len(v), bool) if masked is None else np.asarray(masked, dtype=bool)
    c = np.round(_first_two(np.asarray(context, dtype=np.float64)), DECIMALS)
    fig = go.Figure()
    for j, (name, point) in enumerate(zip(names, v)):
        color = "#999999" if hidden[j] else f"rgba(59,82,139,{0.25 + 0.75 * w[j]:.2f})"
        _arrow(fig, point, color, width=2, dash="dash" if hidden[j] else None)
        fig.add_trace(go.Scatter(
            x=[point[0]], y=[point[1]], mode="markers+text", text=[name],
            textposition="top center", marker=dict(size=8 + 22 * w[j], color=color),
            hovertemplate=f"{name}: (%{{x}}, %{{y}})<br>a = {w[j]:.{DECIMALS}f}<extra></extra>"))
    path = np.vstack([np.zeros(2), np.cumsum(w[:, None] * v, axis=0)])  # (n+1, 2)
    fig.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines",
                             line=dict(color="#d62728", dash="dot", width=1.5), hoverinfo="skip"))
    points = [v, c[None, :], path]
    if query is not None:
        s = np.round(_first_two(np.asarray(query, dtype=np.float64)), DECIMALS)
        _labelled_arrow(fig, s, "#ff7f0e", plot_text(query_label), symbol="diamond")
        points.append(s[None, :])
    _labelled_arrow(fig, c, "#d62728", plot_text(context_label), symbol="star")
    x_range, y_range = _ranges(np.vstack(points))
    axis = dict(zeroline=True, zerolinecolor="#bbbbbb", gridcolor="#f0f0f0")
    fig.update_layout(
        title=plot_text(title) if title else None, showlegend=False, plot_bgcolor="white",
        xaxis=axis | dict(range=x_range, title="x₁"), height=460,
        yaxis=axis | dict(range=y_range, title="x₂", scaleanchor="x", scaleratio=1),
        margin=dict(l=10, r=10, t=50 if title else 20, b=10))
    return fig


def _ranges(points: np.ndarray) -> tuple[list[float], list[float]]:
    """Axis ranges holding the origin and every point, with room for labels."""
    low = np.minimum(points.min(axis=0), 0.0)
    high = np.maximum(points.max(axis=0), 0.0)
    pad = max(float((high - low).max()) * 0.15, 1e-3)
    return [low[0] - pad, high[0] + pad], [low[1] - pad, high[1] + pad]


def _first_two(x: np.ndarray) -> np.ndarray:
    """The first two coordinates of (..., d) vectors; 1-D vectors get a zero second one."""
    if x.shape[-1] >= 2:
        return x[..., :2]
    return np.concatenate([x, np.zeros(x.shape[:-1] + (2 - x.shape[-1],))], axis=-1)


def _arrow(fig: go.Figure, tip: np.ndarray, color: str, width: float, dash: str | None = None) -> None:
    """An arrow from the origin to `tip` (data coordinates); a dashed line if `dash`."""
    if dash:
        fig.add_trace(go.Scatter(x=[0, tip[0]], y=[0, tip[1]], mode="lines", hoverinfo="skip",
                                 line=dict(color=color, dash=dash, width=width)))
        return
    fig.add_annotation(x=float(tip[0]), y=float(tip[1]), ax=0, ay=0, xref="x", yref="y",
                       axref="x", ayref="y", showarrow=True, arrowhead=2, arrowsize=1,
                       arrowwidth=width, arrowcolor=color, text="")


def _labelled_arrow(fig: go.Figure, tip: np.ndarray, color: str, label: str, symbol: str) -> None:
    """A bold arrow from the origin with a marker and a boxed label right of its tip."""
    _arrow(fig, tip, color, width=3)
    fig.add_trace(go.Scatter(
        x=[tip[0]], y=[tip[1]], mode="markers", marker=dict(size=14, color=color, symbol=symbol),
        hovertemplate=f"{label}: (%{{x}}, %{{y}})<extra></extra>"))
    fig.add_annotation(x=float(tip[0]), y=float(tip[1]), text=f"<b>{label}</b>", showarrow=False,
                       xanchor="left", xshift=10, font=dict(color=color, size=13),
                       bgcolor="rgba(255,255,255,0.85)", bordercolor=color, borderpad=2)
