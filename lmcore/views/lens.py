"""Pure plotly builders for the inside of a generating model: the top-p bars and the logit lens.

Tokens are html-escaped and drawn at integer positions (repeated tokens never merge);
probabilities are rounded before they go to the browser and drawn on a fixed 0..1 scale.
Callers pass every label already translated.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from lmcore.views.plots import (
    COLORSCALE,
    DECIMALS,
    escape_tokens,
    plot_text,
    token_axis,
)

IN_COLOUR, OUT_COLOUR, LINE_COLOUR = "#3b528b", "#c8c8c8", "#d95f02"


@dataclass(frozen=True)
class NucleusLabels:
    """Translated strings of the top-p bars."""
    token: str = "Token"
    probability: str = "Probability"
    cumulative: str = "Cumulative probability"
    sampled: str = "Sampled with"
    in_nucleus: str = "in the nucleus"
    outside: str = "outside the nucleus"
    threshold: str = "top-p"


def nucleus_bars(tokens: Sequence[str], probabilities: Sequence[float], in_nucleus: Sequence[bool],
                 sampled: Sequence[float], top_p: float, title: str | None = None,
                 labels: NucleusLabels = NucleusLabels()) -> go.Figure:
    """The top-k next tokens: bars of the model's probability (before renormalising), dark in
    the nucleus and grey outside, the running sum as a line and top-p as a dashed level.

    tokens, probabilities, in_nucleus, sampled: one entry per bar, most likely first;
    sampled is the probability in the distribution one actually samples from.
    """
    names = escape_tokens(tokens)
    p = np.round(np.asarray(probabilities, dtype=np.float64), DECIMALS)
    q = np.round(np.asarray(sampled, dtype=np.float64), DECIMALS)
    inside = np.asarray(in_nucleus, dtype=bool)
    x = list(range(len(p)))
    esc = {k: plot_text(v) for k, v in labels.__dict__.items()}
    status = [esc["in_nucleus"] if m else esc["outside"] for m in inside]
    bars = go.Bar(x=x, y=p, name=esc["probability"], text=[f"{v:.{DECIMALS}f}" for v in p],
                  textposition="outside", marker_color=[IN_COLOUR if m else OUT_COLOUR for m in inside],
                  customdata=np.stack([names, status, [f"{v:.{DECIMALS}f}" for v in q]], axis=-1)
                  if len(p) else None,
                  hovertemplate=(f"{esc['token']}: %{{customdata[0]}}<br>{esc['probability']}: %{{y:.{DECIMALS}f}}"
                                 f"<br>%{{customdata[1]}}<br>{esc['sampled']}: %{{customdata[2]}}<extra></extra>"))
    running = go.Scatter(x=x, y=np.round(np.cumsum(p), DECIMALS), name=esc["cumulative"], mode="lines+markers",
                         line=dict(color=LINE_COLOUR), hovertemplate=f"{esc['cumulative']}: %{{y:.{DECIMALS}f}}<extra></extra>")
    fig = go.Figure([bars, running])
    top = float(np.sum(p)) if len(p) else 0.0
    if top_p < 1:  # the level the running sum must reach (P = 1: every token, no line)
        fig.add_hline(y=float(top_p), line_dash="dash", line_color=LINE_COLOUR,
                      annotation_text=f"{esc['threshold']} = {top_p:.2f}", annotation_position="top left")
        top = max(top, float(top_p))
    fig.update_layout(title=plot_text(title) if title else None, plot_bgcolor="white",
                      xaxis=token_axis(names, labels.token),
                      yaxis=dict(range=[0, min(1.0, top) * 1.15 or 1.0], title=esc["probability"], gridcolor="#eee"),
                      legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"),
                      margin=dict(l=10, r=10, t=60 if title else 30, b=10))
    return fig


@dataclass(frozen=True)
class LensLabels:
    """Translated strings of the logit-lens grid."""
    layer: str = "Layer"
    probability: str = "Probability"
    reads: str = "Input token"


def lens_grid(top_tokens: Sequence[Sequence[str]], top_probability: np.ndarray,
              hover_top: Sequence[Sequence[str]], tokens: Sequence[str], layer_names: Sequence[str],
              title: str | None = None, labels: LensLabels = LensLabels()) -> go.Figure:
    """Layers (rows, the output on top) x positions: each cell names the layer's top-1 token
    with its probability as colour; hover lists the top-k.

    top_tokens: (L + 1, n) top-1 display labels; top_probability: (L + 1, n) in 0..1;
    hover_top: (L + 1, n) plain-text top-k lines ("the 0.31 · a 0.12"); tokens: the n inputs.
    """
    z = np.round(np.asarray(top_probability, dtype=np.float64), DECIMALS)
    n_layers, n = z.shape
    cells = [escape_tokens(row) for row in top_tokens]
    inputs, rows = escape_tokens(tokens), escape_tokens(layer_names)
    esc = {k: plot_text(v) for k, v in labels.__dict__.items()}
    hover = [[f"{rows[l]} · {esc['reads']}: {inputs[i]}<br>{plot_text(hover_top[l][i])}"
              for i in range(n)] for l in range(n_layers)]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(n)), y=list(range(n_layers)), zmin=0.0, zmax=1.0, colorscale=COLORSCALE,
        text=cells, texttemplate="%{text}", customdata=hover, hovertemplate="%{customdata}<extra></extra>",
        colorbar=dict(title=esc["probability"], thickness=12)))
    fig.update_layout(title=plot_text(title) if title else None, plot_bgcolor="white",
                      xaxis=token_axis(inputs, labels.reads, show=n <= 40) | dict(tickangle=-45),
                      yaxis=token_axis(rows, labels.layer),
                      height=max(320, 48 * n_layers + 140), margin=dict(l=10, r=10, t=50 if title else 20, b=10))
    return fig
