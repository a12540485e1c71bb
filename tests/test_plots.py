"""lmcore.views.plots: token axes, escaping, fixed colour range, masked cells, grid layout."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from lmcore.views import plots
from lmcore.record import AttentionMaps

ROOT = Path(__file__).resolve().parent.parent


def _maps(tokens: list[str], kind: str = "self", layers: int = 1, heads: int = 1,
          seed: int = 0) -> AttentionMaps:
    rng = np.random.default_rng(seed)
    n = len(tokens)
    w = rng.random((layers, heads, n, n)) + 0.01
    if kind == "causal":
        w = np.tril(w)
    w = w / w.sum(-1, keepdims=True)
    return AttentionMaps(w.astype(np.float32), tuple(tokens), tuple(tokens), kind)


def test_repeated_tokens_keep_separate_columns():
    maps = _maps(["the", "cat", "saw", "the", "dog"])
    fig = plots.attention_heatmap(maps)
    z = np.asarray(fig.data[0].z)
    assert z.shape == (5, 5)
    assert list(fig.data[0].x) == [0, 1, 2, 3, 4]
    assert list(fig.layout.xaxis.tickvals) == [0, 1, 2, 3, 4]
    assert list(fig.layout.xaxis.ticktext) == ["the", "cat", "saw", "the", "dog"]
    np.testing.assert_allclose(z[:, 3], np.round(maps.weights[0, 0, :, 3], 3))
    assert not np.allclose(z[:, 0], z[:, 3])


def test_script_tokens_are_escaped_everywhere():
    bad = "</script><img src=x onerror=alert(1)>"
    maps = _maps(["ok", bad, "&"])
    figures = [plots.attention_heatmap(maps, title=bad, query_label=bad),
               plots.attention_grid(maps),
               plots.weights_bar(["ok", bad, "&"], [0.2, 0.3, 0.5], title=bad),
               plots.vector_plot(["ok", bad, "&"], np.eye(3), [0.2, 0.3, 0.5], np.ones(3),
                                 np.ones(3), title=bad, query_label=bad)]
    for fig in figures:
        # to_json writes "<" as \u003c: decode it, or this test could not fail
        text = json.dumps(json.loads(fig.to_json()), ensure_ascii=False)
        assert "<script" not in text and "</script" not in text and "<img" not in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert plots.attention_heatmap(maps).layout.xaxis.ticktext[2] == "&amp;"


def test_weights_colour_range_is_fixed():
    maps = _maps(["a", "b", "c"])
    small = AttentionMaps(maps.weights * 0.1, maps.query_tokens, maps.key_tokens, "self")
    fig = plots.attention_heatmap(small)
    assert (fig.data[0].zmin, fig.data[0].zmax) == (0.0, 1.0)
    grid = plots.attention_grid(_maps(["a", "b"], layers=2, heads=2))
    assert (grid.layout.coloraxis.cmin, grid.layout.coloraxis.cmax) == (0.0, 1.0)
    assert plots.weights_bar(["a"], [0.01]).layout.yaxis.range[0] == 0


def test_causal_upper_triangle_is_blank():
    maps = _maps(["a", "b", "c", "d"], kind="causal")
    z = np.asarray(plots.attention_heatmap(maps).data[0].z, dtype=float)
    upper = np.triu(np.ones((4, 4), bool), k=1)
    assert np.isnan(z[upper]).all()
    assert not np.isnan(z[~upper]).any()
    self_z = np.asarray(plots.attention_heatmap(_maps(["a", "b", "c", "d"])).data[0].z, float)
    assert not np.isnan(self_z).any()


def test_causal_with_more_keys_than_queries_shifts_the_diagonal():
    w = np.tril(np.ones((2, 4)), k=2)
    maps = AttentionMaps((w / w.sum(-1, keepdims=True))[None, None], ("c", "d"),
                         ("a", "b", "c", "d"), "causal")
    z = np.asarray(plots.attention_heatmap(maps).data[0].z, dtype=float)
    assert np.isnan(z[0, 3]) and not np.isnan(z[0, 2]) and not np.isnan(z[1]).any()


def test_extra_mask_blanks_padding():
    maps = _maps(["a", "b", "[PAD]"])
    z = np.asarray(plots.attention_heatmap(maps, mask=np.array([True, True, False])).data[0].z,
                   dtype=float)
    assert np.isnan(z[:, 2]).all() and not np.isnan(z[:, :2]).any()


def test_hover_is_readable_and_numbers_rounded():
    maps = _maps(["x", "y"])
    fig = plots.attention_heatmap(maps, query_label="query", key_label="key", weight_label="weight")
    z = np.asarray(fig.data[0].z)
    assert np.array_equal(z, np.round(z, 3))
    trace = fig.data[0]  # one template names the tokens through the axes' tick text
    assert trace.text is None and trace.hovertemplate == \
        "query: %{y}<br>key: %{x}<br>weight: %{z:.3f}<extra></extra>"
    assert list(fig.layout.yaxis.ticktext) == ["x", "y"] and fig.layout.yaxis.tickmode == "array"
    assert np.asarray(trace.z).dtype == np.float32


def test_hover_labels_are_escaped_and_no_cell_strings_reach_the_browser():
    maps = _maps(["<b>a</b>"] + [f"t{i}" for i in range(19)])
    fig = plots.attention_heatmap(maps, query_label="<q>", key_label="k", weight_label="w")
    assert fig.data[0].hovertemplate.startswith("&lt;q&gt;: %{y}")
    spec = fig.to_json()
    assert "<b>a" not in spec and "&lt;b&gt;a" in spec
    assert spec.count("&lt;b&gt;a") == 2  # once per axis, not once per cell


def test_weights_bar_sends_no_per_bar_strings_unless_masked():
    bar = plots.weights_bar(["a", "b"], [0.25, 0.75]).data[0]
    assert bar.text is None and bar.texttemplate == "%{y:.3f}" and "%{x}" in bar.hovertemplate


def test_grid_has_one_trace_per_layer_and_head():
    maps = _maps(["a", "b", "a"], layers=3, heads=4)
    fig = plots.attention_grid(maps)
    assert len(fig.data) == 12
    assert all(isinstance(tr, go.Heatmap) and tr.coloraxis == "coloraxis" for tr in fig.data)
    assert len(fig.layout.annotations) == 3 + 4  # layer and head titles, no per-cell text
    assert fig.data[5].xaxis == "x6" and fig.layout.xaxis6.anchor == "y6"
    part = plots.attention_grid(maps, layers=[1], heads=[0, 2])
    assert len(part.data) == 2
    np.testing.assert_allclose(np.asarray(part.data[1].z), np.round(maps.weights[1, 2], 3))


def test_large_grid_stays_light():
    maps = _maps([f"t{i}" for i in range(30)], layers=6, heads=12)
    fig = plots.attention_grid(maps)
    assert len(fig.data) == 72
    assert all(tr.text is None for tr in fig.data)  # no 64 800 hover strings
    assert len(fig.to_json()) < 700_000  # float32 typed arrays, ~0.5 MB


def test_weights_bar_marks_masked_positions():
    fig = plots.weights_bar(["I", "I", "you"], [0.25, 0.0, 0.75], masked=[False, True, False],
                            masked_label="masked")
    bar = fig.data[0]
    assert list(bar.x) == [0, 1, 2] and list(fig.layout.xaxis.ticktext) == ["I", "I", "you"]
    assert bar.text[1] == "masked" and bar.text[2] == "0.750"


def test_vector_plot_path_ends_at_the_context_vector():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    weights = np.array([0.5, 0.25, 0.25])
    context = weights @ vectors
    fig = plots.vector_plot(["a", "b", "c"], vectors, weights, np.array([1.0, 0.5]), context)
    path = [tr for tr in fig.data if tr.mode == "lines"][0]
    assert (path.x[-1], path.y[-1]) == pytest.approx(tuple(context))
    assert fig.layout.yaxis.scaleanchor == "x"


def test_plots_import_no_streamlit():
    code = "import sys, lmcore.views.plots; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_grid_panels_without_labels_draw_no_tick_marks():
    """The white dash at the edge of every panel was a hidden axis's tick mark."""
    from lmcore.views.plots import token_axis
    assert token_axis(["a", "b"], show=False)["ticks"] == ""
    assert token_axis(["a", "b"], show=True)["ticks"] is None


@pytest.mark.parametrize("title,kind", [(None, "self"), ("Layer 1 <i>", "causal")])
def test_fast_heatmap_is_the_validated_figure(title, kind):
    """attention_heatmap skips plotly's validation (speed): its JSON must equal a validated copy's."""
    maps = AttentionMaps(np.random.default_rng(1).random((2, 2, 3, 3)).astype(np.float32),
                         ["a", "<b>", "a"], ["a", "<b>", "a"], kind)
    fig = plots.attention_heatmap(maps, 1, 1, title=title, weight_label="w <x>")
    checked = go.Figure(fig.to_dict())  # validated
    assert json.loads(fig.to_json()) == json.loads(checked.to_json())
    assert fig.layout.title.text == (None if title is None else "Layer 1 &lt;i&gt;")
    assert fig.data[0].colorscale == checked.data[0].colorscale  # recolor compares these


def test_quote_tokens_are_drawn_as_quotes_and_markup_as_text():
    """Plotly does not decode entities: a `"` token must not reach the figure as &quot; (issue 25)."""
    tokens = ['"', "it's", "<b>x</b>", "a&b"]
    maps = AttentionMaps(np.full((1, 1, 4, 4), 0.25, dtype=np.float32), tokens, tokens, "self")
    ticks = plots.attention_heatmap(maps).layout.xaxis.ticktext
    assert list(ticks) == ['"', "it's", "&lt;b&gt;x&lt;/b&gt;", "a&amp;b"]
    assert plots.plot_text('say "hi" <now>') == 'say "hi" &lt;now&gt;'
