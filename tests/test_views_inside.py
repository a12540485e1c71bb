"""Builders of the heads-off and key/value cache pages (lmcore.views.inside), without Streamlit."""
from __future__ import annotations

import numpy as np

from lmcore.views import inside

HOSTILE = "<b>x</b>"


def test_head_grid_has_one_point_per_head_and_crosses_on_heads_off():
    values = np.arange(12, dtype=float).reshape(3, 4) / 11
    fig = inside.head_grid(values, [(2, 1), (0, 3)], HOSTILE, "Layer", "Head", "w", "off")
    cells, crosses = fig.data
    assert len(cells.x) == 12 and cells.customdata[5].tolist() == [1, 1]  # row-major: layer 1, head 1
    assert list(crosses.y) == [0, 2] and list(crosses.x) == [3, 1]
    assert HOSTILE not in fig.layout.title.text and "&lt;b&gt;" in fig.layout.title.text


def test_before_after_bars_cover_both_lists_with_zero_for_missing_words():
    fig = inside.before_after_bars([("cat", 0.5), ("dog", 0.2)], [("dog", 0.4), (HOSTILE, 0.1)],
                                   "t", "before", "after", "token", "p")
    assert list(fig.layout.xaxis.ticktext) == ["cat", "dog", "&lt;b&gt;x&lt;/b&gt;"]
    assert list(fig.data[0].y) == [0.5, 0.2, 0.0] and list(fig.data[1].y) == [0.0, 0.4, 0.1]


def test_effect_vs_attention_and_cache_growth():
    effect, attention = np.array([[0.1, -0.2]]), np.array([[0.9, 0.1]])
    fig = inside.effect_vs_attention(effect, attention, "t", "e", "a", "L", "H")
    assert list(fig.data[0].x) == [0.9, 0.1] and list(fig.data[0].y) == [0.1, -0.2]
    growth = inside.cache_growth([1, 2], {"this": [1024, 2048], "x2": [2048, 4096]}, 2, "t", "n", "KiB")
    assert [list(d.y) for d in growth.data] == [[1.0, 2.0], [2.0, 4.0]]
