"""10.4 Switch heads off: zero chosen heads and watch the prediction; attention is not explanation."""
from __future__ import annotations

import streamlit as st

from lmcore.demos.quiz import quoted_text
from lmcore.errors import UserFacingError
from lmcore.heads_off import format_heads, parse_heads
from lmcore.views.inside import before_after_bars, effect_vs_attention, head_grid
from ui import inputs, lesson, url_state
from ui.export_widgets import chart, table
from ui.file_names import export_stem
from ui.i18n import t, t_plain
from ui.lm_widgets import call_or_stop
from ui.loaders import inside
from ui.safe_text import md_escape
from ui.seq2seq_widgets import quality_caption

EXAMPLES = {"masked-lm": "The animal didn't cross the street because [MASK] was too tired.",
            "causal-lm": "The animal didn't cross the street because",
            "transformer": "the dog is tired because it ran ."}
KINDS = {"minilm-mlm": "masked-lm", "tiny-bert": "masked-lm", "minilm-gpt": "causal-lm",
         "tiny-gpt2": "causal-lm", "tf-en-fr": "transformer", "tf-ko-en": "transformer"}
GRID, HEADS, TEXT = "abl_grid", "abl_heads", "abl_text"


def _example(name: str) -> str:
    return EXAMPLES[KINDS.get(name, "masked-lm")]


def _new_model() -> None:
    """Another model: its own example sentence, every head on again."""
    name = st.session_state["abl_model"]
    url_state.set_value(TEXT, "text", _example(name), _example(name))
    url_state.set_value(HEADS, "heads", "", "")


def _set_heads(heads) -> None:
    url_state.set_value(HEADS, "heads", format_heads(sorted(heads)), "")


def _current(size) -> set:
    try:
        return set(parse_heads(st.session_state.get(HEADS, ""), *size))
    except UserFacingError:
        return set()


def _clicked(size) -> None:
    """A click in the grid switches that head off, or on again."""
    points = st.session_state[GRID].selection.points
    heads = _current(size)
    for point in points:
        if point.get("curve_number", 0) == 0:
            heads ^= {(int(point["y"]), int(point["x"]))}
    _set_heads(heads)


def _toggle(size) -> None:
    _set_heads(_current(size) ^ {(st.session_state["abl_layer"], st.session_state["abl_head"])})


st.title(t("abl.title"))
models = inside.heads_off_models()
top = st.columns([1, 3], vertical_alignment="bottom")  # inputs in one row, the grid right below
name = top[0].selectbox(t("common.model"), models, on_change=_new_model, help=t("abl.model_help"),
                        key=url_state.field("abl_model", "model", models[0], choices=models))
with top[1]:
    text = inputs.text_input(t("abl.text"), limit=500, key=url_state.field(TEXT, "text", _example(name)))
ranking = call_or_stop(inside.heads_off_ranking, name, text)
size = ranking.effect.shape
words = list(range(len(ranking.keys)))
word = st.session_state[url_state.field("abl_word", "word", -1, int, choices=[-1] + words)]
shown = ranking.on_word(word) if word in words else ranking
try:
    off = parse_heads(st.session_state[url_state.field(HEADS, "heads", "")], *size)
except UserFacingError as error:  # the item is the user's text: escaped for Markdown
    st.error(t(error.key, **{k: md_escape(v) for k, v in error.params.items()}))
    off = ()

chart(head_grid(shown.attention, off, t_plain("abl.grid_title", word=shown.keys[shown.word]),
                       t("common.layer"), t("common.head"), t("abl.attention_on"), t("abl.off")),
      key=GRID, on_select=lambda: _clicked(size), selection_mode="points", width="stretch",
      filename=export_stem("heads-off", name, "attention-on-word"))
st.caption(t("abl.grid_help"))

cols = st.columns([2, 2, 1, 1])
word = cols[0].selectbox(t("abl.word"), [-1] + words, help=t("abl.word_help"),
                         format_func=lambda j: t_plain("abl.word_auto", word=ranking.keys[ranking.word])
                         if j == -1 else f"{j}: {ranking.keys[j]}",
                         key=url_state.field("abl_word", "word", -1, int, choices=[-1] + words))
cols[1].text_input(t("abl.heads"), help=t("abl.heads_help"),
                   key=url_state.field(HEADS, "heads", ""))
layer = cols[2].selectbox(t("common.layer"), range(size[0]),
                          key=url_state.field("abl_layer", "layer", 0, choices=range(size[0])))
head = cols[3].selectbox(t("common.head"), range(size[1]),
                         key=url_state.field("abl_head", "head", 0, choices=range(size[1])))
buttons = st.columns(2)
buttons[0].button(t("abl.toggle", layer=layer, head=head), on_click=_toggle, args=(size,),
                  key="abl_toggle", width="stretch")
buttons[1].button(t("abl.clear"), on_click=_set_heads, args=((),), key="abl_clear", width="stretch")

# ---------------------------------------------------------------- before / after
st.header(t("abl.before_after"))
result = call_or_stop(inside.heads_off_before_after, name, text, tuple(off))
if not off:
    st.info(t("abl.no_heads"))
if result.translation:
    left, right = st.columns(2)
    left.metric(t("abl.before"), result.before[0][0])
    right.metric(t("abl.after", n=len(off)), result.after[0][0])
else:
    chart(before_after_bars(result.before, result.after, t("abl.bars_title", n=len(off)),
                                   t("abl.before"), t("abl.after", n=len(off)), t("lmp.token"),
                                   t("lmp.probability")), key="abl_bars", width="stretch",
          filename=export_stem("heads-off", name, "before-after", f"{len(off)}-heads-off"))

quality_caption(name)  # a translator's held-out BLEU (nothing for the language models)

# ---------------------------------------------------------------- ranking vs attention
st.header(t("abl.ranking"))
st.caption(t("abl.ranking_help_tr" if ranking.translation else "abl.ranking_help",
             target=md_escape(ranking.target), p=f"{ranking.probability:.3f}", n=ranking.forward_passes))
top_effect, top_attention = shown.order()[0], shown.most_attending()
st.markdown(t("abl.summary", word=md_escape(shown.keys[shown.word]), la=top_attention[0], ha=top_attention[1],
              ea=f"{shown.effect[top_attention]:+.4f}", le=top_effect[0], he=top_effect[1],
              ee=f"{shown.effect[top_effect]:+.4f}", rho=f"{shown.correlation:+.2f}"))
left, right = st.columns(2)
chart(effect_vs_attention(shown.effect, shown.attention, t("abl.scatter_title"),
                                 t("abl.effect"), t("abl.attention_on"), t("common.layer"),
                                 t("common.head")), key="abl_scatter", container=left,
      filename=export_stem("heads-off", name, "effect-vs-attention"),
      width="stretch")
order = shown.order()[:12]
table({t("abl.col.head"): [f"{la}:{h}" for la, h in order],
       t("abl.effect"): [round(float(shown.effect[la, h]), 4) for la, h in order],
       t("abl.attention_on"): [round(float(shown.attention[la, h]), 3) for la, h in order]},
      key="abl_table", stem="heads-off-ranking", container=right, hide_index=True, width="stretch")

lesson.after_figure("heads-off", t("abl.intro"), text=quoted_text(text), word=shown.keys[shown.word],
                    target=ranking.target)  # the question names the sentence and word on the page
