"""Translation step by step (10.2): decode one word at a time and watch the attention over
the source, the word chosen and its rivals, greedy vs beam, Bahdanau vs Luong."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lmcore.demos.quiz import top_source_word
from lmcore.errors import UserFacingError
from lmcore.translation.translators import step_maps
from lmcore.views.plots import attention_heatmap
from lmcore.views.seq2seq import step_figure
from ui import inputs, lesson, loaders, url_state
from ui.export_widgets import chart, table, view_fragment
from ui.file_names import export_stem
from ui.i18n import error_text, t, t_plain
from ui.notices import show_notices
from ui.safe_text import md_escape
from ui.seq2seq_widgets import confidence_line, model_select, quality_caption
from ui.steps import autoplay, stepper

MAX_CHARS = 5000
EXAMPLES = {"en": "We are eating in the kitchen.", "ko": "나는 영어를 공부한다."}


def heatmap(maps, shown: int | None, key: str, title: str | None = None,
            filename: str | None = None) -> None:
    maps = maps if shown is None else maps.select(queries=slice(max(0, shown)))
    fig = attention_heatmap(maps, title=title, query_label=t("s2sp.steps.output"),
                            key_label=t("s2sp.steps.source"), weight_label=t("common.weight"))
    fig.update_layout(height=min(900, max(260, 150 + 30 * len(maps.query_tokens))))
    chart(fig, key=key, filename=filename)


def step_labels(view, step: int, n: int) -> dict[str, str]:
    """The step figure's translated labels (plain text; lmcore.views escapes them)."""
    kind = "" if view.scores is not None else "_cross" if view.weights is not None else "_plain"
    return dict(title=t_plain(f"s2sp.steps.figure_title{kind}", step=step, total=n, word=view.token,
                              p=f"{view.prob:.3f}"),
                scores=t("s2sp.steps.scores"), weights=t("s2sp.steps.weights"), source=t("s2sp.steps.source"),
                topk=t("s2sp.steps.topk_axis"))


def step_detail(result, step: int, stem: str) -> None:
    """One figure for the step: its scores and weights over the source beside the word chosen
    and its rivals (a step resends one chart; issue 12). The alignment is drawn once, outside."""
    n, view = len(result.steps), result.steps[step - 1]
    if view.weights is None:
        st.info(t("s2s.no_attention_trace"))
    chart(step_figure(result.source_tokens, view.scores, view.weights, view.top_k, view.token,
                            step_labels(view, step, n)), key="s2sp_step_figure", filename=stem)
    if view.weights is not None and view.scores is None:
        st.caption(t("s2sp.steps.transformer_note"))
    if step_maps(result.steps, result.source_tokens) is None:  # no alignment to read the words from
        st.markdown(t("s2sp.steps.so_far", words=md_escape(" ".join(s.token for s in result.steps[:step]))))
    if result.beam > 1:
        st.caption(t("s2sp.steps.beam_note"))
    if result.beams and step <= len(result.beams):
        beams = result.beams[step - 1]
        st.markdown(f"**{t('s2sp.steps.beams_title', k=result.beam)}**")
        table(pd.DataFrame({t("s2sp.steps.beam_words"): [" ".join(b["tokens"]) for b in beams],
                            t("s2sp.steps.beam_score"): [b["score"] for b in beams],
                            t("s2sp.steps.beam_done"): [b["finished"] for b in beams]}),
              key="s2sp_beams", hide_index=True, stem=f"{stem}-beams")


@view_fragment("s2sp_step_view")
def step_view(result, name: str, signature: tuple) -> None:
    """One decoding step: the step control and its one figure (the step count is in its title).
    A step (button, key, slider, play) reruns only this fragment; the translation is cached outside."""
    n = len(result.steps)
    step = stepper("s2sp_step", n, signature=signature, play=True, compact=True)
    step_detail(result, step, export_stem("translate-steps", name, f"step{step}"))
    if step == n:
        st.success(t("s2sp.steps.final", text=md_escape(result.translation) or "—"))
        confidence_line(result)
    autoplay("s2sp_step", n, fragment=True)


def attention_family(attention: str | None) -> str:
    """bahdanau, luong or transformer: the name a comparison's title gives a model's attention."""
    text = str(attention or "")
    return "bahdanau" if text.startswith("bahdanau") else "luong" if text.startswith("luong") else "transformer"


def compare_kinds(text: str, model_name: str, infos) -> None:
    """Two attention models with the same source language, side by side, full alignments;
    the title names the two kinds shown (Bahdanau vs Luong, or vs a Transformer)."""
    source = next((m.source_lang for m in infos if m.name == model_name), None)
    same = [m for m in infos if m.source_lang == source and m.attention not in (None, "none")]
    head = st.container()
    if len(same) < 2:
        head.subheader(t("s2sp.steps.compare_title_any"))
        st.info(t("s2sp.steps.compare_missing"))
        return
    prefer = ["s2s-en-fr-bahdanau", "s2s-en-fr-luong"]
    cols, families = st.columns(2), []
    for i, col in enumerate(cols):
        with col:
            default = prefer[i] if prefer[i] in [m.name for m in same] else same[i].name
            name = model_select(t("common.model"), same, f"s2sp_cmp_{i}", default, param=f"cmp{i + 1}")
            families.append(attention_family(next(m.attention for m in same if m.name == name)))
            try:
                result = loaders.translate(name, text)
            except UserFacingError as error:
                st.warning(error_text(error))
                continue
            st.markdown(md_escape(result.translation) or "—")
            maps = step_maps(result.steps, result.source_tokens)
            if maps is not None:
                heatmap(maps, None, f"s2sp_cmp_map_{i}",
                        filename=export_stem("translate-steps", name, "alignment"))
    if sorted(families) == ["bahdanau", "luong"]:
        head.subheader(t("s2sp.steps.compare_title"))
    else:
        head.subheader(t("s2sp.steps.compare_title_pair", a=t(f"s2sp.steps.family.{families[0]}"),
                         b=t(f"s2sp.steps.family.{families[1]}")))
    head.caption(t("s2sp.steps.compare_caption"))


def greedy_vs_beam(name: str, text: str, k: int) -> None:
    greedy, beam = loaders.translate(name, text, 1), loaders.translate(name, text, k)
    table(pd.DataFrame({
        t("s2sp.steps.mode"): [t("s2sp.steps.greedy"), t("s2sp.steps.beam_k", k=k)],
        t("s2sp.steps.translation"): [greedy.translation, beam.translation],
        t("s2sp.steps.logprob"): [round(greedy.score, 3), round(beam.score, 3)]}), key="s2sp_greedy_beam",
              stem=export_stem("translate-steps", name, f"greedy-vs-beam{k}"),
          hide_index=True)


st.title(t("s2sp.steps.title"))
infos = loaders.translator_choices()
if not infos:
    st.warning(t("s2sp.model_missing", name="s2s-en-fr-bahdanau"))
    st.stop()
# ---------------------------------------------------------------- inputs: one compact row
row = st.columns([3.6, 2.4, 2.5, 1.5], vertical_alignment="bottom")  # room for the model name
with row[0]:
    name = model_select(t("common.model"), infos, "s2sp_model", "s2s-en-fr-bahdanau", param="model")
lang = next(m.source_lang for m in infos if m.name == name)
with row[1]:
    text = inputs.text_area(t("s2sp.steps.input"), limit=MAX_CHARS, height=68,
                            key=url_state.field(f"s2sp_text_{lang}", "text", EXAMPLES.get(lang, EXAMPLES["en"])))
modes = {"greedy": t("s2sp.steps.greedy"), "beam": t("s2sp.steps.beam")}
mode = row[2].segmented_control(t("s2sp.steps.mode"), list(modes), format_func=modes.__getitem__,
                                required=True, key=url_state.field("s2sp_mode", "mode", "greedy", choices=modes))
k = row[3].slider(t("s2sp.steps.beam_size"), 2, 8, disabled=mode != "beam",
                  key=url_state.field("s2sp_beam", "beam", 3, choices=range(2, 9)))
beam = k if mode == "beam" else 1
try:
    result = loaders.translate(name, text, beam)
except UserFacingError as error:
    st.warning(error_text(error))
    st.stop()
show_notices(result.notices)
if not result.steps:
    st.warning(t("s2sp.steps.nothing"))
    st.stop()

# ---------------------------------------------------------------- the step, its alignment, the rest
step_view(result, name, (text, name, mode, beam))
alignment = step_maps(result.steps, result.source_tokens)
if alignment is not None:  # every step's row at once: a step changes nothing here
    st.subheader(t("s2sp.steps.full_title"))
    heatmap(alignment, None, "s2sp_alignment",
            filename=export_stem("translate-steps", name, f"beam{beam}" if beam > 1 else None, "alignment"))
quality_caption(name)
if name.startswith("s2s-ko") or lang == "ko":
    st.caption(t("s2s.korean_tokens"))
if mode == "beam":
    greedy_vs_beam(name, text, k)
compare_kinds(text, name, infos)
st.markdown(t("s2sp.steps.intro"))
lesson.guide("translate-steps")
first = result.steps[0]
live = None if first.weights is None else top_source_word(result.source_tokens, first.weights)
if live is None:
    lesson.quiz("translate-steps")
else:
    lesson.quiz("translate-steps", options=live[0], answer=live[1], word=first.token)
