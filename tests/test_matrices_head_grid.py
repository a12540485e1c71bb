"""The all-heads overview (lmcore.views.matrices.head_grid): one mosaic, clickable thumbnails."""
from __future__ import annotations

import numpy as np

from lmcore.record import AttentionMaps
from lmcore.views.matrices import grid_pick, head_grid, head_mosaic


def _maps(n_q: int, n_k: int, layers: int = 2, heads: int = 3, kind: str = "self") -> AttentionMaps:
    w = np.random.default_rng(0).random((layers, heads, n_q, n_k)).astype(np.float32) + 0.01
    w /= w.sum(-1, keepdims=True)
    return AttentionMaps(w, tuple(f"q{i}" for i in range(n_q)), tuple(f"k{j}" for j in range(n_k)), kind)


def test_mosaic_places_each_head_in_its_tile_with_blank_gaps():
    maps = _maps(4, 5)
    z, gap = head_mosaic(maps, [0, 1], [0, 1, 2])
    assert gap >= 1 and z.shape == (2 * 4 + gap, 3 * 5 + 2 * gap) and z.dtype == np.float32
    top, left = 4 + gap, 2 * (5 + gap)  # layer 1, head 2
    np.testing.assert_allclose(z[top:top + 4, left:left + 5], maps.head(1, 2), atol=1e-3)
    assert np.isnan(z[4:4 + gap]).all() and np.isnan(z[:, 5:5 + gap]).all(), "gaps are blank"


def test_causal_cells_are_blank_in_the_mosaic():
    z, _ = head_mosaic(_maps(3, 3, 1, 1, kind="causal"), [0], [0])
    assert np.isnan(z[0, 1]) and not np.isnan(z[1, 0])


def test_grid_is_two_traces_hover_names_layer_and_head_and_a_click_maps_back():
    maps = _maps(6, 6, layers=2, heads=3)
    fig = head_grid(maps, layer_label="Layer", head_label="Head <b>")
    mosaic, markers = fig.data
    assert mosaic.type == "heatmap" and mosaic.hoverinfo == "skip"
    assert len(markers.x) == 6 and [list(c) for c in markers.customdata][4] == [1, 1]
    assert "Layer %{customdata[0]}" in markers.hovertemplate and "&lt;b&gt;" in markers.hovertemplate
    assert grid_pick(4, [0, 1], [0, 1, 2]) == (1, 1) and grid_pick(2, [3], [5, 6, 7]) == (3, 7)
    assert list(fig.layout.xaxis.ticktext) == ["Head &lt;b&gt; 0", "Head &lt;b&gt; 1", "Head &lt;b&gt; 2"]
    # no tick marks: a neighbour tile's ticks drew a white dash in every tile's last column
    assert fig.layout.xaxis.ticks == "" and fig.layout.yaxis.ticks == ""
    assert fig.layout.coloraxis.cmin == 0 and fig.layout.coloraxis.cmax == 1


def test_presentation_tiles_are_taller_and_a_subset_can_be_drawn():
    maps = _maps(5, 7, layers=3, heads=4)
    small, big = head_grid(maps, tile_px=60), head_grid(maps, tile_px=96, font_size=18)
    assert big.layout.height > small.layout.height and big.layout.font.size == 18
    one = head_grid(maps, layers=[2], title="t")
    assert len(one.data[1].x) == 4 and list(one.layout.yaxis.ticktext) == ["Layer 2"]
