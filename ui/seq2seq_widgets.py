"""Shared pieces of the seq2seq pages: model labels and a few Streamlit widgets.
Their figures are built by lmcore.views.seq2seq (tested without Streamlit)."""
from __future__ import annotations

from typing import Sequence

import streamlit as st

from lmcore.catalog import ModelInfo
from lmcore.i18n import catalog
from ui import loaders, url_state
from ui.i18n import t


# ---------------------------------------------------------------- labels
def model_label(info: ModelInfo | str) -> str:
    """The locale key naming a model (s2s.model.* or tf.model.*) or, failing that, its name."""
    name = info if isinstance(info, str) else info.name
    for key in (f"s2s.model.{name}", f"tf.model.{name}"):
        if key in catalog():
            return key
    return name


# ---------------------------------------------------------------- Streamlit widgets
def model_select(label: str, infos: Sequence[ModelInfo], key: str, default: str | None = None,
                 param: str | None = None) -> str | None:
    """A selectbox of model names shown by their translated labels; kept in ?param= when given."""
    names = [m.name for m in infos]
    if not names:
        return None
    default = default if default in names else names[0]
    labels = {n: t(model_label(n)) for n in names}  # fixed now: format_func may run outside the script
    if param is not None:
        key = url_state.field(key, param, default, choices=names)
        return st.selectbox(label, names, key=key, format_func=labels.__getitem__)
    return st.selectbox(label, names, index=names.index(default), key=key, format_func=labels.__getitem__)


def quality_caption(name: str) -> None:
    """The translator's measured quality, read from its evaluation files (honest models)."""
    q = loaders.translator_quality(name)
    if q is None:
        return
    st.caption(t("s2s.quality_line", model=t(model_label(name)), pairs=q["held_out_pairs"],
                 short=q["short"], joined=q["joined"], joined_pairs=q["joined_pairs"],
                 minutes=q["cpu_minutes"] if q["cpu_minutes"] is not None else "?"))


def confidence_line(result) -> None:
    """How sure the model is of this translation, said where the class reads it: a warning box
    for an unsure or likely wrong one, a caption for a likely right one (or an uncalibrated model)."""
    percent = round(100 * result.confidence)
    if result.verdict in ("unsure", "likely-wrong"):
        st.warning(t(f"s2s.confidence.{result.verdict}", percent=percent), icon=":material/warning:")
    elif result.verdict == "likely-right":
        st.caption(t("s2s.confidence.likely-right", percent=percent))
    else:
        st.caption(t("s2s.confidence.plain", percent=percent))
