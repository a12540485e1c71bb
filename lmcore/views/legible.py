"""Readable text on any figure (issue 25): a smallest font, a height that fits, and token axes
whose labels never overprint.

    legible(fig, font_px=20, width_px=1100, max_height=420)

- every text the figure draws (tick labels, axis titles, annotations, legend, colour bars, bar
  and cell texts, hover labels) is at least `font_px` (layout.font alone does not reach the
  tick labels: Streamlit's theme gives each axis a 12 px tick font of its own);
- the figure is at most `max_height` px tall (None: as built);
- a token axis (tickmode "array") whose labels would overprint at that size is rotated
  (x axes, to -90 degrees), then thinned to every k-th label; the labels left out still show on
  hover: a heatmap of at most HOVER_CELLS cells whose hover names the axis (%{x}, %{y}) gets
  them as customdata instead.

The plot's width is not known on the server: `width_px` is the width the figure's container is
assumed to have (the caller's estimate; layout.width wins when set). Pure plotly, idempotent.
"""
from __future__ import annotations

import math
import re
from typing import Any

import plotly.graph_objects as go

LINE = 1.3             # a label's height (or a rotated label's width), times the font size
CHAR = 0.56            # an average Latin character's width, times the font size (Source Sans)
WIDE_CHAR = 1.0        # a Hangul (or other wide) character's width, times the font size
DEFAULT_HEIGHT = 450   # plotly.js's default figure height
DEFAULT_MARGIN = dict(t=100, b=80, l=80, r=80)  # plotly.js's default margins
_AXIS = re.compile(r"^[xy]axis\d*$")
_TAG = re.compile(r"<[^>]*>|&[a-z]+;|&#\d+;")
HOVER_FONT_PX = 13     # plotly.js's own hover label size: raised only above it
HOVER_CELLS = 400      # a larger heatmap keeps its plain hover: a label per cell would cost more
                       # than the map itself (GPT's 72-row step map: 9 kB of a 14 kB step)


def text_px(label: str, font_px: float) -> float:
    """About how wide `label` is drawn at `font_px` (tags and entities count as one character)."""
    plain = _TAG.sub("x", str(label))
    return font_px * sum(WIDE_CHAR if ord(c) > 0x2E80 else CHAR for c in plain)


def _at_least(font: Any, font_px: int) -> None:
    """A plotly font's size raised to font_px."""
    if font is not None and (font.size is None or font.size < font_px):
        font.size = font_px


def _axis_names(fig: go.Figure) -> list[str]:
    return [name for name in fig.layout if _AXIS.match(name) and fig.layout[name] is not None]


def _titled(title: Any) -> bool:
    return bool(title is not None and title.text)


def _raise_fonts(fig: go.Figure, font_px: int) -> None:
    """Every font the figure draws raised to font_px; nothing is added for a part it does not
    draw (an untitled axis, a hidden legend, an unused colour axis): each costs bytes a step."""
    layout = fig.layout
    _at_least(layout.font, font_px)
    if font_px > HOVER_FONT_PX:
        _at_least(layout.hoverlabel.font, font_px)
    if layout.showlegend or (layout.showlegend is None and len(fig.data) > 1):
        _at_least(layout.legend.font, font_px)
    if _titled(layout.title):
        _at_least(layout.title.font, font_px)
    for name in _axis_names(fig):
        if layout[name].showticklabels is not False:
            _at_least(layout[name].tickfont, font_px)
        if _titled(layout[name].title):
            _at_least(layout[name].title.font, font_px)
    for note in layout.annotations or ():
        _at_least(note.font, font_px)
    used = {getattr(trace, "coloraxis", None) for trace in fig.data} - {None}
    bars = [layout[name].colorbar for name in sorted(used)]
    bars += [trace.colorbar for trace in fig.data if "colorbar" in trace]
    for bar in bars:
        _at_least(bar.tickfont, font_px)
        if _titled(bar.title):
            _at_least(bar.title.font, font_px)
    for trace in fig.data:
        if "textfont" in trace and (getattr(trace, "text", None) is not None
                                    or getattr(trace, "texttemplate", None)):
            _at_least(trace.textfont, font_px)


def _labels_extent(axis: Any, is_y: bool, font_px: int) -> float:
    """px an axis's tick labels and title take across it (x: their height, rotated or not;
    y: their width)."""
    if axis is None or axis.showticklabels is False:
        return 0.0
    labels = list(axis.ticktext or ())
    longest = max((text_px(s, font_px) for s in labels), default=font_px * 2)
    across = longest if is_y or axis.tickangle in (-90, 90) else font_px * LINE
    return across + (font_px * 1.2 if axis.title and axis.title.text else 0) + 4


def _plot_px(fig: go.Figure, name: str, font_px: int, width_px: float) -> float:
    """About how many px the axis spans: its share of the figure, less the margins and the
    other axis's labels (which plotly's automargin makes room for inside the same size)."""
    layout = fig.layout
    margin = {side: getattr(layout.margin, side) for side in DEFAULT_MARGIN}
    margin = {side: DEFAULT_MARGIN[side] if v is None else v for side, v in margin.items()}
    domain = layout[name].domain or (0, 1)
    other = layout[("y" if name.startswith("x") else "x") + name[1:]]
    if name.startswith("x"):
        bar = font_px * 5 if any("colorbar" in tr and tr.showscale is not False for tr in fig.data
                                 if tr.type == "heatmap") else 0
        full = (layout.width or width_px) - margin["l"] - margin["r"] - bar
    else:
        titled = layout.title and layout.title.text  # a top margin under 1.5 lines: it takes more
        title = max(0.0, font_px * 1.5 - margin["t"]) if titled else 0
        full = (layout.height or DEFAULT_HEIGHT) - margin["t"] - margin["b"] - title
    labels = _labels_extent(other, name.startswith("x"), font_px)
    return max(1.0, (full - labels) * (domain[1] - domain[0]))


def _fit_axis(fig: go.Figure, name: str, font_px: int, width_px: float) -> int:
    """Rotate or thin one token axis so its labels do not overprint: the step kept (1: all)."""
    axis = fig.layout[name]
    if axis.tickmode != "array" or not axis.ticktext or axis.showticklabels is False:
        return 1
    labels = list(axis.ticktext)
    per_label = _plot_px(fig, name, font_px, width_px) / len(labels)
    if name.startswith("x") and axis.tickangle in (None, 0, "auto") and \
            max(text_px(s, font_px) for s in labels) + font_px * 0.4 <= per_label:
        return 1  # level labels fit side by side
    if name.startswith("x"):
        axis.tickangle = -90
    step = max(1, math.ceil(font_px * LINE / per_label))
    if step > 1:
        object.__setattr__(axis, "_full_ticktext", tuple(labels))  # for full_ticktext
        axis.ticktext = [s if i % step == 0 else "" for i, s in enumerate(labels)]
        _hover_from_data(fig, name, labels)
    return step


def full_ticktext(axis: Any) -> tuple | None:
    """An axis's tick text before thinning (the Numbers menu names every position)."""
    return getattr(axis, "_full_ticktext", None) or axis.ticktext


def _hover_from_data(fig: go.Figure, name: str, labels: list[str]) -> None:
    """Heatmaps on a thinned axis: their hover shows the axis's full label, from customdata
    ([query label, key label] per cell; a trace with customdata of its own is left as it is)."""
    letter = name[0]
    ref = f"{letter}{name[5:]}"
    for trace in fig.data:
        if trace.type != "heatmap" or (getattr(trace, f"{letter}axis") or letter) != ref:
            continue
        template = trace.hovertemplate or ""
        if f"%{{{letter}}}" not in template or trace.z is None or not len(trace.z):
            continue
        old = trace.customdata  # kept only when it is ours (the other axis, thinned before)
        if old is not None and not getattr(trace, "_labels_in_data", False):
            continue
        rows, cols = len(trace.z), len(trace.z[0])
        if rows * cols > HOVER_CELLS:
            continue

        def cell(r: int, c: int) -> list:
            kept = list(old[r][c]) if old is not None else ["", ""]
            if letter == "x" and c < len(labels):
                kept[1] = labels[c]
            if letter == "y" and r < len(labels):
                kept[0] = labels[r]
            return kept
        trace.customdata = [[cell(r, c) for c in range(cols)] for r in range(rows)]
        index = 1 if letter == "x" else 0
        trace.hovertemplate = template.replace(f"%{{{letter}}}", f"%{{customdata[{index}]}}")
        object.__setattr__(trace, "_labels_in_data", True)


def legible(fig: go.Figure, font_px: int, width_px: float, max_height: int | None = None) -> go.Figure:
    """Raise every font of `fig` to `font_px`, cap its height, rotate or thin crowded token axes
    (see the module docstring). In place; returns the figure (one already fitted as asked is
    returned as it is: its thinned labels are not thinned again)."""
    asked = (font_px, width_px, max_height)
    if getattr(fig, "_legible", None) == asked:
        return fig
    if max_height is not None and (fig.layout.height or DEFAULT_HEIGHT) > max_height:
        fig.update_layout(height=max_height)
    _raise_fonts(fig, font_px)
    names = _axis_names(fig)  # x axes first: whether they turn decides the room left for y
    for name in sorted(names, key=lambda n: not n.startswith("x")):
        _fit_axis(fig, name, font_px, width_px)
    object.__setattr__(fig, "_legible", asked)
    return fig
