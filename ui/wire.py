"""A figure as the browser needs it: the same picture in fewer bytes (issue 12, bytes per step).

`for_browser(fig, colorway)` returns an unvalidated copy of the figure in which
- a colour scale that plotly.js knows by name (Viridis, Cividis) is sent as that name
  (~350 bytes less than its ten stops), and
- a heatmap's or a bar chart's x or y that only counts 0, 1, 2, … (the axes' tick text names
  the tokens) is left out: plotly.js counts the same way by itself, and
- an axis's showticklabels=true, plotly.js's default, is left out, and
- the template carries only the colour cycle, and only when a trace has no colour of its own
  (heatmaps, and bars or lines with explicit colours, need none): Streamlit's front end builds
  the rest of its theme itself (fonts, axes, hover labels) from theme="streamlit".
Pure plotly: no Streamlit import, so tests/test_wire.py runs without a page.
"""
from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from lmcore.views.plots import resolved_scale

# plotly.js's own named scales that draw what plotly.py's same-named stops draw (plotly.js's
# "Blues", "Reds" and "Greys" are other scales than plotly.py's, so they stay as stops)
NAMED = {resolved_scale(name): name for name in ("Viridis", "Cividis")}
_SELF_COLOURED = {"heatmap", "contour", "surface", "histogram2d", "histogram2dcontour", "image"}


def _named(scale: Any) -> Any:
    if isinstance(scale, (list, tuple)):
        try:
            return NAMED.get(tuple(tuple(step) for step in scale), scale)
        except TypeError:
            return scale
    return scale


def _rename_scales(node: Any) -> None:
    """Named scales wherever a colorscale sits (traces, colour axes, markers), in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "colorscale":
                node[key] = _named(value)
            else:
                _rename_scales(value)
    elif isinstance(node, list):
        for item in node:
            _rename_scales(item)


def _has_colour(trace: dict) -> bool:
    """Whether the trace draws in colours of its own (so the colour cycle never reaches it)."""
    kind = trace.get("type", "scatter")
    if kind in _SELF_COLOURED:
        return True
    marker, line = trace.get("marker") or {}, trace.get("line") or {}
    if kind in ("bar", "histogram", "funnel", "waterfall"):
        return "color" in marker
    if kind in ("scatter", "scattergl"):
        mode = trace.get("mode", "lines+markers")
        return ("lines" not in mode or "color" in line) and ("markers" not in mode or "color" in marker)
    return False


def _counts(values: Any) -> bool:
    return isinstance(values, (list, tuple)) and list(values) == list(range(len(values)))


def _drop_counting(trace: dict) -> None:
    """Leave out x / y when they are 0, 1, 2, … (plotly.js's own default positions), in place."""
    kind = trace.get("type")
    if kind == "heatmap":
        axes = ("x", "y")
    elif kind == "bar":
        axes = ("y",) if trace.get("orientation") == "h" else ("x",)
    else:
        return
    for axis in axes:
        if _counts(trace.get(axis)) and f"{axis}0" not in trace and f"d{axis}" not in trace:
            del trace[axis]


def for_browser(fig: go.Figure, colorway: tuple | list | None) -> go.Figure:
    """An unvalidated copy of `fig` for st.plotly_chart (see the module docstring)."""
    spec = fig.to_dict()
    for trace in spec.get("data", []):
        _drop_counting(trace)
    _rename_scales(spec.get("data", []))
    layout = spec.setdefault("layout", {})
    for key, value in layout.items():
        if key.startswith("coloraxis"):
            _rename_scales(value)
        elif key.startswith(("xaxis", "yaxis")) and isinstance(value, dict) and value.get("showticklabels") is True:
            del value["showticklabels"]  # plotly.js's default
    needs_cycle = any(not _has_colour(trace) for trace in spec.get("data", []))
    layout["template"] = {"layout": {"colorway": list(colorway)}} if needs_cycle and colorway else {}
    return go.Figure(spec, _validate=False)
