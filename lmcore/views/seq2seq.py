"""Figures of the seq2seq pages (10.1, 10.2): context-vector strips, BLEU by sentence length,
one decoding step (scores, weights, the top-k next words) as one figure (training curves: lmcore.views.curves).

Builders take (translated) label strings from the caller; every token reaching a plotly
label is escaped (plots.plot_text) and plotted at integer positions (repeated tokens keep their place).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lmcore.views.plots import DECIMALS, escape_tokens, plot_text, token_axis

# line colours by attention kind: no attention stands out in red against the attention models
KIND_COLORS = {"none": "#d62728", "bahdanau": "#1f77b4", "luong-general": "#2ca02c", "luong-dot": "#17becf",
               "multi-head": "#9467bd"}


def vector_strip(vectors: np.ndarray | Sequence[np.ndarray], row_labels: Sequence[str], title: str,
                 dim_label: str, value_label: str) -> go.Figure:
    """Vectors (R, H) as a heat strip: one row per vector, one column per dimension."""
    z = np.round(np.asarray(vectors, dtype=np.float64), DECIMALS).astype(np.float32)
    rows = escape_tokens(row_labels)
    bound = float(np.abs(z).max()) if z.size else 1.0
    fig = go.Figure(go.Heatmap(
        z=z, y=list(range(len(rows))), colorscale="RdBu_r", zmid=0.0, zmin=-bound, zmax=bound,  # %{y}: the row's tick text
        colorbar=dict(title=plot_text(value_label)),
        hovertemplate=f"%{{y}}<br>{plot_text(dim_label)} %{{x}}: %{{z:.3f}}<extra></extra>"))
    fig.update_layout(title=plot_text(title), plot_bgcolor="white",
                      height=max(220, 120 + 28 * len(rows)), margin=dict(l=10, r=10, t=50, b=10),
                      xaxis=dict(title=plot_text(dim_label), showgrid=False),
                      yaxis=token_axis(rows) | dict(autorange="reversed"))
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
            name=plot_text(label), customdata=counts, line=dict(color=KIND_COLORS.get(model.get("attention"))),
            hovertemplate=f"%{{x}}: %{{y:.1f}} (n=%{{customdata}})<extra>{plot_text(label)}</extra>"))
    order = [b for b in report.get("buckets", [])]
    fig.update_layout(plot_bgcolor="white", height=380, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis=dict(title=plot_text(x_label), categoryorder="array", categoryarray=order),
                      yaxis=dict(title=plot_text(y_label), rangemode="tozero", gridcolor="#eee"),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def topk_bar(top_k: Sequence[tuple[str, float]], chosen: str, prob_label: str) -> go.Figure:
    """The k most likely next words, the chosen one highlighted, on a 0..1 axis."""
    words = escape_tokens([w for w, _ in top_k])
    probs = [round(float(p), DECIMALS) for _, p in top_k]
    colors = ["#d62728" if w == chosen else "#9ecae1" for w, _ in top_k]
    fig = go.Figure(go.Bar(x=probs, y=list(range(len(words))), orientation="h", marker_color=colors,
                           texttemplate="%{x:.3f}", textposition="outside",  # %{y}: the word (tick text)
                           hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_layout(plot_bgcolor="white", height=80 + 40 * len(words), showlegend=False,
                      margin=dict(l=10, r=10, t=20, b=10),
                      xaxis=dict(range=[0, 1.15], title=plot_text(prob_label), gridcolor="#eee"),
                      yaxis=token_axis(words) | dict(autorange="reversed"))
    return fig


def step_figure(tokens: Sequence[str], scores: np.ndarray | None, weights: np.ndarray | None,
                top_k: Sequence[tuple[str, float]], chosen: str, labels: dict[str, str]) -> go.Figure:
    """One decoding step as ONE figure (a step resends one chart, not two; issue 12): the
    scores e_tj over the weights a_tj on the source (left; a Transformer has no scores) and the
    chosen word with its rivals (right). Panels are named by their axis titles, not subplot
    titles (an annotation each, ~150 bytes a step).

    labels: title, scores, weights, source, topk (translated plain text, escaped here).
    No weights (a model without attention): the rivals only.
    """
    title = dict(text=plot_text(labels["title"]), x=0, xanchor="left")
    if weights is None:
        fig = topk_bar(top_k, chosen, labels["topk"])
        fig.update_layout(title=title, margin=dict(t=60), height=fig.layout.height + 40)
        return fig
    has_scores = scores is not None
    specs = [[{}, {"rowspan": 2}], [{}, None]] if has_scores else [[{"rowspan": 2}, {"rowspan": 2}], [None, None]]
    fig = make_subplots(rows=2, cols=2, specs=specs, column_widths=[0.6, 0.4], horizontal_spacing=0.14,
                        vertical_spacing=0.06)
    _source_bars(fig, escape_tokens(tokens), scores, weights, labels)
    _rival_bars(fig, top_k, chosen, labels["topk"])
    fig.update_layout(title=title, plot_bgcolor="white", showlegend=False, height=480,
                      margin=dict(l=10, r=10, t=50, b=10))
    return fig


def _source_bars(fig: go.Figure, tokens: list[str], scores, weights, labels: dict[str, str]) -> None:
    """Scores (row 1, when given) over weights, one bar per source token at the same places
    (both axes list every token, so neither needs to match the other)."""
    x, row = list(range(len(tokens))), 1 + (scores is not None)
    if scores is not None:
        s = np.round(np.asarray(scores, dtype=np.float64), DECIMALS).astype(np.float32)
        fig.add_trace(go.Bar(x=x, y=s, marker_color="#8c8c8c", name=plot_text(labels["scores"]),
                             hovertemplate="%{x}: %{y:.3f}<extra></extra>"), row=1, col=1)
        fig.update_xaxes(token_axis(tokens, show=False), row=1, col=1)
        fig.update_yaxes(title=plot_text(labels["scores"]), row=1, col=1)
    w = np.round(np.asarray(weights, dtype=np.float64), DECIMALS).astype(np.float32)
    fig.add_trace(go.Bar(x=x, y=w, marker_color="#3b528b", texttemplate="%{y:.2f}", textposition="outside",
                         name=plot_text(labels["weights"]), hovertemplate="%{x}: %{y:.3f}<extra></extra>"),
                  row=row, col=1)
    fig.update_yaxes(range=[0, 1.15], title=plot_text(labels["weights"]), gridcolor="#eee", row=row, col=1)
    fig.update_xaxes(token_axis(tokens, labels["source"]), row=row, col=1)


def _rival_bars(fig: go.Figure, top_k: Sequence[tuple[str, float]], chosen: str, title: str) -> None:
    words = escape_tokens([w for w, _ in top_k])
    colors = ["#d62728" if w == chosen else "#9ecae1" for w, _ in top_k]
    fig.add_trace(go.Bar(x=[round(float(p), DECIMALS) for _, p in top_k], y=list(range(len(words))),
                         orientation="h", name=plot_text(title), marker_color=colors,
                         texttemplate="%{x:.3f}", textposition="outside",
                         hovertemplate="%{y}: %{x:.3f}<extra></extra>"), row=1, col=2)
    fig.update_xaxes(range=[0, 1.15], title=plot_text(title), gridcolor="#eee", row=1, col=2)
    fig.update_yaxes(token_axis(words) | dict(autorange="reversed"), row=1, col=2)
