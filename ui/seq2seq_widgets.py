"""Shared pieces of the seq2seq pages: pure figure builders and step logic (tested
without Streamlit), then a few Streamlit widgets.

Figure builders take (translated) label strings from the caller; every token
reaching a plotly label is html.escape'd and plotted at integer positions.
"""
from __future__ import annotations

import hashlib
import html
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lmcore.catalog import ModelInfo
from lmcore.i18n import catalog as locale_catalog
from lmcore.views.plots import DECIMALS, escape_tokens
from lmcore.record import AttentionMaps
from lmcore.translation.translators import StepView
from ui.notices import show_notices  # noqa: F401 (re-exported for the seq2seq pages)
from ui.safe_text import md_escape  # noqa: F401 (re-exported for pages)

# line colours by attention kind: no attention stands out in red against the attention models
KIND_COLORS = {"none": "#d62728", "bahdanau": "#1f77b4", "luong-general": "#2ca02c", "luong-dot": "#17becf",
               "multi-head": "#9467bd"}


# ---------------------------------------------------------------- pure logic
def step_maps(steps: Sequence[StepView], source_tokens: Sequence[str]) -> AttentionMaps | None:
    """Cross attention of every decoder step (the <eos> step included): (1, 1, steps, src)."""
    if not steps or steps[0].weights is None:
        return None
    rows = np.stack([np.asarray(s.weights, dtype=np.float32) for s in steps])  # (T, S)
    return AttentionMaps(rows[None, None], tuple(s.token for s in steps), tuple(source_tokens), "cross")


def first_rows(maps: AttentionMaps, shown: int) -> AttentionMaps:
    """The alignment after `shown` steps: only those rows, so later words stay hidden."""
    shown = max(0, min(shown, len(maps.query_tokens)))
    return AttentionMaps(maps.weights[:, :, :shown], maps.query_tokens[:shown], maps.key_tokens, maps.kind)


def model_label(info: ModelInfo | str) -> str:
    """The locale key naming a model (s2s.model.* or tf.model.*) or, failing that, its name."""
    name = info if isinstance(info, str) else info.name
    for key in (f"s2s.model.{name}", f"tf.model.{name}"):
        if key in locale_catalog():
            return key
    return name


# ---------------------------------------------------------------- figures
def _axis(tokens: list[str], title: str | None = None) -> dict:
    return dict(tickmode="array", tickvals=list(range(len(tokens))), ticktext=tokens,
                title=html.escape(title) if title else None, showgrid=False, zeroline=False)


def vector_strip(vectors: np.ndarray, row_labels: Sequence[str], title: str,
                 dim_label: str, value_label: str) -> go.Figure:
    """Vectors (R, H) as a heat strip: one row per vector, one column per dimension."""
    z = np.round(np.asarray(vectors, dtype=np.float64), DECIMALS).astype(np.float32)
    rows = escape_tokens(row_labels)
    bound = float(np.abs(z).max()) if z.size else 1.0
    fig = go.Figure(go.Heatmap(
        z=z, y=list(range(len(rows))), colorscale="RdBu_r", zmid=0.0, zmin=-bound, zmax=bound,
        customdata=np.array([[r] * z.shape[1] for r in rows], dtype=object),
        colorbar=dict(title=html.escape(value_label)),
        hovertemplate=f"%{{customdata}}<br>{html.escape(dim_label)} %{{x}}: %{{z:.3f}}<extra></extra>"))
    fig.update_layout(title=html.escape(title), plot_bgcolor="white",
                      height=max(220, 120 + 28 * len(rows)), margin=dict(l=10, r=10, t=50, b=10),
                      xaxis=dict(title=html.escape(dim_label), showgrid=False),
                      yaxis=_axis(rows) | dict(autorange="reversed"))
    return fig


def bleu_by_length(report: dict, metric: str, names: dict[str, str], x_label: str,
                   y_label: str) -> go.Figure:
    """One line per model: `metric` (bleu or chrf) by source-length bucket, from the eval file."""
    fig = go.Figure()
    for name, label in names.items():
        model = report.get("models", {}).get(name, {})
        rows = model.get("buckets", [])
        points = [(r["bucket"], r.get(metric)) for r in rows if r.get(metric) is not None]
        if not points:
            continue
        counts = [r.get("n", 0) for r in rows if r.get(metric) is not None]
        fig.add_trace(go.Scatter(
            x=[b for b, _ in points], y=[v for _, v in points], mode="lines+markers",
            name=html.escape(label), customdata=counts, line=dict(color=KIND_COLORS.get(model.get("attention"))),
            hovertemplate=f"%{{x}}: %{{y:.1f}} (n=%{{customdata}})<extra>{html.escape(label)}</extra>"))
    order = [b for b in report.get("buckets", [])]
    fig.update_layout(plot_bgcolor="white", height=380, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis=dict(title=html.escape(x_label), categoryorder="array", categoryarray=order),
                      yaxis=dict(title=html.escape(y_label), rangemode="tozero", gridcolor="#eeeeee"),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def scores_and_weights(tokens: Sequence[str], scores: np.ndarray | None, weights: np.ndarray,
                       score_label: str, weight_label: str, token_label: str) -> go.Figure:
    """Raw scores e_tj (top, when the model gives them) and softmax weights a_tj (bottom)."""
    labels = escape_tokens(tokens)
    x = list(range(len(labels)))
    w = np.round(np.asarray(weights, dtype=np.float64), DECIMALS)
    n_rows = 1 if scores is None else 2
    fig = make_subplots(rows=n_rows, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[html.escape(s) for s in
                                        ([score_label] if n_rows == 2 else []) + [weight_label]])
    if scores is not None:
        s = np.round(np.asarray(scores, dtype=np.float64), DECIMALS)
        fig.add_trace(go.Bar(x=x, y=s, marker_color="#8c8c8c", customdata=labels,
                             hovertemplate="%{customdata}: %{y:.3f}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Bar(x=x, y=w, marker_color="#3b528b", customdata=labels, text=[f"{v:.2f}" for v in w],
                         textposition="outside", hovertemplate="%{customdata}: %{y:.3f}<extra></extra>"),
                  row=n_rows, col=1)
    fig.update_yaxes(range=[0, 1.15], row=n_rows, col=1, gridcolor="#eeeeee")
    fig.update_xaxes(_axis(labels), row=n_rows, col=1)
    fig.update_xaxes(title=html.escape(token_label), row=n_rows, col=1)
    fig.update_layout(plot_bgcolor="white", showlegend=False, height=220 * n_rows + 60,
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig


def topk_bar(top_k: Sequence[tuple[str, float]], chosen: str, prob_label: str) -> go.Figure:
    """The k most likely next words, the chosen one highlighted, on a 0..1 axis."""
    words = escape_tokens([w for w, _ in top_k])
    probs = [round(float(p), DECIMALS) for _, p in top_k]
    colors = ["#d62728" if w == chosen else "#9ecae1" for w, _ in top_k]
    fig = go.Figure(go.Bar(x=probs, y=list(range(len(words))), orientation="h", marker_color=colors,
                           text=[f"{p:.3f}" for p in probs], textposition="outside", customdata=words,
                           hovertemplate="%{customdata}: %{x:.3f}<extra></extra>"))
    fig.update_layout(plot_bgcolor="white", height=80 + 40 * len(words), showlegend=False,
                      margin=dict(l=10, r=10, t=20, b=10),
                      xaxis=dict(range=[0, 1.15], title=html.escape(prob_label), gridcolor="#eeeeee"),
                      yaxis=_axis(words) | dict(autorange="reversed"))
    return fig


def loss_curve(steps: Sequence[dict], epochs: Sequence[dict], train_label: str, val_label: str,
               x_label: str, y_label: str) -> go.Figure:
    """Training loss per step (x = fractional epoch) and validation loss per epoch."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[round(s["x"], 3) for s in steps], y=[round(s["loss"], 4) for s in steps],
                             mode="lines", name=html.escape(train_label)))
    fig.add_trace(go.Scatter(x=[e["epoch"] for e in epochs], y=[e["val_loss"] for e in epochs],
                             mode="lines+markers", name=html.escape(val_label)))
    fig.update_layout(plot_bgcolor="white", height=320, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis=dict(title=html.escape(x_label), gridcolor="#eeeeee"),
                      yaxis=dict(title=html.escape(y_label), rangemode="tozero", gridcolor="#eeeeee"),
                      legend=dict(orientation="h", y=1.12))
    return fig


# ---------------------------------------------------------------- Streamlit widgets
def model_select(label: str, infos: Sequence[ModelInfo], key: str, default: str | None = None,
                 param: str | None = None) -> str | None:
    """A selectbox of model names shown by their translated labels; kept in ?param= when given."""
    import streamlit as st

    from ui import url_state
    from ui.i18n import t
    names = [m.name for m in infos]
    if not names:
        return None
    default = default if default in names else names[0]
    labels = {n: t(model_label(n)) for n in names}  # fixed now: format_func may run outside the script
    if param is not None:
        key = url_state.field(key, param, default, choices=names)
        return st.selectbox(label, names, key=key, format_func=labels.__getitem__)
    return st.selectbox(label, names, index=names.index(default), key=key, format_func=labels.__getitem__)
