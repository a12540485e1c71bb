"""10.4 Inside a language model: the logit lens (GPT and masked LM) and attention sinks.

Inputs in one row (model, text, view); the chosen view's figure comes right after, in its
own fragment (its pickers redraw only it); the explanations, lesson and question follow.
"""
from __future__ import annotations

import streamlit as st

from lmcore.catalog import CAUSAL_KINDS
from lmcore.pretrained.logit_lens import LENS_KINDS, first_layer_agreeing
from lmcore.views import plots
from lmcore.views.lens import LensLabels, lens_grid
from lmcore.views.matrices import matrix_heatmap
from ui import inputs, lesson, lm_logic, loaders, url_state
from ui.export_widgets import chart, view_fragment
from ui.i18n import map_labels, t, t_plain
from ui.lm_widgets import call_or_stop, load_or_stop, model_label, model_picker
from ui.loaders import inside
from ui.notices import show_notices
from ui.safe_text import md_escape

EXAMPLES = {"minilm-gpt": "The cat sat on the mat because it was", "tiny-gpt2": "ROMEO:\nBut soft, what light",
            "minilm-mlm": "The cat sat on the [MASK] because it was tired.",
            "tiny-bert": "The king spoke to the [MASK] of the city."}
VIEWS = ("lens", "sinks")
TOP_KS = range(1, 11)


def layer_names(n_layers: int) -> list[str]:
    """Row labels of the lens: the embeddings, then layers 1..L, the last one the output."""
    middle = [t("inside.lens.layer", n=i) for i in range(1, n_layers)]
    return [t("inside.lens.embeddings")] + middle + [t("inside.lens.output", n=n_layers)]


@view_fragment("lens_view")
def lens_view(name: str, text: str) -> None:
    """The layers x positions grid of top-1 tokens; hover shows the top-k."""
    top_k = st.session_state[url_state.field("inside_topk", "top_k", 5, choices=TOP_KS)]
    lens = call_or_stop(inside.logit_lens, name, text, top_k)
    show_notices(lens.notices)
    top1 = [[top[0].display for top in row] for row in lens.layers]
    hover = [[lm_logic.rivals_text(top, limit=top_k) for top in row] for row in lens.layers]
    labels = LensLabels(t("inside.lens.layer_axis"), t("inside.lens.probability"), t("inside.lens.reads"))
    chart(lens_grid(top1, lens.top_probability, hover, lens.tokens, layer_names(len(lens.layers) - 1),
                           title=t("inside.lens.title"), labels=labels),
          key="inside_lens", filename=f"logit-lens-{name}", width="stretch")
    left, right = st.columns([1, 3])
    left.select_slider(t("inside.lens.top_k"), TOP_KS, key="inside_topk")
    right.caption(t("inside.lens.help_causal" if lens.kind == "causal-lm" else "inside.lens.help_masked"))
    st.caption(t("inside.lens.agree", word=md_escape(lens.tokens[lens.focus]),
                 token=md_escape(lens.layers[-1][lens.focus][0].display),
                 layer=first_layer_agreeing(lens), layers=len(lens.layers) - 1))


@view_fragment("sinks_view")
def sinks_view(name: str, text: str) -> None:
    """The layer x head grid of weight on the first token, and one head with it hidden or not."""
    mass = call_or_stop(inside.sink_mass, name, text)
    maps = call_or_stop(inside.sink_maps, name, text, False)
    layers, heads = mass.shape
    chart(matrix_heatmap(mass, [str(i) for i in range(layers)], [str(h) for h in range(heads)],
                         title=t_plain("inside.sinks.title", token=maps.key_tokens[0]), row_title=t("common.layer"),
                         col_title=t("common.head"), value_label=t("inside.sinks.mass"), symmetric=False,
                         zmin=0.0, zmax=1.0, colorscale=plots.COLORSCALE, height=120 + 34 * layers),
          key="inside_sinks", filename=f"attention-sinks-{name}", width="stretch")
    st.caption(t("inside.sinks.help") + " " + t("inside.sinks.summary", heads=layers * heads, p=f"{float(mass.mean()):.0%}"))
    if len(maps.key_tokens) < 2:
        st.info(t("inside.sinks.one_token"))
        return
    pick = st.columns([1, 1, 2])
    layer = pick[0].selectbox(t("common.layer"), range(layers), key=url_state.field("inside_layer", "layer", 0, choices=range(layers)))
    head = pick[1].selectbox(t("common.head"), range(heads), key=url_state.field("inside_head", "head", 0, choices=range(heads)))
    hide = pick[2].toggle(t("inside.sinks.hide"), help=t("inside.sinks.hide_help"),
                          key=url_state.field("inside_hide", "hide", False))
    shown = call_or_stop(inside.sink_maps, name, text, hide)
    title = t("inside.sinks.map_title_hidden" if hide else "inside.sinks.map_title", layer=layer, head=head)
    chart(plots.attention_heatmap(shown, layer, head, title=title, **map_labels()),
          key="inside_sink_map", filename=f"attention-sinks-{name}-layer{layer}-head{head}", width="stretch")


# ---------------------------------------------------------------- first screen
st.title(t("inside.title"))
row = st.columns([1, 1.8, 1.3])
gpts = [m.name for m in loaders.model_choices(CAUSAL_KINDS) if m.offline]
if gpts and "inside_model" not in st.session_state and "model" not in st.query_params:
    st.session_state["inside_model"] = gpts[0]  # a GPT first (the picker lists masked LMs first)
with row[0]:
    name = model_picker(LENS_KINDS, "inside_model")
lm = load_or_stop(name)
with row[1]:
    text = inputs.text_input(t("inside.text"), limit=2000,
                             key=url_state.field("inside_text", "text", EXAMPLES.get(name, EXAMPLES["minilm-gpt"])))
view = row[2].segmented_control(t("inside.view"), VIEWS, format_func=lambda v: t(f"inside.view.{v}"),
                                key=url_state.field("inside_view", "view", "lens", choices=VIEWS)) or "lens"
if view == "lens":
    lens_view(name, text)
else:
    sinks_view(name, text)

# ---------------------------------------------------------------- after the figure
st.write(t("inside.intro"))
model_label(name, lm.kind)
lesson.guide("logit-lens")
if view == "lens":
    lens = call_or_stop(inside.logit_lens, name, text, st.session_state["inside_topk"])
    options = [t("inside.lens.embeddings_option")] + [t("inside.lens.layer_option", n=i)
                                                      for i in range(1, len(lens.layers))]
    lesson.quiz("logit-lens", options=options, answer=first_layer_agreeing(lens),
                word=lens.tokens[lens.focus], token=lens.layers[-1][lens.focus][0].display)
else:
    lesson.quiz("logit-lens")
