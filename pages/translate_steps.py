"""Translation step by step (10.2): decode one word at a time and watch the attention over
the source, the word chosen and its rivals, greedy vs beam, Bahdanau vs Luong."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lmcore.errors import UserFacingError
from lmcore.translation.translators import step_maps
from lmcore.views import seq2seq as views
from lmcore.views.plots import attention_heatmap
from ui import inputs
from ui import loaders
from ui import seq2seq_widgets as w
from ui.notices import show_notices
from ui.safe_text import md_escape
from ui import url_state
from ui.export_widgets import chart, table
from ui.i18n import error_text, t
from ui.steps import autoplay, stepper
from ui import lesson
from lmcore.demos.quiz import top_source_word

MAX_CHARS = 5000
EXAMPLES = {"en": "The cat is sleeping on the bed.", "ko": "나는 학교에 간다."}


def heatmap(maps, shown: int | None, key: str, title: str | None = None) -> None:
    maps = maps if shown is None else maps.select(queries=slice(max(0, shown)))
    fig = attention_heatmap(maps, title=title, query_label=t("s2sp.steps.output"),
                            key_label=t("s2sp.steps.source"), weight_label=t("common.weight"))
    fig.update_layout(height=min(900, max(260, 150 + 30 * len(maps.query_tokens))))
    chart(fig, key=key)


def step_detail(result, step: int) -> None:
    view = result.steps[step - 1]
    so_far = [s.token for s in result.steps[:step]]
    st.markdown(t("s2sp.steps.so_far", words=md_escape(" ".join(so_far))))
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"**{t('s2sp.steps.attention_title', word=md_escape(view.token))}**")
        if view.weights is None:
            st.info(t("s2s.no_attention_trace"))
        else:
            chart(views.scores_and_weights(result.source_tokens, view.scores, view.weights,
                                       t("s2sp.steps.scores"), t("s2sp.steps.weights"),
                                       t("s2sp.steps.source")), key="s2sp_step_bars")
            if view.scores is None:
                st.caption(t("s2sp.steps.transformer_note"))
    with right:
        st.markdown(f"**{t('s2sp.steps.topk_title')}**")
        chart(views.topk_bar(view.top_k, view.token, t("s2sp.steps.probability")), key="s2sp_topk")
        st.caption(t("s2sp.steps.chosen", word=md_escape(view.token), p=f"{view.prob:.3f}"))
        if result.beam > 1:
            st.caption(t("s2sp.steps.beam_note"))
    if result.beams and step <= len(result.beams):
        beams = result.beams[step - 1]
        st.markdown(f"**{t('s2sp.steps.beams_title', k=result.beam)}**")
        table(pd.DataFrame({t("s2sp.steps.beam_words"): [" ".join(b["tokens"]) for b in beams],
                            t("s2sp.steps.beam_score"): [b["score"] for b in beams],
                            t("s2sp.steps.beam_done"): [b["finished"] for b in beams]}),
              key="s2sp_beams", hide_index=True)


def compare_kinds(text: str, model_name: str, infos) -> None:
    """Two attention models with the same source language, side by side, full alignments."""
    source = next((m.source_lang for m in infos if m.name == model_name), None)
    same = [m for m in infos if m.source_lang == source and m.attention not in (None, "none")]
    st.subheader(t("s2sp.steps.compare_title"))
    if len(same) < 2:
        st.info(t("s2sp.steps.compare_missing"))
        return
    st.caption(t("s2sp.steps.compare_caption"))
    prefer = ["s2s-en-fr-bahdanau", "s2s-en-fr-luong"]
    cols = st.columns(2)
    for i, col in enumerate(cols):
        with col:
            default = prefer[i] if prefer[i] in [m.name for m in same] else same[i].name
            name = w.model_select(t("common.model"), same, f"s2sp_cmp_{i}", default, param=f"cmp{i + 1}")
            try:
                result = loaders.translate(name, text)
            except UserFacingError as error:
                st.warning(error_text(error))
                continue
            st.markdown(md_escape(result.translation) or "—")
            maps = step_maps(result.steps, result.source_tokens)
            if maps is not None:
                heatmap(maps, None, f"s2sp_cmp_map_{i}")


def greedy_vs_beam(name: str, text: str, k: int) -> None:
    greedy, beam = loaders.translate(name, text, 1), loaders.translate(name, text, k)
    table(pd.DataFrame({
        t("s2sp.steps.mode"): [t("s2sp.steps.greedy"), t("s2sp.steps.beam_k", k=k)],
        t("s2sp.steps.translation"): [greedy.translation, beam.translation],
        t("s2sp.steps.logprob"): [round(greedy.score, 3), round(beam.score, 3)]}), key="s2sp_greedy_beam",
          hide_index=True)


st.title(t("s2sp.steps.title"))
st.markdown(t("s2sp.steps.intro"))
lesson.guide("translate-steps")
infos = loaders.translator_choices()
if not infos:
    st.warning(t("s2sp.model_missing", name="s2s-en-fr-bahdanau"))
    st.stop()
name = w.model_select(t("common.model"), infos, "s2sp_model", "s2s-en-fr-bahdanau", param="model")
lang = next(m.source_lang for m in infos if m.name == name)
text = inputs.text_area(t("s2sp.steps.input"), limit=MAX_CHARS,
                    key=url_state.field(f"s2sp_text_{lang}", "text", EXAMPLES.get(lang, EXAMPLES["en"])))
modes = {"greedy": t("s2sp.steps.greedy"), "beam": t("s2sp.steps.beam")}
c1, c2 = st.columns(2)
mode = c1.radio(t("s2sp.steps.mode"), list(modes), horizontal=True, format_func=modes.__getitem__,
                key=url_state.field("s2sp_mode", "mode", "greedy", choices=modes))
k = c2.slider(t("s2sp.steps.beam_size"), 2, 8, disabled=mode != "beam",
              key=url_state.field("s2sp_beam", "beam", 3, choices=range(2, 9)))
beam = k if mode == "beam" else 1
try:
    result = loaders.translate(name, text, beam)
except UserFacingError as error:
    st.warning(error_text(error))
    st.stop()
show_notices(result.notices)
if name.startswith("s2s-ko") or lang == "ko":
    st.caption(t("s2s.korean_tokens"))
n = len(result.steps)
if n == 0:
    st.warning(t("s2sp.steps.nothing"))
    st.stop()
first = result.steps[0]
live = None if first.weights is None else top_source_word(result.source_tokens, first.weights)
if live is None:
    lesson.quiz("translate-steps")
else:
    lesson.quiz("translate-steps", options=live[0], answer=live[1], word=first.token)
step = stepper("s2sp_step", n, signature=(text, name, mode, beam), play=True)
st.progress(step / n, text=t("s2sp.steps.step_of", step=step, total=n))
step_detail(result, step)
maps = step_maps(result.steps, result.source_tokens)
st.subheader(t("s2sp.steps.full_title") if step == n else t("s2sp.steps.growing_title"))
if maps is not None:
    heatmap(maps, step, "s2sp_alignment")
if step == n:
    st.success(t("s2sp.steps.final", text=md_escape(result.translation) or "—"))
if mode == "beam":
    greedy_vs_beam(name, text, k)
compare_kinds(text, name, infos)
autoplay("s2sp_step", n)
