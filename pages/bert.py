"""10.4 BERT: every head of a BERT-style encoder, bertviz views offline, head report,
fill-mask and next-sentence prediction."""
from __future__ import annotations

from functools import partial

import streamlit as st

from lmcore.catalog import ENCODER_KINDS
from lmcore.demos.quiz import pronoun_question
from lmcore.views import plots
from lmcore.pretrained.bertviz import MAX_VIEW_TOKENS
from lmcore.pretrained import loading as lm_loading
from ui import lm_logic
from ui import loaders
from ui import url_state
from ui.export_widgets import chart, download_maps, table
from ui.i18n import current_language, map_labels, t
from ui.lm_widgets import call_or_error, call_or_stop, load_or_stop, model_label, model_picker
from ui.notices import show_notices
from ui import lesson

EXAMPLE_A = "The cat sat on the mat because it was tired."
EXAMPLE_B = "It fell asleep in the sun."
LAYER, HEAD = "lmp_bert_layer", "lmp_bert_head"


def _select_head(layer: int, head: int) -> None:
    url_state.set_value(LAYER, "layer", layer, 0)
    url_state.set_value(HEAD, "head", head, 0)


def _on_report_select(rows: list[dict]) -> None:
    picked = st.session_state["lmp_bert_report"]["selection"]["rows"]
    if picked:
        _select_head(*lm_logic.report_row_head(rows, picked[0]))


st.title(t("lmp.bert.title"))
st.write(t("lmp.bert.intro"))
lesson.guide("bert")

# ---------------------------------------------------------------- inputs
with st.sidebar:
    name = model_picker(ENCODER_KINDS, "lmp_bert_model")
lm = load_or_stop(name)
model_label(name, lm.kind)

modes = {m: t(f"lmp.input.{m}") for m in ("single", "pair")}  # labels fixed at run time
pair = st.radio(t("lmp.input.mode"), list(modes), horizontal=True, format_func=modes.__getitem__,
                key=url_state.field("lmp_bert_mode", "mode", "single", choices=modes)) == "pair"
cols = st.columns(2 if pair else 1)
text_a = cols[0].text_area(t("lmp.input.sentence_a" if pair else "lmp.input.sentence"), height=80,
                           key=url_state.field("lmp_bert_a", "text", EXAMPLE_A))
text_b = cols[1].text_area(t("lmp.input.sentence_b"), height=80,
                           key=url_state.field("lmp_bert_b", "text_b", EXAMPLE_B)) if pair else None
opt = st.columns(2)
words = opt[0].toggle(t("lmp.opt.words"), help=t("lmp.opt.words_help"),
                      key=url_state.field("lmp_bert_words", "words", False))
hide = opt[1].toggle(t("lmp.opt.hide_special"), help=t("lmp.opt.hide_special_help"),
                     key=url_state.field("lmp_bert_hide", "hide", False))

result = call_or_stop(loaders.attention, name, text_a, text_b)
show_notices(result.notices)
maps, b_start = loaders.display_maps(name, text_a, text_b, words, hide)
if maps.weights.shape[-1] == 0:
    st.info(t("lmp.bert.nothing_left"))
    st.stop()

# ---------------------------------------------------------------- predict, then look
question = pronoun_question(loaders.display_maps(name, text_a, text_b, True, True)[0])
if question is None:
    lesson.quiz("bert")
else:
    lesson.quiz("bert", options=question.options, answer=question.answer, word=question.word)

# ---------------------------------------------------------------- all heads
st.header(t("lmp.grid.title"))
st.caption(t("lmp.grid.help"))
grid = plots.attention_grid(maps, layer_label=t("common.layer"), head_label=t("common.head"),
                            **map_labels())
chart(grid, key="lmp_bert_grid", width="stretch")
download_maps(maps, "attention-all-heads", key="lmp_bert_all")

# ---------------------------------------------------------------- one head
st.header(t("lmp.head.title"))
pick = st.columns(2)
layer = pick[0].selectbox(t("common.layer"), range(maps.n_layers),
                          key=url_state.field(LAYER, "layer", 0, choices=range(maps.n_layers)))
head = pick[1].selectbox(t("common.head"), range(maps.n_heads),
                         key=url_state.field(HEAD, "head", 0, choices=range(maps.n_heads)))
chart(plots.attention_heatmap(maps, layer, head, **map_labels(),
                              title=t("lmp.head.figure_title", layer=layer, head=head)),
      key="lmp_bert_heatmap", width="stretch")

# ---------------------------------------------------------------- bertviz
st.header(t("lmp.bv.title"))
n_tokens = len(maps.key_tokens)
if n_tokens > MAX_VIEW_TOKENS:
    st.info(t("lmp.bv.too_long", limit=MAX_VIEW_TOKENS, n=n_tokens))
else:
    views = {v: t(f"lmp.bv.{v}_tab") for v in ("head", "model")}  # one at a time: pages stay light
    view = st.radio(t("lmp.bv.which"), list(views), horizontal=True, format_func=views.__getitem__,
                    key=url_state.field("lmp_bert_view", "view", "head", choices=views))
    st.caption(t(f"lmp.bv.{view}_help"))
    view_html = loaders.bertviz_html(view, name, text_a, text_b, words, hide, current_language())
    st.iframe(view_html, height="content", alt=views[view])
    st.download_button(t("lmp.bv.download"), view_html.encode("utf-8"),
                       file_name=f"attention-lab-{view}-view.html", mime="text/html",
                       key="lmp_bert_view_download", help=t("lmp.bv.download_help"))

# ---------------------------------------------------------------- head report
st.header(t("lmp.report.title"))
st.caption(t("lmp.report.help"))
rows = loaders.head_report(name, text_a, text_b, words, hide)
table(lm_logic.report_table(rows, t), key="lmp_bert_report", stem="head-report", hide_index=True,
             on_select=partial(_on_report_select, rows), selection_mode="single-row",
             width="stretch")

with st.expander(t("lmp.rollout.title")):
    st.caption(t("lmp.rollout.help"))
    rolled = loaders.rollout(name, text_a, text_b, words, hide)
    last = rolled.n_layers - 1
    up_to = st.selectbox(t("lmp.rollout.layer"), range(rolled.n_layers),
                         key=url_state.field("lmp_bert_rollout_layer", "rollout", last,
                                             choices=range(rolled.n_layers)))
    chart(plots.attention_heatmap(rolled, up_to, 0, **map_labels(),
                                  title=t("lmp.rollout.figure_title", layer=up_to)),
          key="lmp_bert_rollout", width="stretch")

# ---------------------------------------------------------------- fill-mask
st.header(t("lmp.fill.title"))
st.caption(t("lmp.fill.help"))
# MiniLM stays the real pretrained attention above; a bundled masked LM (minilm-mlm) fills blanks
fallback = None if lm.has_nsp else lm_loading.default_masked_lm()
fill_name = name if lm.kind == "masked-lm" or fallback is None else fallback
nsp_name = name if fallback is None else fallback
fill_lm = lm if fill_name == name else load_or_stop(fill_name)
if lm.kind != "masked-lm":
    st.info(t("lmp.fill.needs_mlm", name=name))
if fill_lm.kind == "masked-lm":
    if fill_name != name:
        model_label(fill_name, fill_lm.kind)
    spans = lm_logic.maskable_words(text_a)
    typed, n_typed = lm_logic.typed_masks(text_a)  # [mask] in any case
    if n_typed:
        masked = typed
    elif spans:
        words_at = {i: text_a[a:b] for i, (a, b) in enumerate(spans)}
        pick = st.selectbox(t("lmp.fill.pick"), range(len(spans)), format_func=words_at.__getitem__,
                            key=url_state.field("lmp_bert_mask_word", "mask", min(len(spans) - 1, 5),
                                                choices=range(len(spans))))
        masked = lm_logic.mask_word(text_a, spans[pick])
    else:
        masked = None
        st.info(t("lmp.fill.no_words"))
    if masked is not None:
        top_k = st.slider(t("lmp.fill.top_k"), 1, 20,
                          key=url_state.field("lmp_bert_topk", "top_k", 5, choices=range(1, 21)))
        st.caption(t("lmp.fill.reads"))
        st.text(masked)
        filled = call_or_error(loaders.fill_mask, fill_name, masked, top_k)
        if filled and len(filled.masks) > lm_logic.MAX_MASKS:
            st.info(t("lmp.fill.too_many_masks", n=len(filled.masks), limit=lm_logic.MAX_MASKS))
        for i, guesses in enumerate(filled.masks[:lm_logic.MAX_MASKS] if filled else (), start=1):
            fig = plots.weights_bar([g.display for g in guesses], [g.probability for g in guesses],
                                    title=t("lmp.fill.blank_n", n=i), token_label=t("lmp.word"),
                                    weight_label=t("lmp.probability"))
            chart(fig, key=f"lmp_bert_fill_{i}", width="stretch")

# ---------------------------------------------------------------- next sentence
st.header(t("lmp.nsp.title"))
st.caption(t("lmp.nsp.help"))
if not pair:
    st.info(t("lmp.nsp.needs_pair"))
elif nsp_name == name and not lm.has_nsp:
    st.info(t("lmp.nsp.needs_head", name=name))
else:
    if nsp_name != name:
        st.caption(t("lmp.nsp.uses", name=nsp_name))
    nsp = call_or_error(loaders.next_sentence, nsp_name, text_a, text_b)
    if nsp is not None:
        st.metric(t("lmp.nsp.result"), f"{nsp.probability:.1%}")
        st.progress(min(max(nsp.probability, 0.0), 1.0))
