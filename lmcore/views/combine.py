"""Several one-panel figures as ONE figure, stacked top to bottom (issue 12, bytes per step).

    fig = stacked([bars, heatmap], heights=[260, 520], title="Step 3: ...")

A step view that redraws two charts sends two plotly messages (~0.5 kB each besides their
data); stacked, it sends one. Each part keeps its traces and its axes' settings (titles,
tick labels, ranges, reversed rows); its own title is dropped for the one `title`. A part's
colour bar is placed beside that part's row.
"""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lmcore.views.plots import plot_text

GAP_PX = 70  # between parts: room for the upper part's axis title and tick labels
_PLACE = ("domain", "anchor", "overlaying", "position")


def _axis(layout: go.Layout, letter: str) -> dict:
    """One part's x or y axis settings, without where it sits (the stack decides that)."""
    axis = layout[f"{letter}axis"].to_plotly_json() if layout[f"{letter}axis"] else {}
    return {k: v for k, v in axis.items() if k not in _PLACE}


def stacked(figures: Sequence[go.Figure], heights: Sequence[int], title: str | None = None,
            margin: dict | None = None) -> go.Figure:
    """The figures (one x/y axis pair each) as rows of one figure; heights in px per row.

    title: plain text (escaped here). Layout besides the axes comes from the first figure
    (plot_bgcolor, ...); the legend is off, as in the app's one-trace parts.
    """
    total = sum(heights) + GAP_PX * (len(figures) - 1)
    fig = make_subplots(rows=len(figures), cols=1, row_heights=list(heights),
                        vertical_spacing=GAP_PX / total)
    for row, part in enumerate(figures, start=1):
        for trace in part.data:
            fig.add_trace(trace, row=row, col=1)
        fig.update_xaxes(_axis(part.layout, "x"), row=row, col=1)
        fig.update_yaxes(_axis(part.layout, "y"), row=row, col=1)
        domain = fig.get_subplot(row, 1).yaxis.domain
        for trace in fig.data[-len(part.data):]:
            if "colorbar" in trace and trace.type == "heatmap":
                trace.colorbar.update(len=domain[1] - domain[0], y=domain[0], yanchor="bottom")
    first = figures[0].layout
    fig.update_layout(plot_bgcolor=first.plot_bgcolor, showlegend=False, height=total + 70,
                      margin=margin or dict(l=10, r=10, t=60, b=10),
                      title=dict(text=plot_text(title), x=0, xanchor="left") if title else None)
    return fig
