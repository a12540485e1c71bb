"""Pure plotly builders for the Fine-tuning page (tested without Streamlit).

Labels are passed in already translated; every user-supplied string (label names,
tokens) is html-escaped here. Heatmaps use integer positions with tickvals/ticktext
so repeated tokens stay apart.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lmcore.record import AttentionMaps
from lmcore.views.plots import escape_tokens, plot_text


def confusion_figure(matrix: np.ndarray, label_names: Sequence[str], true_title: str,
                     pred_title: str) -> go.Figure:
    """(classes, classes) counts, rows = true label, columns = predicted; counts written in cells."""
    m = np.asarray(matrix)
    names = escape_tokens(label_names)
    idx = list(range(len(names)))
    fig = go.Figure(go.Heatmap(z=m, x=idx, y=idx, colorscale="Blues", showscale=False,
                               text=m.astype(str), texttemplate="%{text}", zmin=0,
                               hovertemplate="%{y} → %{x}: %{z}<extra></extra>"))
    fig.update_xaxes(title_text=pred_title, tickvals=idx, ticktext=names, side="bottom")
    fig.update_yaxes(title_text=true_title, tickvals=idx, ticktext=names, autorange="reversed")
    side = 120 + 60 * len(names)
    fig.update_layout(height=min(600, side + 80), width=min(700, side + 200),
                      margin=dict(l=40, r=10, t=20, b=40))
    return fig


def cls_attention_figure(before: AttentionMaps, after: AttentionMaps | None, titles: Sequence[str],
                         layer_label: str) -> go.Figure:
    """[CLS]'s attention row, mean over heads, for every layer (rows) and key token (columns),
    before and after side by side (after=None: before only, one title). Weights in [0, 1]
    (zmin=0, zmax=1). Layers numbered from 0, as on every page."""
    panels = [before] if after is None else [before, after]
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[plot_text(x) for x in titles[:len(panels)]],
                        horizontal_spacing=0.08)
    for col, maps in enumerate(panels, 1):
        z = maps.weights[:, :, 0, :].mean(axis=1)  # (layers, keys)
        keys = list(range(len(maps.key_tokens)))
        layers = list(range(maps.n_layers))
        fig.add_trace(go.Heatmap(z=np.round(z, 4), x=keys, y=layers, zmin=0, zmax=1, colorscale="Viridis",
                                 showscale=col == len(panels), customdata=np.array([escape_tokens(maps.key_tokens)] * len(layers)),
                                 hovertemplate=f"{plot_text(layer_label)} %{{y}} · %{{customdata}}: %{{z}}<extra></extra>"),
                      row=1, col=col)
        fig.update_xaxes(tickvals=keys, ticktext=escape_tokens(maps.key_tokens), tickangle=-60, row=1, col=col)
        fig.update_yaxes(tickvals=layers, ticktext=[str(l) for l in layers], autorange="reversed",
                         title_text=layer_label if col == 1 else None, row=1, col=col)
    fig.update_layout(height=120 + 40 * before.n_layers, margin=dict(l=50, r=10, t=40, b=80))
    return fig


def head_change_figure(values: np.ndarray, layer_label: str, head_label: str, colorbar: str) -> go.Figure:
    """(layers, heads) Jensen-Shannon distances as a heatmap; layers and heads numbered from 0,
    as on every other page."""
    v = np.asarray(values, dtype=float)
    layers, heads = list(range(v.shape[0])), list(range(v.shape[1]))
    top = max(float(v.max()), 1e-6) if v.size else 1.0
    fig = go.Figure(go.Heatmap(z=np.round(v, 4), x=heads, y=layers, zmin=0, zmax=top, colorscale="Reds",
                               colorbar=dict(title=plot_text(colorbar)),
                               text=np.round(v, 2).astype(str), texttemplate="%{text}",
                               hovertemplate=f"{plot_text(layer_label)} %{{y}}, {plot_text(head_label)} "
                                             "%{x}: %{z}<extra></extra>"))
    fig.update_xaxes(title_text=head_label, tickvals=heads, ticktext=[str(h) for h in heads])
    fig.update_yaxes(title_text=layer_label, tickvals=layers, ticktext=[str(l) for l in layers],
                     autorange="reversed")
    fig.update_layout(height=120 + 40 * len(layers), margin=dict(l=50, r=10, t=20, b=40))
    return fig
