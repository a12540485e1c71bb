"""Page: attention with real numbers: score -> softmax weight -> context vector (chapter 10.2).

Widgets -> one cached call into `lmcore.demos.score.compute` -> the vector picture,
the weights bar and the table of every intermediate number.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lmcore.demos.score import (
    MAX_LABEL_CHARS,
    PARAM_SEED,
    PRESETS,
    SCORE_NAMES,
    Preset,
    ScoreDemoResult,
    clean_labels,
    preset_labels,
)
from lmcore.errors import UserFacingError
from lmcore.views import plots
from ui import lesson, loaders, url_state
from ui.export_widgets import chart, table
from ui.file_names import export_stem
from ui.i18n import current_language, error_text, t

MIN_STATES, MAX_STATES = 2, 6
SCORE_LATEX = {
    "dot": r"e_j = s^\top h_j",
    "scaled_dot": r"e_j = \frac{s^\top h_j}{\sqrt{d}}",
    "general": r"e_j = s^\top W_a\, h_j",
    "additive": r"e_j = v_a^\top \tanh(W_a s + U_a h_j)",
}


def explain(score: str, scale: bool) -> None:
    """Score -> softmax -> weighted sum, with the formulas."""
    with st.expander(t("attn.how.title"), expanded=True):
        cols = st.columns(3)
        score_tex = SCORE_LATEX[score]
        if scale and score != "scaled_dot":
            score_tex += r", \quad e_j \leftarrow \frac{e_j}{\sqrt{d}}"
        steps = [("attn.how.score", score_tex),
                 ("attn.how.softmax", r"\alpha_j = \frac{\exp(e_j)}{\sum_{k} \exp(e_k)}"),
                 ("attn.how.context", r"c = \sum_j \alpha_j h_j")]
        for col, (key, tex) in zip(cols, steps):
            col.markdown(t(key))
            col.latex(tex)
        st.caption(t("attn.how.mask_note"))


def state_inputs(preset: Preset, lang: str) -> tuple[tuple, pd.DataFrame]:
    """The decoder state (number inputs) and the encoder states (an editable table)."""
    d = len(preset.decoder_state)
    st.markdown(t("attn.decoder_state"))
    cols = st.columns(max(d, 4))
    decoder = tuple(cols[i].number_input(f"s[{i + 1}]", value=float(v), step=0.1, format="%.2f",
                                         key=f"attn_s_{preset.name}_{i}")
                    for i, v in enumerate(preset.decoder_state))
    st.markdown(t("attn.encoder_states", min=MIN_STATES, max=MAX_STATES))
    dims = [f"x{i + 1}" for i in range(d)]
    frame = pd.DataFrame(preset.encoder_states, columns=dims)
    frame.insert(0, "label", preset_labels(preset, lang))
    config = {"label": st.column_config.TextColumn(t("attn.col.word"),
                                                  max_chars=MAX_LABEL_CHARS)}
    config |= {c: st.column_config.NumberColumn(c, format="%.2f", step=0.1) for c in dims}
    edited = st.data_editor(frame, num_rows="dynamic", column_config=config, hide_index=True,
                            key=f"attn_enc_{preset.name}_{lang}")
    return decoder, edited


def results_table(result: ScoreDemoResult) -> pd.DataFrame:
    rows = result.table()
    out = {t("attn.col.word"): [r["label"] for r in rows],
           t("attn.col.score"): [r["score"] for r in rows]}
    if result.scaled_scores is not None:
        out[t("attn.col.scaled_score")] = [r["scaled_score"] for r in rows]
    out[t("attn.col.weight")] = [r["weight"] for r in rows]
    out[t("attn.col.term")] = ["(" + ", ".join(f"{x:.3f}" for x in r["term"]) + ")" for r in rows]
    out[t("attn.col.masked")] = [r["masked"] for r in rows]
    return pd.DataFrame(out)


def context_latex(result: ScoreDemoResult) -> str:
    terms = [rf"{w:.3f}\,h_{{{j + 1}}}" for j, w in enumerate(result.weights) if result.mask[j]]
    vec = ", ".join(f"{x:.3f}" for x in result.context)
    return r"c = " + " + ".join(terms) + rf" = ({vec})"


def show_parameters(result: ScoreDemoResult) -> None:
    if not result.parameters:
        return
    st.markdown(t("attn.params", seed=PARAM_SEED))
    cols = st.columns(len(result.parameters))
    for col, (name, m) in zip(cols, result.parameters.items()):
        rows = m[:, None] if m.ndim == 1 else m
        body = r" \\ ".join(" & ".join(f"{x:.1f}" for x in row) for row in rows)
        col.latex(rf"{name} = \begin{{bmatrix}} {body} \end{{bmatrix}}")


def show_figures(result: ScoreDemoResult, box) -> None:
    """The vector picture and the weights bar, side by side in `box` (drawn above the inputs)."""
    masked = ~result.mask
    left, right = box.columns(2)
    chart(container=left, fig=plots.vector_plot(
        result.labels, result.encoder_states, result.weights, result.decoder_state,
        result.context, title=t("attn.fig.vectors"), query_label=t("attn.decoder_short"),
        context_label=t("attn.context_short"), masked=masked), key="attn_vectors",
              filename=export_stem("attention", None, "vectors"))
    left.caption(t("attn.fig.vectors_note"))
    if result.encoder_states.shape[1] > 2:
        left.caption(t("attn.first_two_dims", d=result.encoder_states.shape[1]))
    chart(container=right, fig=plots.weights_bar(
        result.labels, result.weights, title=t("attn.fig.weights"),
        token_label=t("attn.col.word"), weight_label=t("attn.col.weight"), masked=masked,
        masked_label=t("attn.masked")), key="attn_weights",
              filename=export_stem("attention", None, "weights"))


def show_numbers(result: ScoreDemoResult) -> None:
    """Every intermediate number, the context vector's sum and the model's parameters."""
    st.subheader(t("attn.numbers"))
    frame = results_table(result)
    numbers = {c: st.column_config.NumberColumn(c, format="%.4f")
               for c in frame.columns if frame[c].dtype.kind == "f"}
    table(frame, key="attn_numbers", stem="attention-numbers", hide_index=True, column_config=numbers)
    st.latex(context_latex(result))
    show_parameters(result)


def main() -> None:
    lang = current_language()
    st.title(t("attn.title"))
    c1, c2, c3 = st.columns(3)
    # names are translated once: format functions may be called outside this run
    preset_names = {n: t(f"attn.preset.{n}") for n in PRESETS}
    score_names = {n: t(f"attn_core.score.{n}") for n in SCORE_NAMES}
    presets, scores = list(preset_names), list(score_names)
    preset_name = c1.selectbox(t("attn.preset"), presets, format_func=preset_names.__getitem__,
                               key=url_state.field("attn_preset", "preset", presets[0], choices=presets))
    score = c2.selectbox(t("attn.score_fn"), scores, format_func=score_names.__getitem__,
                         key=url_state.field("attn_score", "score", scores[0], choices=scores))
    scale = c3.toggle(t("attn.scale"), help=t("attn.scale_help"),
                      key=url_state.field("attn_scale", "scale_scores", False))
    if score == "scaled_dot":
        c3.caption(t("attn.scale_always"))
    figure = st.container()  # the figure first; the numbers it is made of below
    lesson.after_figure("attention", t("attn.intro"))
    explain(score, scale)
    preset = PRESETS[preset_name]
    decoder, states = state_inputs(preset, lang)
    n = len(states)
    labels = clean_labels(states["label"].tolist(), n)
    masked = st.multiselect(t("attn.mask"), list(range(n)), key=f"attn_mask_{preset_name}",
                            format_func=lambda j: f"{j + 1}: {labels[j]}",
                            placeholder=t("attn.mask_none"))
    try:
        if not MIN_STATES <= n <= MAX_STATES:
            raise UserFacingError("attn.err.state_count", min=MIN_STATES, max=MAX_STATES, n=n)
        encoders = tuple(tuple(row) for row in states.drop(columns="label").astype(object)
                         .itertuples(index=False))
        result = loaders.score_steps(decoder, encoders, score, scale, tuple(masked), labels)
    except UserFacingError as error:
        figure.error(error_text(error))
        return
    show_figures(result, figure)
    show_numbers(result)


main()
