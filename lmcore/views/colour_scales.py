"""Colour scales a class can switch between, applied to a finished figure.

    fig = recolor(fig, "contrast")   # every sequential scale → black on white

"viridis" (the default) and "cividis" are perceptually uniform and readable with
the common colour-vision deficiencies; "contrast" is white → black, for washed-out
projectors and black-and-white printouts. Only sequential scales change: the
diverging red–blue scales (signs of positional encodings, context vectors) keep
their meaning, and so does the grey causal-mask picture.
"""
from __future__ import annotations

import plotly.graph_objects as go

from lmcore.views.plots import resolved_scale

SCALES: dict[str, str | tuple] = {
    "viridis": "Viridis",
    "cividis": "Cividis",
    "contrast": ((0.0, "#ffffff"), (0.5, "#737373"), (1.0, "#000000")),
}
DEFAULT = "viridis"
SEQUENTIAL = ("Viridis", "Blues", "Reds")


_SEQUENTIAL = {resolved_scale(scale) for scale in (*SEQUENTIAL, *SCALES.values())}  # switch back and forth


def _is_sequential(scale: object) -> bool:
    return scale is not None and tuple(tuple(step) for step in scale) in _SEQUENTIAL


def recolor(fig: go.Figure, name: str) -> go.Figure:
    """Swap the figure's sequential colour scales for SCALES[name] (in place; returns fig).

    Unknown names leave the figure as it is.
    """
    if name not in SCALES or name == DEFAULT:
        return fig
    scale = resolved_scale(SCALES[name])  # resolved: figures built without validation keep what they get
    for trace in fig.data:
        if trace.type == "heatmap" and _is_sequential(trace.colorscale):
            trace.colorscale = scale
    for key in [k for k in fig.layout if k.startswith("coloraxis")]:
        axis = fig.layout[key]
        if axis is not None and _is_sequential(axis.colorscale):
            axis.colorscale = scale
    return fig
