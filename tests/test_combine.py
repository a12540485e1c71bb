"""lmcore.views.combine: one-panel figures stacked into one, each keeping its traces and axes."""
from __future__ import annotations

import numpy as np

from lmcore.record import AttentionMaps
from lmcore.views import plots
from lmcore.views.combine import stacked


def test_parts_keep_their_traces_and_axes_and_the_colour_bar_sits_by_its_row():
    bars = plots.weights_bar(["a", "<b>"], [0.7, 0.3], title="dropped", token_label="Token", weight_label="P")
    w = np.random.default_rng(0).dirichlet(np.ones(3), size=(1, 1, 4)).astype(np.float32)
    heat = plots.attention_heatmap(AttentionMaps(w, tuple("wxyz"), tuple("abc"), "cross"), query_label="Row")
    fig = stacked([bars, heat], heights=[200, 400], title="Step <1>")
    bar, cells = fig.data
    assert (bar.xaxis, bar.yaxis, cells.xaxis, cells.yaxis) == ("x", "y", "x2", "y2")
    assert list(fig.layout.yaxis.range) == [0, 1.15] and fig.layout.yaxis.title.text == "P"
    assert fig.layout.yaxis2.autorange == "reversed" and list(fig.layout.yaxis2.ticktext) == list("wxyz")
    assert fig.layout.xaxis.ticktext[1] == "&lt;b&gt;"  # still escaped
    top, bottom = fig.layout.yaxis.domain, fig.layout.yaxis2.domain
    assert bottom[1] < top[0] and (top[1] - top[0]) < (bottom[1] - bottom[0])  # the taller part below
    assert abs(cells.colorbar.len - (bottom[1] - bottom[0])) < 1e-9 and cells.colorbar.y == bottom[0]
    assert fig.layout.title.text == "Step &lt;1&gt;" and fig.layout.height == 200 + 400 + 70 + 70
