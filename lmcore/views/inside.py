"""Plotly builders of the "Switch heads off" and "Key/value cache" pages (pure functions).

    head_grid(values (layers, heads), off, labels) -> clickable all-heads grid (scatter points,
        x = head, y = layer; clicks come back as point selections)
    effect_vs_attention(effect, attention, labels) -> one point per head
    before_after_bars(before, after, labels) -> grouped bars of two top-k lists
    cache_growth(lengths, series, current, labels) -> bytes of the cache against length
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from lmcore.views.plots import COLORSCALE, plot_text

DECIMALS = 3


def head_grid(values: np.ndarray, off: Iterable[tuple[int, int]], title: str, layer_label: str,
              head_label: str, value_label: str, off_label: str) -> go.Figure:
    """Every head as a square: colour = values[layer, head] (0..1), a cross on heads switched off.
    Trace 0 holds the heads (customdata [layer, head]) so a click selects one."""
    layers, heads = values.shape
    ys, xs = np.divmod(np.arange(layers * heads), heads)
    v = np.round(values.ravel().astype(float), DECIMALS)
    l_l, h_l, v_l = (plot_text(s) for s in (layer_label, head_label, value_label))
    cells = go.Scatter(
        x=xs, y=ys, mode="markers", customdata=np.stack([ys, xs], axis=1),
        marker=dict(symbol="square", size=max(14, min(34, 420 // max(heads, layers))), color=v,
                    colorscale=COLORSCALE, cmin=0.0, cmax=max(float(v.max()), 1e-6),
                    colorbar=dict(title=v_l), line=dict(width=1, color="#888")),
        hovertemplate=f"{l_l} %{{y}} · {h_l} %{{x}}<br>{v_l}: %{{marker.color:.3f}}<extra></extra>",
        name=v_l, showlegend=False)
    off = sorted(set(off))
    crosses = go.Scatter(
        x=[h for _, h in off], y=[la for la, _ in off], mode="markers", name=plot_text(off_label),
        marker=dict(symbol="x-thin", size=22, line=dict(width=3, color="#d62728")),
        hoverinfo="skip", showlegend=bool(off))
    fig = go.Figure([cells, crosses])
    fig.update_layout(
        title=plot_text(title), clickmode="event+select", dragmode=False, plot_bgcolor="white",
        xaxis=dict(title=h_l, tickvals=list(range(heads)), range=[-0.6, heads - 0.4]),
        yaxis=dict(title=l_l, tickvals=list(range(layers)), autorange="reversed"),
        height=max(260, 44 * layers + 150), margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", y=-0.2))
    return fig


def effect_vs_attention(effect: np.ndarray, attention: np.ndarray, title: str, effect_label: str,
                        attention_label: str, layer_label: str, head_label: str) -> go.Figure:
    """One point per head: attention on the word (x) against the drop when it is off (y)."""
    layers, heads = effect.shape
    ys, xs = np.divmod(np.arange(layers * heads), heads)
    names = [f"{layer}:{head}" for layer, head in zip(ys, xs)]
    e_l, a_l, l_l, h_l = (plot_text(s) for s in (effect_label, attention_label, layer_label, head_label))
    fig = go.Figure(go.Scatter(
        x=np.round(attention.ravel().astype(float), 4), y=np.round(effect.ravel().astype(float), 4),
        mode="markers", text=names, customdata=np.stack([ys, xs], axis=1),
        marker=dict(size=9, color=ys, colorscale="Viridis", colorbar=dict(title=l_l)),
        hovertemplate=(f"{l_l} %{{customdata[0]}} · {h_l} %{{customdata[1]}}<br>{a_l}: %{{x:.3f}}"
                       f"<br>{e_l}: %{{y:.4f}}<extra></extra>")))
    fig.update_layout(title=plot_text(title), xaxis_title=a_l, yaxis_title=e_l,
                      plot_bgcolor="white", height=380, margin=dict(l=10, r=10, t=50, b=10))
    fig.add_hline(y=0, line=dict(color="#bbb", width=1))
    return fig


def before_after_bars(before: Sequence[tuple[str, float]], after: Sequence[tuple[str, float]],
                      title: str, before_label: str, after_label: str, token_label: str,
                      probability_label: str) -> go.Figure:
    """Grouped bars over the union of both top-k lists (before's order first)."""
    words = list(dict.fromkeys([w for w, _ in before] + [w for w, _ in after]))
    b, a = dict(before), dict(after)
    x = list(range(len(words)))
    fig = go.Figure([
        go.Bar(x=x, y=[round(b.get(w, 0.0), 4) for w in words], name=plot_text(before_label)),
        go.Bar(x=x, y=[round(a.get(w, 0.0), 4) for w in words], name=plot_text(after_label))])
    fig.update_layout(title=plot_text(title), barmode="group", plot_bgcolor="white", height=320,
                      xaxis=dict(title=plot_text(token_label), tickvals=x,
                                 ticktext=[plot_text(w) for w in words]),
                      yaxis=dict(title=plot_text(probability_label), rangemode="tozero"),
                      margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=1.12))
    return fig


def cache_growth(lengths: Sequence[int], series: Mapping[str, Sequence[int]], current: int,
                 title: str, length_label: str, bytes_label: str) -> go.Figure:
    """Cache size (KiB) against the number of cached positions, one line per model shape;
    a vertical line at the current length."""
    fig = go.Figure([go.Scatter(x=list(lengths), y=[round(v / 1024, 2) for v in values],
                                mode="lines+markers", name=plot_text(name))
                     for name, values in series.items()])
    fig.add_vline(x=current, line=dict(color="#d62728", dash="dot"))
    fig.update_layout(title=plot_text(title), xaxis_title=plot_text(length_label),
                      yaxis_title=plot_text(bytes_label), plot_bgcolor="white", height=300,
                      margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.3))
    return fig
