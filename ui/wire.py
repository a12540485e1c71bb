"""A figure as the browser needs it: the same picture in fewer bytes (issue 12, bytes per step).

`for_browser(fig, colorway)` returns an unvalidated copy of the figure in which
- a colour scale that plotly.js knows by name (Viridis, Cividis) is sent as that name
  (~350 bytes less than its ten stops), and
- a heatmap's or a bar chart's x or y that only counts 0, 1, 2, … (the axes' tick text names
  the tokens) is left out: plotly.js counts the same way by itself, and
- an axis whose ticks name each position 0, 1, 2, … once (unique labels: the 72 "layer · head"
  rows, a bar chart's candidates) becomes a category axis holding those names, without the
  counting tickvals (`_categories`; token axes, where a word can repeat, keep their ticks); up
  to 60 names all show, as their ticks did, more (72 rows of 4 px) are thinned by plotly.js, and
- a one-trace figure's showlegend=false is left out (plotly.js shows no legend for one trace), and
- an axis's showticklabels=true, plotly.js's default, is left out, and
- an attention map (a heatmap on the fixed 0-1 scale, every cell a weight, hover showing %{z})
  goes as whole percents, one byte a cell instead of four (`_as_percent`); its hover and colour
  bar say "%", and the Numbers menu still offers the exact weights; a map with masked cells
  (NaN, which uint8 cannot hold) keeps its floats and says "%" too, as does a shared 0-1 colour
  axis (the 72-head grid), so every attention picture reads the same way, and
- a trace's name that nothing shows (no legend, and a hover template that ends in an empty
  <extra></extra>) is left out; the Numbers menu still names each series from the figure, and
- layout positions that plotly.py's make_subplots computes (axis domains, subplot-title and
  colour-bar places: 0.7639910457307324) go with 4 decimals, well under a pixel, and
- the template carries only the colour cycle, and only when a trace has no colour of its own
  (heatmaps, and bars or lines with explicit colours, need none): Streamlit's front end builds
  the rest of its theme itself (fonts, axes, hover labels) from theme="streamlit".
Pure plotly: no Streamlit import, so tests/test_wire.py runs without a page.
"""
from __future__ import annotations

import base64
import collections
import re
from typing import Any

import numpy as np
import plotly.graph_objects as go

from lmcore.views.plots import resolved_scale

# plotly.js's own named scales that draw what plotly.py's same-named stops draw (plotly.js's
# "Blues", "Reds" and "Greys" are other scales than plotly.py's, so they stay as stops)
NAMED = {resolved_scale(name): name for name in ("Viridis", "Cividis")}
EVERY_LABEL = 60  # a category axis with more names (the 72 "layer · head" rows) lets plotly.js thin them
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


_Z_FIELD = re.compile(r"%\{z(?::[^}]*)?\}")


def _array(value: Any) -> np.ndarray | None:
    """A plotly array (a list, a numpy array, or to_dict()'s base64 typed-array spec) as float64."""
    try:
        if isinstance(value, dict) and "bdata" in value:
            flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
            shape = [int(n) for n in str(value.get("shape", flat.size)).split(",")]
            return flat.astype(np.float64).reshape(shape)
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, KeyError):
        return None


def _as_percent(trace: dict) -> None:
    """An attention map's weights as whole percents in uint8 (plotly.js reads typed arrays), in
    place: 1 % steps are finer than the colour scale shows, and each cell costs a quarter of a
    float32. Only heatmaps on zmin=0 / zmax=1 with every weight in [0, 1] (no gaps: uint8 has no
    NaN) and a hover that shows %{z} and no cell text, so nothing shows the old 0-1 numbers."""
    if trace.get("type") != "heatmap" or trace.get("zmin") != 0 or trace.get("zmax") != 1:
        return
    hover = trace.get("hovertemplate")
    if not isinstance(hover, str) or not _Z_FIELD.search(hover) or "texttemplate" in trace or "text" in trace:
        return
    z = _array(trace.get("z"))
    if z is None:
        return
    if z.ndim != 2 or not z.size or np.isnan(z).all() or np.nanmin(z) < 0 or np.nanmax(z) > 1:
        return
    if not np.isfinite(z).all():  # masked cells: the floats stay, shown in % like the rest
        trace["hovertemplate"] = _Z_FIELD.sub("%{z:.0%}", hover)
        trace["colorbar"] = dict(trace.get("colorbar") or {}, tickformat=".0%")
        return
    trace["z"] = np.rint(z * 100).astype(np.uint8)
    trace["zmin"], trace["zmax"] = 0, 100
    trace["hovertemplate"] = _Z_FIELD.sub("%{z}%", hover)
    trace["colorbar"] = dict(trace.get("colorbar") or {}, ticksuffix="%")
    trace.pop("hoverongaps", None)  # no gaps left to hover on


def _layout_axis(trace: dict, a: str) -> str:
    """The layout key of a trace's x or y axis: "x2" -> "xaxis2"."""
    return trace.get(f"{a}axis", a).replace(a, f"{a}axis", 1)


def _axis_names(trace: dict) -> tuple[tuple[str, str], ...]:
    """(trace field, layout axis key) of a trace's category-capable axes: x / y of heatmaps,
    the category axis of bars."""
    kind = trace.get("type")
    axes = {"heatmap": ("x", "y"), "bar": ("y",) if trace.get("orientation") == "h" else ("x",)}.get(kind, ())
    return tuple((a, _layout_axis(trace, a)) for a in axes)


def _one_unlisted_trace(traces: list) -> bool:
    """One trace that plotly.js would not list in a legend by default (not a pie, not forced)."""
    return len(traces) == 1 and traces[0].get("type") not in ("pie", "funnelarea", "sunburst") \
        and traces[0].get("showlegend") is not True


def _gapless_map(trace: dict) -> bool:
    """A heatmap sent as percents: every cell filled (`_as_percent` takes none with gaps)."""
    z = trace.get("z")
    return trace.get("type") == "heatmap" and isinstance(z, np.ndarray) and z.dtype == np.uint8


def _categories(spec: dict) -> None:
    """Unique tick labels at 0..n-1 as the axis's categories, in place (see the module docstring).
    Only for an axis one trace uses, that nothing matches, whose positions the trace leaves out."""
    layout, traces = spec.get("layout", {}), spec.get("data", [])
    users: dict[str, list] = {}
    for trace in traces:
        for field, axis in _axis_names(trace):
            users.setdefault(axis, []).append((trace, field))
    # every trace on an axis, of any kind (a line over bars shares their x)
    on_axis = collections.Counter(_layout_axis(trace, a) for trace in traces for a in ("x", "y"))
    matched = {str(a.get("matches", "")) for a in layout.values() if isinstance(a, dict)}
    for axis, used in users.items():
        spec_axis = layout.get(axis)
        if on_axis[axis] != 1 or not isinstance(spec_axis, dict) or "matches" in spec_axis:  # so len(used) == 1
            continue
        trace, field = used[0]
        text, ticks = spec_axis.get("ticktext"), spec_axis.get("tickvals")
        if (axis.replace("axis", "") in matched or field in trace or spec_axis.get("tickmode") != "array"
                or not isinstance(text, list) or not _counts(ticks) or len(text) != len(ticks)
                or len(set(map(str, text))) != len(text) or not all(isinstance(x, str) for x in text)):
            continue
        trace[field] = text
        for name in ("tickmode", "tickvals", "ticktext"):
            del spec_axis[name]
        spec_axis["type"] = "category"
        if len(text) <= EVERY_LABEL:
            spec_axis["dtick"] = 1  # every name, as the ticks showed them (plotly.js would thin them)
        spec_axis.pop("zeroline", None)  # plotly.js draws zero lines on linear axes only
        if _gapless_map(trace):  # the map covers every grid line
            spec_axis.pop("showgrid", None)


def _unseen_names(spec: dict) -> None:
    """Drop each trace name that neither a legend nor a hover label shows (in place)."""
    traces, layout = spec.get("data", []), spec.get("layout", {})
    legend = layout.get("showlegend") is not False and not _one_unlisted_trace(traces)
    for trace in traces:
        if "name" in trace and not (legend and trace.get("showlegend") is not False) \
                and str(trace.get("hovertemplate", "")).endswith("<extra></extra>"):
            del trace["name"]


PLACES = ("domain", "x", "y", "len")  # layout numbers make_subplots writes with 16 digits


def _rounded_places(node: Any, key: str = "") -> Any:
    """Layout floats under PLACES keys rounded to 4 decimals (in place where it can)."""
    if isinstance(node, dict):
        for k, v in node.items():
            node[k] = _rounded_places(v, k)
    elif isinstance(node, (list, tuple)) and key in PLACES:
        return [round(v, 4) if isinstance(v, float) else v for v in node]
    elif isinstance(node, list):
        return [_rounded_places(v, key) for v in node]
    elif isinstance(node, float) and key in PLACES:
        return round(node, 4)
    return node


def for_browser(fig: go.Figure, colorway: tuple | list | None) -> go.Figure:
    """An unvalidated copy of `fig` for st.plotly_chart (see the module docstring)."""
    spec = fig.to_dict()
    _unseen_names(spec)
    _rounded_places(spec.get("layout", {}))
    for trace in spec.get("data", []):
        _drop_counting(trace)
        _as_percent(trace)
        if isinstance(trace.get("colorbar"), dict):
            _rounded_places(trace["colorbar"])
    _categories(spec)
    _rename_scales(spec.get("data", []))
    layout = spec.setdefault("layout", {})
    for key, value in layout.items():
        if key.startswith("coloraxis"):
            _rename_scales(value)
            if isinstance(value, dict) and value.get("cmin") == 0 and value.get("cmax") == 1:
                value["colorbar"] = dict(value.get("colorbar") or {}, tickformat=".0%")  # as the maps
        elif key.startswith(("xaxis", "yaxis")) and isinstance(value, dict):
            if value.get("showticklabels") is True:
                del value["showticklabels"]  # plotly.js's default
            if value.get("title") == {}:
                del value["title"]  # an empty title object draws nothing
    if layout.get("showlegend") is False and _one_unlisted_trace(spec.get("data", [])):
        del layout["showlegend"]
    needs_cycle = any(not _has_colour(trace) for trace in spec.get("data", []))
    layout["template"] = {"layout": {"colorway": list(colorway)}} if needs_cycle and colorway else {}
    return go.Figure(spec, _validate=False)
