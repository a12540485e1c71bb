"""Page: the Transformer, layer by layer and head by head (chapter 10.3).

Widgets -> one cached call into `lmcore.demos.transformer_view.translate_with_trace` -> figures:
one head's map, all heads of a layer, the per-head summary, decoding step by step, and
the causal mask.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from lmcore.attention import causal_mask
from lmcore.views import plots
from lmcore.errors import UserFacingError
from lmcore.views.matrices import binary_heatmap, grid_pick, head_grid, head_summary_figure
from lmcore.demos.transformer_view import TransformerView, head_statistics
from lmcore.translation.translators import TRANSFORMERS, bundled_path
from ui import inputs
from ui.i18n import error_text, map_labels, t, t_plain
from ui.notices import show_notices
from ui.safe_text import md_escape
from ui import loaders, presentation, url_state
from ui.export_widgets import chart, view_fragment
from ui.file_names import export_stem
from ui.seq2seq_widgets import confidence_line, quality_caption
from ui.steps import stepper
from ui import lesson

EXAMPLES = {"tf-en-fr": "The cat is sleeping on the bed.", "tf-ko-en": "나는 어제 친구와 영화를 봤어요."}
KINDS = ("encoder", "decoder", "cross")
BEAMS = [1, 2, 3, 5]


def available() -> list[str]:
    return [n for n in TRANSFORMERS if (bundled_path(n) / "config.json").is_file()]


def show_translation(view: TransformerView) -> None:
    """The translation in one line above the maps; its tokens after the figures."""
    show_notices(view.result.notices, "info")
    st.markdown(f"**{t('tf.page.output')}:** {md_escape(view.result.translation) or '—'}")
    confidence_line(view.result)


def show_tokens(view: TransformerView) -> None:
    st.caption(t("tf.page.tokens", source=md_escape(" · ".join(view.result.source_tokens)),
                 output=md_escape(" · ".join(view.written))))


def _open_head(n_heads: int) -> None:
    """A click on a thumbnail of the grid opens that head in the big map above."""
    points = [p for p in st.session_state["tf_grid"]["selection"]["points"]
              if p.get("curve_number") == 1 and "point_index" in p]
    if points:
        _, head = grid_pick(points[0]["point_index"], [0], list(range(n_heads)))
        url_state.set_value("tf_head", "head", head, 0)


def show_maps(view: TransformerView, name: str) -> tuple[str, int, int]:
    names = {k: t(f"tf.page.kind.{k}") for k in KINDS}
    c1, c2, c3 = st.columns([7, 1, 1], vertical_alignment="bottom")  # room for the 3 kinds (issue 25)
    kind = c1.segmented_control(t("tf.page.kind"), KINDS, format_func=names.__getitem__, required=True,
                                key=url_state.field("tf_kind", "kind", KINDS[0], choices=KINDS))
    maps = view.trace[kind]
    layer = c2.selectbox(t("common.layer"), list(range(maps.n_layers)),
                         key=url_state.field("tf_layer", "layer", 0, choices=range(maps.n_layers)))
    head = c3.selectbox(t("common.head"), list(range(maps.n_heads)),
                        key=url_state.field("tf_head", "head", 0, choices=range(maps.n_heads)))
    left, right = st.columns([3, 2])
    chart(container=left, fig=plots.attention_heatmap(
        maps, layer, head, title=t_plain("tf.page.fig.one", kind=names[kind], layer=layer, head=head),
        **map_labels()), key="tf_one",
        filename=export_stem("transformer", name, kind, f"layer{layer}", f"head{head}"))
    entropy, distance = head_statistics(maps)
    chart(container=right, fig=head_summary_figure(
        entropy, distance, layer, head_label=t("common.head"), entropy_label=t("tf.page.entropy"),
        distance_label=t("tf.page.distance"), title=t("tf.page.fig.summary", layer=layer)),
        key="tf_summary", filename=export_stem("transformer", name, kind, f"layer{layer}", "summary"))
    right.caption(t("tf.page.summary_note", low=int(np.argmin(entropy[layer])),
                    high=int(np.argmax(entropy[layer]))))
    st.caption(t(f"tf.page.kind_help.{kind}"))
    big = presentation.is_on()
    chart(head_grid(maps, layers=[layer], title=t_plain("tf.page.fig.grid", kind=names[kind], layer=layer),
                    layer_label=t("common.layer"), head_label=t("common.head"),
                    weight_label=t("common.weight"), tile_px=150 if big else 110,
                    font_size=18 if big else 13),
          key="tf_grid", numbers=False, on_select=partial(_open_head, maps.n_heads), selection_mode="points",
          filename=export_stem("transformer", name, kind, f"layer{layer}", "all-heads"))
    return kind, layer, head


@view_fragment("tf_step_view")
def show_steps(view: TransformerView, layer: int, head: int, name: str) -> None:
    """Decoding step by step; a step reruns only this fragment (the translation is cached)."""
    st.subheader(t("tf.page.h.steps"))
    steps, cross = view.result.steps, view.trace["cross"]
    n = min(len(steps), cross.weights.shape[2])
    if n == 0:
        return
    step = stepper("tf_step", n, signature=(view.result.translation, n), label=t("tf.page.step"),
                   compact=True)
    chosen = steps[step - 1]
    st.markdown(t("tf.page.step_text", step=step, prefix=md_escape(" ".join(view.decoder_inputs[:step])),
                  token=md_escape(chosen.token), prob=f"{chosen.prob:.2f}"))
    row = st.container(horizontal=True)  # one block, not three: every step resends them
    top = chosen.top_k
    chart(container=row, fig=plots.weights_bar([w for w, _ in top], [p for _, p in top],
                                      title=t("tf.page.fig.topk"), token_label=t("tf.page.word"),
                                      weight_label=t("tf.page.prob")), key="tf_topk",
          filename=export_stem("transformer", name, f"step{step}", "top-k"))
    chart(container=row, fig=plots.weights_bar(cross.key_tokens, cross.head(layer, head)[step - 1],
                                      title=t("tf.page.fig.step_cross", layer=layer, head=head),
                                      token_label=t("common.key"), weight_label=t("common.weight")),
                    key="tf_step_cross",
          filename=export_stem("transformer", name, f"step{step}", "cross", f"layer{layer}", f"head{head}"))
    fig = plots.attention_heatmap(cross.select(queries=slice(step)), layer, head, title=t("tf.page.fig.grown"), **map_labels())
    chart(fig.update_layout(height=220 + 28 * step), key="tf_grown",
          filename=export_stem("transformer", name, f"step{step}", "cross", f"layer{layer}", f"head{head}", "grown"))


def show_causal_mask(view: TransformerView) -> None:
    st.subheader(t("tf.page.h.mask"))
    toks = view.decoder_inputs
    mask = causal_mask(len(toks)).float().numpy()  # (T, T): 1 where a query may look
    left, right = st.columns([3, 2])
    fig = binary_heatmap(mask, toks, toks, (t_plain("tf.page.masked"), t_plain("tf.page.may_attend")),
                         title=t_plain("tf.page.fig.mask"), row_title=t_plain("common.query"),
                         col_title=t_plain("common.key"))
    chart(container=left, fig=fig, key="tf_mask", filename=export_stem("transformer", None, "causal-mask"))
    right.markdown(t("tf.page.mask_text"))


def main() -> None:
    st.title(t("tf.page.title"))
    names = available()
    if not names:
        st.info(t("tf.page.no_models"))
        return
    c1, c2, c3 = st.columns([3, 4.5, 1], vertical_alignment="bottom")  # room for the model name
    titles = {n: t(f"tf.model.{n}") for n in names}  # translated now, not when formatting later
    name = c1.selectbox(t("common.model"), names, format_func=titles.__getitem__,
                        key=url_state.field("tf_model", "model", names[0], choices=names))
    with c2:
        text = inputs.text_input(t("tf.page.text"), limit=2000,
                                 key=url_state.field(f"tf_text_{name}", "text", EXAMPLES[name]))
    beam = c3.selectbox(t("tf.page.beam"), BEAMS, key=url_state.field("tf_beam", "beam", 1, choices=BEAMS))
    try:
        view = loaders.transformer_view(name, text, beam)
    except UserFacingError as error:
        st.error(error_text(error))
        return
    _, layer, head = show_maps(view, name)
    show_translation(view)
    quality_caption(name)
    show_tokens(view)
    show_steps(view, layer, head, name)
    show_causal_mask(view)
    st.write(t("tf.page.intro"))
    lesson.guide("transformer")
    lesson.quiz("transformer")
    st.caption(t("tf.page.credit"))


main()
