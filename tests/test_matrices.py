"""Figure builders of the Transformer pages: escaped labels, integer positions, NaN blanks."""
import numpy as np

from lmcore.views.matrices import head_summary_figure, matrix_heatmap, waves_figure


def test_matrix_heatmap_escapes_and_keeps_repeated_tokens_apart():
    z = np.array([[1.0, -2.0, np.nan], [0.5, 0.0, 3.0]])
    fig = matrix_heatmap(z, ["the", "the"], ["<b>", "x", "</script>"], title="<i>t</i>")
    hm = fig.data[0]
    assert list(fig.layout.yaxis.tickvals) == [0, 1] and list(fig.layout.yaxis.ticktext) == ["the", "the"]
    assert "&lt;/script&gt;" in fig.layout.xaxis.ticktext[2] and "<b>" not in str(hm.text)
    assert hm.zmin == -3.0 and hm.zmax == 3.0  # symmetric around 0
    assert np.isnan(hm.z[0][2]) and hm.hoverongaps is False  # masked: blank, no hover
    assert hm.text is None and hm.hovertemplate.startswith("%{y} · %{x}")  # tick text, no cell strings
    assert "&lt;i&gt;" in fig.layout.title.text


def test_matrix_heatmap_large_uses_light_hover_and_fixed_range():
    fig = matrix_heatmap(np.zeros((200, 200)), zmin=-1, zmax=1)
    assert fig.data[0].text is None and "%{z" in fig.data[0].hovertemplate
    assert fig.data[0].zmin == -1


def test_waves_and_head_summary():
    table = np.random.default_rng(0).standard_normal((10, 6))
    fig = waves_figure(table, [0, 5], dim_label="<dim>")
    assert len(fig.data) == 2 and fig.data[1].name == "&lt;dim&gt; 5"
    assert np.allclose(fig.data[1].y, np.round(table[:, 5], 3))
    ent, dist = np.ones((2, 4)), np.arange(8.0).reshape(2, 4)
    fig = head_summary_figure(ent, dist, layer=1)
    assert len(fig.data) == 2 and list(fig.data[1].y) == [4.0, 5.0, 6.0, 7.0]


def test_large_matrices_use_a_robust_symmetric_range():
    z = np.random.default_rng(0).standard_normal((40, 40))
    z[0, 0] = 100.0  # one outlier must not wash out the rest
    hm = matrix_heatmap(z).data[0]
    assert hm.zmin == -hm.zmax and hm.zmax < 10


def test_binary_heatmap_draws_a_mask_with_two_named_entries_not_percents():
    from lmcore.views.matrices import binary_heatmap
    from ui.wire import for_browser

    mask = np.tril(np.ones((3, 3)))
    fig = binary_heatmap(mask, ["a", "<b>", '"'], ["a", "<b>", '"'], ("masked", "may attend"), title="t")
    trace = fig.data[0]
    assert trace.colorbar.ticktext == ("masked", "may attend") and "%{z}" not in trace.hovertemplate
    assert trace.customdata[0][1] == "masked" and trace.customdata[1][0] == "may attend"
    sent = for_browser(fig, None).to_dict()["data"][0]  # what the browser gets: not turned into %
    assert sent.get("zmax") == 1 and sent["colorbar"].get("ticksuffix") is None
