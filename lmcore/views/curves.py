"""Training curves, one builder for every page that trains (train-seq2seq, fine-tuning).

Running training values per step and validation values per epoch, one panel per metric.
Labels are passed in already translated and are html-escaped here.
"""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lmcore.views.plots import plot_text

BLUE, ORANGE = "#1f77b4", "#ff7f0e"


def training_curves(steps: Sequence[dict], epochs: Sequence[dict], labels: dict[str, str],
                    metrics: Sequence[str] = ("loss",)) -> go.Figure:
    """One panel per metric: the training value per step (x = fractional epoch), the
    validation value per epoch.

    steps:   [{"x": fractional epoch, "loss": ..., ...}]
    epochs:  [{"epoch": k, "val_loss": ..., ...}]
    labels:  translated "train", "val", "x" and one y title per metric
    metrics: the keys to plot, e.g. ("loss",) or ("loss", "accuracy"); accuracy is on 0..1.
    """
    fig = make_subplots(rows=1, cols=len(metrics))
    x = [round(s["x"], 3) for s in steps]
    for col, key in enumerate(metrics, start=1):
        fig.add_trace(go.Scatter(x=x, y=[round(s[key], 4) for s in steps], mode="lines",
                                 name=plot_text(labels["train"]), line=dict(color=BLUE),
                                 showlegend=col == 1), row=1, col=col)
        fig.add_trace(go.Scatter(x=[e["epoch"] for e in epochs], y=[e[f"val_{key}"] for e in epochs],
                                 mode="lines+markers", name=plot_text(labels["val"]),
                                 line=dict(color=ORANGE), marker=dict(size=9), showlegend=col == 1),
                      row=1, col=col)
        y_range = dict(range=[0, 1.02]) if key == "accuracy" else dict(rangemode="tozero")
        fig.update_yaxes(title_text=plot_text(labels[key]), gridcolor="#eee", row=1, col=col,
                         **y_range)
    fig.update_xaxes(title_text=plot_text(labels["x"]), rangemode="tozero", gridcolor="#eee")
    fig.update_layout(plot_bgcolor="white", height=320, margin=dict(l=40, r=10, t=40, b=40),
                      legend=dict(orientation="h", y=-0.25))
    return fig
