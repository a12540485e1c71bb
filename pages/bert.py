"""10.4 BERT: every head of a BERT-style encoder, bertviz views offline, head report,
fill-mask and next-sentence prediction.

Figure first: the inputs sit in one compact row, then one view (all heads by default),
then the lesson and the explanations. A view is computed only when it is open
(`?show=`); old links (`?view=`, `?mask=`, `?rollout=`, `?layer=`) reopen the view they showed.
"""
from __future__ import annotations

import streamlit as st

from lmcore.catalog import ENCODER_KINDS
from lmcore.demos.quiz import later_word_question, pronoun_question, quoted_text
from ui import bert_views, lesson, lm_logic, loaders, url_state
from ui.i18n import t
from ui.lm_widgets import call_or_stop, load_or_stop, model_label, model_picker
from ui.notices import show_notices

EXAMPLE_A = "The cat sat on the mat because it was tired."
EXAMPLE_B = "It fell asleep in the sun."

st.title(t("lmp.bert.title"))

# ---------------------------------------------------------------- inputs: two compact rows
modes = {m: t(f"lmp.input.{m}") for m in ("single", "pair")}  # labels fixed at run time
pair = st.session_state.get("lmp_bert_mode", st.query_params.get("mode")) == "pair"
row = st.columns([2, 3, 3] if pair else [2, 6], vertical_alignment="bottom")
with row[0]:
    name = model_picker(ENCODER_KINDS, "lmp_bert_model", default=bert_views.DEFAULT_MODEL)
lm = load_or_stop(name)
text_a = row[1].text_area(t("lmp.input.sentence_a" if pair else "lmp.input.sentence"), height=68,
                          key=url_state.field("lmp_bert_a", "text", EXAMPLE_A))
text_b = row[2].text_area(t("lmp.input.sentence_b"), height=68,
                          key=url_state.field("lmp_bert_b", "text_b", EXAMPLE_B)) if pair else None
opt = st.columns([3, 3, 3], vertical_alignment="center")
opt[0].segmented_control(t("lmp.input.mode"), list(modes), format_func=modes.__getitem__, required=True,
                         label_visibility="collapsed",
                         key=url_state.field("lmp_bert_mode", "mode", "single", choices=modes))
words = opt[1].toggle(t("lmp.opt.words"), help=t("lmp.opt.words_help"),
                      key=url_state.field("lmp_bert_words", "words", False))
hide = opt[2].toggle(t("lmp.opt.hide_special"), help=t("lmp.opt.hide_special_help"),
                     key=url_state.field("lmp_bert_hide", "hide", False))

result = call_or_stop(loaders.attention, name, text_a, text_b)
offered = [m.name for m in loaders.model_choices(ENCODER_KINDS) if m.offline]
show_notices(lm_logic.page_notices(result.notices, offered))
maps, b_start = loaders.display_maps(name, text_a, text_b, words, hide)
if maps.weights.shape[-1] == 0:
    st.info(t("lmp.bert.nothing_left"))
    st.stop()

# ---------------------------------------------------------------- one view, computed only when open
labels = {v: t(f"lmp.view.{v}") for v in lm_logic.BERT_VIEWS}
show = st.segmented_control(t("lmp.view.label"), list(labels), format_func=labels.__getitem__,
                            required=True, label_visibility="collapsed",
                            key=url_state.field(bert_views.VIEW, "show",
                                                lm_logic.view_from_link(st.query_params.to_dict()),
                                                choices=labels))
inp = bert_views.BertInput(name, text_a, text_b, words, hide)
fill_name, nsp_name = bert_views.helper_models(lm)
if show == "grid":
    bert_views.grid_view(inp, maps)
elif show == "head":
    bert_views.head_view(inp, maps.n_layers, maps.n_heads)
elif show == "bertviz":
    bert_views.bertviz_view(inp, len(maps.key_tokens))
elif show == "report":
    bert_views.report_view(inp)
elif show == "rollout":
    bert_views.rollout_view(inp)
elif show == "fill":
    bert_views.fill_view(inp, fill_name, lm.kind)
else:
    bert_views.nsp_view(inp, nsp_name, lm.has_nsp)

# ---------------------------------------------------------------- after the figure: model, lesson
model_label(name, lm.kind)
st.caption(t("lmp.bert.intro"))
lesson.guide("bert")
word_maps = loaders.display_maps(name, text_a, text_b, True, True)[0]
question, later = pronoun_question(word_maps), later_word_question(word_maps)
if question is not None:  # every question is about the text on the page, or not asked
    lesson.quiz("bert", options=question.options, answer=question.answer, word=question.word)
elif later is not None:
    lesson.quiz("bert", sentence=quoted_text(" ".join(filter(None, (text_a, text_b)))),
                word=later.word, later=later.later)
