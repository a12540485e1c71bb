"""Page: self-attention step by step, with real numbers (chapter 10.3).

Widgets -> one cached call into `lmcore.demos.self_attention_steps.compute_steps` -> one figure
per step: Q, K, V -> Q·Kᵀ -> ÷√d_k -> mask -> softmax -> ·V, then all heads, the
concatenation and the output projection.
"""
from __future__ import annotations

import streamlit as st

from lmcore.demos.self_attention_steps import MINILM, RANDOM, RANDOM_HEADS, RANDOM_LAYERS, LayerSteps
from lmcore.errors import UserFacingError
from lmcore.translation.translators import TRANSFORMERS, bundled_path
from lmcore.views import plots
from lmcore.views.matrices import matrix_heatmap
from ui import inputs, lesson, loaders, url_state
from ui.export_widgets import chart
from ui.file_names import export_stem
from ui.i18n import error_text, t
from ui.notices import show_notices
from ui.seq2seq_widgets import quality_caption

# MiniLM reads English only, so the example stays English in both languages.
DEFAULT_TEXT = "The animal didn't cross the street because it was tired."
EXAMPLES = {"tf-en-fr": "The cat is sleeping on the bed.", "tf-ko-en": "나는 어제 친구와 영화를 봤어요."}


def transformer_names() -> list[str]:
    return [n for n in TRANSFORMERS if (bundled_path(n) / "config.json").is_file()]


def source_shape(source: str) -> tuple[int, int]:
    """(layers, heads) of a weight source."""
    if source == MINILM:
        return 6, 12
    if source == RANDOM:
        return RANDOM_LAYERS, RANDOM_HEADS
    config = loaders.translator(source).model.config
    return config.n_encoder_layers, config.n_heads


def controls(text_box) -> dict:
    """One row of pickers (the model's name gets the room it needs) and the text beside the figure."""
    c1, c2, c3, c4 = st.columns([4, 1, 1, 2])
    names = {MINILM: t("tf.steps.source.minilm")}
    names |= {n: t("tf.steps.source.tf", model=t(f"tf.model.{n}")) for n in transformer_names()}
    names[RANDOM] = t("tf.steps.source.random")
    source = c1.selectbox(t("common.model"), list(names), format_func=names.__getitem__,
                          key=url_state.field("sa_source", "model", MINILM, choices=names))
    n_layers, n_heads = source_shape(source)
    layer = c2.selectbox(t("common.layer"), list(range(n_layers)),
                         key=url_state.field(f"sa_layer_{source}", "layer", 0, choices=range(n_layers)))
    head = c3.selectbox(t("common.head"), list(range(n_heads)),
                        key=url_state.field(f"sa_head_{source}", "head", 0, choices=range(n_heads)))
    causal = c4.toggle(t("tf.steps.causal"), help=t("tf.steps.causal_help"),
                       key=url_state.field("sa_causal", "causal", False))
    label = t("tf.steps.text_any" if source in EXAMPLES else "tf.steps.text")
    with text_box:
        text = inputs.text_area(label, limit=2000, height=110,
                        key=url_state.field(f"sa_text_{source}", "text", EXAMPLES.get(source, DEFAULT_TEXT)))
    return dict(text=text, source=source, layer=layer, head=head, causal=causal)


def matrix(col, values, rows, cols, title_key: str, value_key: str = "tf.steps.value",
           **kw) -> None:
    chart(container=col, fig=matrix_heatmap(values, rows, cols, title=t(title_key),
                                    value_label=t(value_key), **kw), key=f"sa_{title_key}",
          filename=export_stem("self-attention", None, title_key.rsplit(".", 1)[-1]))


def show_head(steps: LayerSteps, head: int) -> None:
    h, toks = steps.heads[head], list(steps.tokens)
    st.subheader(t("tf.steps.h.qkv", head=head, d_k=steps.d_k))
    st.latex(r"Q = X W^Q_i,\quad K = X W^K_i,\quad V = X W^V_i")
    cols = st.columns(3)
    for col, values, key in zip(cols, (h.q, h.k, h.v), ("tf.steps.q", "tf.steps.k", "tf.steps.v")):
        matrix(col, values, toks, None, key)
    st.subheader(t("tf.steps.h.scores"))
    c1, c2 = st.columns(2)
    matrix(c1, h.scores, toks, toks, "tf.steps.scores")
    c1.latex(r"S = Q K^\top")
    matrix(c2, h.scaled, toks, toks, "tf.steps.scaled")
    c2.latex(rf"S / \sqrt{{d_k}} = S / \sqrt{{{steps.d_k}}} = S / {steps.d_k ** 0.5:.2f}")
    c3, c4 = st.columns(2)
    matrix(c3, h.masked, toks, toks, "tf.steps.masked")
    c3.caption(t("tf.steps.masked_note" if steps.causal else "tf.steps.unmasked_note"))
    c4.markdown(f"**{t('tf.steps.softmax')}**")
    c4.latex(r"A = \mathrm{softmax}(S / \sqrt{d_k})")
    c4.caption(t("tf.steps.softmax_above"))
    st.subheader(t("tf.steps.h.output"))
    matrix(st, h.output, toks, None, "tf.steps.z")
    st.latex(r"Z_i = A V")


def show_multihead(steps: LayerSteps) -> None:
    st.subheader(t("tf.steps.h.multi", heads=len(steps.heads)))
    st.latex(r"\mathrm{MultiHead}(X) = \mathrm{Concat}(Z_1, \dots, Z_h)\, W^O")
    chart(plots.attention_grid(
        steps.maps(), title=t("tf.steps.all_heads"), layer_label=t("common.layer"),
        head_label=t("common.head"), query_label=t("common.query"), key_label=t("common.key"),
        weight_label=t("common.weight")), key="sa_grid",
        filename=export_stem("self-attention", None, "all-heads"))
    toks = list(steps.tokens)
    c1, c2 = st.columns(2)
    matrix(c1, steps.concat, toks, None, "tf.steps.concat")
    matrix(c2, steps.output, toks, None, "tf.steps.out")
    st.caption(t("tf.steps.concat_note", heads=len(steps.heads), d_k=steps.d_k,
                 d_model=steps.concat.shape[1]))


def show_result(steps: LayerSteps, head: int, figure, side) -> None:
    """The head's attention weights A (the page's figure) and, beside it, the formula."""
    chart(container=figure, fig=plots.attention_heatmap(
        steps.maps(), 0, head, title=t("tf.steps.softmax"), query_label=t("common.query"),
        key_label=t("common.key"), weight_label=t("common.weight")), key="sa_softmax",
        filename=export_stem("self-attention", None, "softmax", f"head{head}"))
    side.latex(r"\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V")
    with side:
        show_notices(steps.notices, "info")


def main() -> None:
    st.title(t("tf.steps.title"))
    head_row = st.container()
    figure, side = st.columns([3, 2])
    with head_row:
        params = controls(side)
    if params["source"] == RANDOM:
        side.warning(t("tf.steps.random_warning"))
    elif params["source"] == MINILM:
        side.caption(t("tf.steps.minilm_caption"))
    else:
        side.caption(t("tf.steps.tf_caption"))
        with side:
            quality_caption(params["source"])
    try:
        steps = loaders.self_attention_steps(params["text"], params["source"], params["layer"], params["causal"])
    except UserFacingError as error:
        figure.error(error_text(error))
        return
    head = min(params["head"], len(steps.heads) - 1)
    show_result(steps, head, figure, side)
    lesson.after_figure("self-attention", t("tf.steps.intro"))
    with st.expander(t("tf.steps.h.input", layer=steps.layer)):
        matrix(st, steps.x, list(steps.tokens), None, "tf.steps.x")
    show_head(steps, head)
    show_multihead(steps)


main()
