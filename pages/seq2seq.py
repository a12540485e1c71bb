"""Seq2seq: encoder–decoder (10.1). The plain model squeezes a sentence into one context
vector; an attention model builds a new one for every output word; BLEU by length shows
where the plain model breaks."""
from __future__ import annotations

import streamlit as st

from lmcore.errors import UserFacingError
from ui import inputs
from ui import loaders
from ui.i18n import error_text, t
from lmcore.views.seq2seq import bleu_by_length, vector_strip
from ui.notices import show_notices
from ui.safe_text import md_escape
from ui.seq2seq_widgets import confidence_line, model_label, model_select, quality_caption
from ui import url_state
from ui.export_widgets import chart
from ui import lesson
from ui.file_names import export_stem

PLAIN = "s2s-en-fr-plain"
MAX_CHARS = 5000


def translate_plain(text: str) -> None:
    """The plain model's translation and its one context vector."""
    try:
        result = loaders.translate(PLAIN, text)
        view = loaders.encoder_view(PLAIN, text)
    except UserFacingError as error:
        st.warning(error_text(error))
        return
    show_notices(result.notices)
    st.markdown(f"**{t('s2sp.s2s.translation')}** {md_escape(result.translation) or '—'}")
    confidence_line(result)
    quality_caption(PLAIN)
    chart(vector_strip(view["context"][None, :], [t("s2sp.s2s.context_row")],
                                 t("s2sp.s2s.context_title", n=len(view["context"])),
                                 t("s2sp.dimension"), t("s2sp.value")), key="s2sp_context",
          filename=export_stem("seq2seq", PLAIN, "context-vector"))
    st.caption(t("s2sp.s2s.context_caption", words=len(view["source_tokens"]), n=len(view["context"])))


def compare_attention(text: str) -> None:
    """The attention model's per-step context vectors c_t beside the plain one."""
    attentive = [m for m in loaders.translator_choices()
                 if m.kind == "seq2seq" and m.attention not in (None, "none") and m.source_lang == "en"]
    st.subheader(t("s2sp.s2s.compare_title"))
    if not attentive:
        st.info(t("s2sp.model_missing", name="s2s-en-fr-bahdanau"))
        return
    name = model_select(t("s2sp.s2s.attention_model"), attentive, "s2sp_s2s_attn", "s2s-en-fr-bahdanau",
                        param="model")
    try:
        result = loaders.translate(name, text)
    except UserFacingError as error:
        st.warning(error_text(error))
        return
    st.markdown(f"**{t('s2sp.s2s.translation')}** {md_escape(result.translation) or '—'}")
    confidence_line(result)
    quality_caption(name)
    contexts = [s.context for s in result.steps if s.context is not None]
    if not contexts:
        st.info(t("s2s.no_attention_trace"))
        return
    words = [s.token for s in result.steps]
    chart(vector_strip(contexts, words, t("s2sp.s2s.contexts_title"),
                                 t("s2sp.dimension"), t("s2sp.value")), key="s2sp_contexts",
          filename=export_stem("seq2seq", name, "context-vectors"))
    st.caption(t("s2sp.s2s.contexts_caption"))


def quality_chart() -> None:
    """BLEU / chrF by source length from the project's own evaluation file."""
    st.subheader(t("s2sp.s2s.quality_title"))
    report = loaders.eval_report()
    if not report or not report.get("models"):
        st.info(t("s2sp.s2s.no_report"))
        st.code("python -m lmcore evaluate --report", language="bash")
        return
    metrics = {"bleu": t("s2s.bleu"), "chrf": t("s2s.chrf")}
    metric = st.radio(t("s2sp.s2s.metric"), list(metrics), horizontal=True, format_func=metrics.__getitem__,
                      key=url_state.field("s2sp_metric", "metric", "bleu", choices=metrics))
    en_fr = {n: t(model_label(n)) for n, m in report["models"].items() if m.get("source_lang") == "en"}
    names = en_fr or {n: t(model_label(n)) for n in report["models"]}
    chart(bleu_by_length(report, metric, names, t("s2s.bucket"), metrics[metric]), key="s2sp_bleu",
          filename=export_stem("seq2seq", None, metric, "by-length"))
    st.caption(t("s2sp.s2s.quality_caption"))
    st.code("python -m lmcore evaluate --report", language="bash")


st.title(t("s2sp.s2s.title"))
if PLAIN not in {m.name for m in loaders.translator_choices()}:
    st.warning(t("s2sp.model_missing", name=PLAIN))
    lesson.after_figure("seq2seq", t("s2sp.s2s.intro"))
else:
    examples = {"short": t("s2sp.s2s.example_short"), "long": t("s2sp.s2s.example_long")}
    names = {k: t(f"s2sp.s2s.example_{k}_name") for k in examples}
    left, right = st.columns([1, 3])  # inputs in one row, the figure right below
    pick = left.radio(t("s2sp.s2s.examples"), list(examples), format_func=names.__getitem__,
                      key=url_state.field("s2sp_s2s_example", "example", "short", choices=examples))
    with right:
        text = inputs.text_area(t("s2sp.s2s.input"), limit=MAX_CHARS, height=90,
                                key=url_state.field(f"s2sp_s2s_text_{pick}", "text", examples[pick]))
    translate_plain(text)
    st.caption(t("s2sp.s2s.plain_model", model=t(model_label(PLAIN))))
    lesson.after_figure("seq2seq", t("s2sp.s2s.intro"))
    compare_attention(text)
quality_chart()
st.caption(t("s2s.credit"))
