"""Widgets shared by the BERT and GPT pages: model picker, honest labels, error handling."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from lmcore.errors import UserFacingError
from lmcore.i18n import catalog
from lmcore.pretrained import loading
from ui import inputs, loaders, url_state
from ui.finetune_jobs import session_finetuned_models
from ui.i18n import current_language, error_text, t, t_plain

OTHER = "__other__"


def model_picker(kinds: tuple[str, ...], key: str, default: str | None = None) -> str:
    """A selectbox of catalog models of these kinds, the encoders this session fine-tuned
    (value: their folder), and a free hub id or folder; it opens on `default` when that is
    one of them, else on the first."""
    choices = loaders.model_choices(kinds)
    labels = {m.name: m.name if m.offline else t_plain("lmp.model.not_here", name=m.name)
              for m in choices}
    if "encoder" in kinds:
        labels |= {folder: t_plain("lmp.model.finetuned", name=name)
                   for name, folder in session_finetuned_models().items()}
    labels |= {OTHER: t("lmp.model.other")}  # fixed at run time
    names = list(labels)
    first = default if default in names else names[0]
    choice = st.selectbox(t("common.model"), names, format_func=labels.__getitem__,
                          key=url_state.field(key, "model", first, choices=names))
    if choice != OTHER:
        return choice
    return inputs.text_input(t("lmp.model.other_input"), limit=300,
                         key=url_state.field(f"{key}_other", "model_id", "")).strip()


def load_or_stop(name: str):
    """The loaded model, or a translated st.error and the end of this run."""
    if not name:
        st.info(t("lmp.model.type_name"))
        st.stop()
    try:
        with st.spinner(t("lmp.model.loading", name=name)):
            return loaders.model(name)
    except UserFacingError as error:
        st.error(error_text(error))
        st.stop()


def _fmt(value: object, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _said(name: str, field: str, m: dict) -> str:
    """A metrics.json text field in the session's language (`inside.<field>.<name>` when
    translated, else the file's English)."""
    key = f"inside.{field}.{name}"
    return t(key) if key in catalog() else str(m.get(field, "?"))


def model_label(name: str, kind: str) -> None:
    """An honest caption: what the model is and, for bundled ones, its measured quality."""
    m, problem = loaders.metrics_status(name)
    if problem:  # a broken metrics.json: said once, the page still works
        st.warning(t("lm.err.metrics_broken", reason=problem))
    key = f"lm.model.{name}"
    if name in loading.MINILM_LMS:  # MiniLM trained further here: all figures from metrics.json
        st.caption(loading.describe(name, current_language()))
        st.caption(t("lmp.metrics.minilm", params=f"{m.get('parameters_trained', 0):,}",
                     mb=_fmt(m.get("size_bytes_on_disk", 0) / 1e6, 1), trained_on=_said(name, "trained_on", m),
                     data=_said(name, "data", m), held_out=_said(name, "held_out", m)))
        return
    if key in catalog():  # a bundled model with its own description
        st.caption(t(key, accuracy=_fmt(m.get("masked_token_accuracy", "?")),
                     perplexity=_fmt(m.get("validation_perplexity", "?"), 1),
                     minutes=_fmt(m.get("train_cpu_seconds", 0) / 60, 1)))
    elif Path(name).is_dir():
        st.caption(t("lmp.model.local", name=name))
    else:
        st.caption(t("lm.model.hub", name=name))
    if not m:
        return
    common = dict(params=f"{m.get('parameters', 0):,}", mb=_fmt(m.get("size_bytes_on_disk", 0) / 1e6, 1),
                  minutes=_fmt(m.get("train_cpu_seconds", 0) / 60, 1), data=_said(name, "data", m))
    if kind == "causal-lm":
        st.caption(t("lmp.metrics.causal", perplexity=_fmt(m.get("validation_perplexity", "?"), 1),
                     tokens=f"{m.get('validation_tokens', 0):,}", **common))
    else:
        st.caption(t("lmp.metrics.masked", accuracy=_fmt(m.get("masked_token_accuracy", "?")),
                     tokens=f"{m.get('masked_tokens', 0):,}",
                     nsp=_fmt(m.get("next_sentence_accuracy", "?")), **common))


def call_or_stop(func, *args):
    """Run one cached lmcore call; a UserFacingError becomes st.error and stops the run."""
    try:
        return func(*args)
    except UserFacingError as error:
        st.error(error_text(error))
        st.stop()


def call_or_error(func, *args):
    """Like call_or_stop, but the rest of the page still runs (returns None on error)."""
    try:
        return func(*args)
    except UserFacingError as error:
        st.error(error_text(error))
        return None
