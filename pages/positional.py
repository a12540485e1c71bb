"""Page: positional encoding (chapter 10.3).

Sinusoidal matrix with sliders, single dimensions as waves, position similarity, the
learned position tables of the bundled models, and a live demonstration that
self-attention without positions is blind to word order. Each section: widgets ->
one cached call into lmcore -> one figure.
"""
from __future__ import annotations

import streamlit as st

from lmcore.errors import UserFacingError
from lmcore.positional import check_length, position_similarity, rotary_similarity, wavelengths
from lmcore.views import plots
from lmcore.views.matrices import matrix_heatmap, waves_figure
from ui import inputs, lesson, loaders, url_state
from ui.export_widgets import chart
from ui.file_names import export_stem
from ui.i18n import error_text, map_labels, t, t_plain

DEFAULT_SENTENCE = "the small cat chased a big dog"


def sinusoid_section() -> None:
    """The sinusoidal matrix first (the page's figure), then the lesson, the formula and the rest."""
    c1, c2 = st.columns(2)
    d_model = c1.slider("d_model", 8, 512, step=8,
                        key=url_state.field("pos_d_model", "d_model", 128, choices=range(8, 513, 8)))
    length = c2.slider(t("tf.pos.length"), 2, 256,
                       key=url_state.field("pos_length", "length", 64, choices=range(2, 257)))
    pe = loaders.sinusoid(length, d_model)
    chart(matrix_heatmap(pe, title=t("tf.pos.fig.sin"), row_title=t("tf.pos.position"),
                                   col_title=t("tf.pos.dimension"), value_label=t("tf.steps.value"),
                                   zmin=-1.0, zmax=1.0, height=420), key="pos_sin",
          filename=export_stem("positional", None, "sinusoidal", f"d{d_model}"))
    st.caption(t("tf.pos.sin_note"))
    lesson.after_figure("positional", t("tf.pos.intro"))
    st.header(t("tf.pos.h.sin"))
    st.latex(r"PE_{(pos,\,2i)} = \sin\!\left(\frac{pos}{10000^{2i/d_{model}}}\right),\quad "
             r"PE_{(pos,\,2i+1)} = \cos\!\left(\frac{pos}{10000^{2i/d_{model}}}\right)")
    st.subheader(t("tf.pos.h.waves"))
    default = sorted({0, 1, min(6, d_model - 1), d_model // 2, d_model - 2})
    dims = st.multiselect(t("tf.pos.dims"), list(range(d_model)), default=default,
                          key=f"pos_dims_{d_model}")
    chart(waves_figure(pe, dims, title=t("tf.pos.fig.waves"),
                                 position_label=t("tf.pos.position"), value_label=t("tf.steps.value"),
                                 dim_label=t("tf.pos.dimension")), key="pos_waves",
          filename=export_stem("positional", None, "sinusoidal-waves"))
    wl = wavelengths(d_model)
    st.caption(t("tf.pos.waves_note", short=f"{wl[0]:.1f}", long=f"{wl[-1]:,.0f}"))
    st.subheader(t("tf.pos.h.similarity"))
    c3, c4 = st.columns(2)
    chart(container=c3, fig=matrix_heatmap(position_similarity(pe), title=t("tf.pos.fig.sim_sin"),
                                   row_title=t("tf.pos.position"), col_title=t("tf.pos.position"),
                                   value_label=t("tf.pos.cosine"), zmin=-1.0, zmax=1.0),
                    key="pos_sim_sin", filename=export_stem("positional", None, "sinusoidal-similarity"))
    c3.caption(t("tf.pos.sim_note"))
    rope = rotary_similarity(length, min(d_model, 64))
    chart(container=c4, fig=matrix_heatmap(rope, title=t("tf.pos.fig.rope_short"), row_title=t("tf.pos.position"),
                                   col_title=t("tf.pos.position"), value_label=t("tf.pos.dot")),
                    key="pos_rope", filename=export_stem("positional", None, "rope"))
    c4.caption(t("tf.pos.rope_note"))


def learned_section() -> None:
    st.header(t("tf.pos.h.learned"))
    tables = loaders.learned_position_tables()
    if not tables:
        st.info(t("tf.pos.no_learned"))
        return
    name = st.selectbox(t("common.model"), list(tables),
                        key=url_state.field("pos_learned_model", "model", list(tables)[0], choices=tables))
    table = tables[name]
    shown = st.number_input(t("tf.pos.rows"), 2, 4096, min(64, len(table)), key="pos_rows",
                            help=t("tf.pos.rows_help", n=len(table)))
    try:
        check_length(int(shown), len(table))
    except UserFacingError as notice:
        st.warning(error_text(notice))
        shown = len(table)
    part = table[: int(shown)]
    st.caption(t("tf.pos.learned_caption", name=name, rows=table.shape[0], dims=table.shape[1]))
    c1, c2 = st.columns(2)
    chart(container=c1, fig=matrix_heatmap(part, title=t_plain("tf.pos.fig.learned", name=name),
                                   row_title=t("tf.pos.position"), col_title=t("tf.pos.dimension"),
                                   value_label=t("tf.steps.value"), height=420), key="pos_learned",
          filename=export_stem("positional", name, "learned"))
    chart(container=c2, fig=matrix_heatmap(position_similarity(part), title=t("tf.pos.fig.sim_learned"),
                                   row_title=t("tf.pos.position"), col_title=t("tf.pos.position"),
                                   value_label=t("tf.pos.cosine"), zmin=-1.0, zmax=1.0, height=420),
                    key="pos_learned_sim", filename=export_stem("positional", name, "learned-similarity"))
    st.caption(t("tf.pos.learned_note"))


def order_section() -> None:
    st.header(t("tf.pos.h.order"))
    st.write(t("tf.pos.order_intro"))
    text = inputs.text_input(t("tf.steps.text"), limit=300,
                         key=url_state.field("pos_order_text", "text", DEFAULT_SENTENCE))
    c1, c2, c3, c4 = st.columns(4)
    with_positions = c1.toggle(t("tf.pos.with_positions"),
                               key=url_state.field("pos_with_positions", "positions", False))
    seed = int(c2.number_input(t("tf.pos.shuffle_seed"), 0, 10_000,
                               key=url_state.field("pos_seed", "seed", 1, choices=range(10_001))))
    layer = c3.selectbox(t("common.layer"), list(range(6)),
                         key=url_state.field("pos_order_layer", "layer", 1, choices=range(6)))
    head = c4.selectbox(t("common.head"), list(range(12)),
                        key=url_state.field("pos_order_head", "head", 0, choices=range(12)))
    try:
        demo = loaders.order_demo(text, seed, with_positions, layer, head)
    except UserFacingError as error:
        st.error(error_text(error))
        return
    labels = map_labels()
    left, right = st.columns(2)
    chart(container=left, fig=plots.attention_heatmap(demo.original, title=t("tf.pos.fig.original"), **labels),
                      key="pos_order_a", filename=export_stem("positional", None, "order-original"))
    chart(container=right, fig=plots.attention_heatmap(demo.shuffled, title=t("tf.pos.fig.shuffled"), **labels),
                       key="pos_order_b", filename=export_stem("positional", None, "order-shuffled"))
    st.metric(t("tf.pos.difference"), f"{demo.difference:.6f}")
    if demo.difference < 1e-3:
        st.success(t("tf.pos.blind"))
    else:
        st.info(t("tf.pos.sees_order"))


def main() -> None:
    st.title(t("tf.pos.title"))
    sinusoid_section()
    learned_section()
    order_section()


main()
