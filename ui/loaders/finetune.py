"""Cached calls of the Fine-tuning page: the saved and the untrained classifiers, the
before/after comparison, the opening view, and the labelled sets (bundled or uploaded).
The jobs that train and the session's model folders are ui.finetune_jobs's.
Same rules as ui.loaders: models in `st.cache_resource` (read only), results in bounded
`st.cache_data`.
"""
from __future__ import annotations

import streamlit as st

from lmcore.errors import UserFacingError
from lmcore.files import zip_folder
from lmcore.pretrained import preview
from lmcore.pretrained.classifier import BeforeAfter, Classifier, before_after, build_classifier, load_classifier
from lmcore.pretrained.finetune import is_finetuned_folder
from lmcore.pretrained.tasks import LabelledSet, load_task, read_labelled_table, table_columns


@st.cache_resource(max_entries=3, show_spinner=False)
def finetuned(folder: str) -> Classifier:
    """A saved fine-tuned classifier (read only)."""
    if not is_finetuned_folder(folder):
        raise UserFacingError("ft.err.gone")
    return load_classifier(folder)


@st.cache_resource(max_entries=2, show_spinner=False)
def initial(base: str, labels: tuple[str, ...], seed: int) -> Classifier:
    """The model before fine-tuning: the pretrained encoder and the same seeded, untrained head."""
    return build_classifier(base, labels, seed)


@st.cache_data(max_entries=32, show_spinner=False)
def compare(folder: str, text: str) -> BeforeAfter:
    """lmcore's before/after comparison of one text (predictions and attention maps)."""
    after = finetuned(folder)
    return before_after(initial(after.base_name, after.label_names, after.seed), after, text)


@st.cache_data(max_entries=8, show_spinner=False)
def before_training(base: str, data: LabelledSet, rows: int, seed: int, max_length: int) -> preview.BeforeTraining:
    """The page's opening view: the untrained classifier (the same one `compare` starts from)
    on the first `rows` validation sentences, and the first one's attention."""
    return preview.before_training(initial(base, data.label_names, seed), data.validation, rows, 0, max_length)


@st.cache_data(max_entries=8, show_spinner=False)
def task(name: str) -> LabelledSet:
    return load_task(name)


@st.cache_data(max_entries=4, show_spinner=False)
def columns(raw: bytes, filename: str) -> list[str]:
    return table_columns(raw, filename)


@st.cache_data(max_entries=4, show_spinner=False)
def uploaded(raw: bytes, text_column: str, label_column: str, filename: str) -> LabelledSet:
    return read_labelled_table(raw, text_column, label_column, filename)


@st.cache_data(max_entries=4, show_spinner=False)
def model_zip(folder: str) -> bytes:
    return zip_folder(folder)
