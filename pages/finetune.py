"""Fine-tuning (10.4): train a classification head and the encoder on a small labelled set,
live, then compare predictions and attention before and after."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lmcore.catalog import ENCODER_KINDS
from lmcore.errors import UserFacingError
from lmcore.i18n import catalog
from lmcore.pretrained.finetune import FinetuneConfig, is_finetuned_folder
from lmcore.pretrained.tasks import MAX_BYTES, bundled_tasks
from lmcore.views.curves import training_curves
from lmcore.views.finetune import cls_attention_figure, confusion_figure, head_change_figure
from ui import finetune_jobs, inputs, lesson, loaders, url_state
from ui.export_widgets import chart, table
from ui.file_names import export_stem
from ui.i18n import error_text, t, t_plain
from ui.job_widgets import JobView, fraction_done, job_section, job_status, start
from ui.jobs import session_id
from ui.loaders import finetune
from ui.notices import show_notices
from ui.safe_text import SafeMarkdown, md_escape

PREVIEW_ROWS = 12   # validation sentences in the before-training table
LRS = [1e-5, 2e-5, 3e-5, 5e-5, 1e-4, 2e-4, 3e-4]
BATCHES = [8, 16, 32]
DEFAULT = FinetuneConfig()


def label_text(name: str) -> str:
    """A label's name in the session's language (the bundled tasks' labels are translated)."""
    key = f"ft.label.{name}"
    return t(key) if key in catalog() else name


def pick_data():
    """The labelled set chosen (bundled task or upload), or None with a message shown.

    Source and task in one row; an upload's column pickers below it."""
    sources = {s: t(f"ft.data.{s}") for s in ("bundled", "upload")}
    left, right = st.columns([1, 3])
    source = left.radio(t("ft.data.source"), list(sources), format_func=sources.__getitem__,
                        key=url_state.field("ft_source", "data", "bundled", choices=sources))
    try:
        if source == "bundled":
            tasks = {n: t(f"ft.task.{n}") for n in bundled_tasks()}
            names = list(tasks)
            name = right.selectbox(t("ft.task.label"), names, format_func=tasks.__getitem__,
                                   key=url_state.field("ft_task", "task", names[0], choices=names))
            right.caption(t("ft.task.credit"))
            return finetune.task(name)
        up = right.file_uploader(t("ft.upload.label"), type=["csv", "tsv", "txt"], help=t("ft.upload.help"),
                                 key="ft_upload", max_upload_size=inputs.UPLOAD_LIMIT_MB)
        if up is None:
            right.info(t("ft.upload.wait"))
            return None
        if up.size > MAX_BYTES:  # refused before reading or hashing it
            raise UserFacingError("ft.err.too_big", megabytes=round(up.size / 1e6, 1),
                                  limit=round(MAX_BYTES / 1e6, 1))
        raw = inputs.upload_encoding(up.getvalue(), key="ft_encoding")
        cols = finetune.columns(raw, up.name)
        c1, c2 = st.columns(2)
        text_col = c1.selectbox(t("ft.upload.text_column"), cols, key="ft_text_col",
                                index=cols.index("text") if "text" in cols else 0)
        label_col = c2.selectbox(t("ft.upload.label_column"), cols, key="ft_label_col",
                                 index=cols.index("label") if "label" in cols else min(1, len(cols) - 1))
        return finetune.uploaded(raw, text_col, label_col, up.name)
    except UserFacingError as error:
        st.error(error_text(error))
        return None


def data_summary(data) -> None:
    counts = ", ".join(f"{label_text(k)}: {v}" for k, v in data.class_counts().items())
    st.caption(t("ft.data.summary", train=len(data.train), val=len(data.validation), counts=counts))
    show_notices(data.notices)
    with st.expander(t("ft.data.preview")):
        table(pd.DataFrame({t("ft.col.text"): data.validation.texts[:8],
                            t("ft.col.gold"): [label_text(data.label_names[y]) for y in data.validation.labels[:8]]}),
              key="ft_preview", hide_index=True,
              stem=export_stem("fine-tuning", None, data.name, "preview"))


def offline_encoders() -> list[str]:
    return [m.name for m in loaders.model_choices(ENCODER_KINDS) if m.offline]


def chosen_model(encoders: list[str]) -> str:
    """The form's model (its widget, or the link's ?model=), else the first offline encoder."""
    asked = st.session_state.get("ft_model") or st.query_params.get("model")
    return asked if asked in encoders else encoders[0]


def before_training_view(data, model: str, figure, side) -> None:
    """The opening view: the untrained head's predictions beside [CLS]'s attention, before training."""
    try:
        view = finetune.before_training(model, data, PREVIEW_ROWS, DEFAULT.seed, DEFAULT.max_length)
    except UserFacingError as error:
        figure.error(error_text(error))
        return
    chart(cls_attention_figure(view.maps, None, (t("ft.preview.cls_title"),), t("common.layer")),
          key="ft_cls_before", container=figure,
          filename=export_stem("fine-tuning", model, "cls-attention-before-training"))
    figure.caption(t("ft.preview.cls_caption", text=md_escape(view.example)))
    with figure:
        show_notices(view.notices)
    names = view.label_names
    side.metric(t("ft.preview.accuracy", rows=len(view.texts)), f"{view.accuracy:.0%}",
                help=t("ft.preview.accuracy_help"))
    table(pd.DataFrame({t("ft.col.text"): view.texts,
                        t("ft.col.gold"): [label_text(names[y]) for y in view.gold],
                        t("ft.col.before"): [label_text(names[k]) for k in view.predictions],
                        t("ft.preview.confidence"): view.probabilities.max(-1).round(3)}),
          key="ft_before_table", stem="finetune-before-training", container=side, hide_index=True, height=250)


def settings_form(data, running: bool, encoders: list[str]) -> None:
    if not encoders:
        st.error(t("ft.model.none"))
        return
    with st.form("ft_form"):
        model = st.selectbox(t("ft.model.label"), encoders,
                             key=url_state.field("ft_model", "model", encoders[0], choices=encoders))
        c1, c2, c3 = st.columns(3)
        epochs = c1.number_input(t("ft.epochs"), 1, 10,
                                 key=url_state.field("ft_epochs", "epochs", DEFAULT.epochs, choices=range(1, 11)))
        lr = c2.select_slider(t("ft.lr"), LRS, help=t("ft.lr.help"), format_func=lambda v: f"{v:.0e}",
                              key=url_state.field("ft_lr", "lr", DEFAULT.lr, float, choices=LRS))
        batch = c3.selectbox(t("ft.batch_size"), BATCHES,
                             key=url_state.field("ft_batch", "batch", DEFAULT.batch_size, choices=BATCHES))
        go = st.form_submit_button(t("ft.start"), type="primary", disabled=running or data is None)
    if go and data is not None:
        cfg = FinetuneConfig(model=model, epochs=int(epochs), lr=float(lr), batch_size=int(batch),
                             threads=finetune_jobs.app_threads())
        start(lambda: finetune_jobs.start_job(session_id(), data, cfg))


def curve_labels() -> dict[str, str]:
    return {"loss": t("ft.curves.loss"), "accuracy": t("ft.curves.accuracy"), "train": t("ft.curves.train"),
            "val": t("ft.curves.val"), "x": t("ft.curves.step")}


def progress(job) -> tuple[float, str]:
    """The progress bar of a running job: (fraction done, text)."""
    p, cfg = job.last, job.config
    if job.state == "preparing" or p is None:
        return 0.0, t("ft.preparing", model=cfg.model)
    if job.state == "analysing":
        return 1.0, t("ft.analysing")
    return fraction_done(p, cfg.epochs), t("ft.running", model=cfg.model, epoch=p.epoch, epochs=cfg.epochs,
                                           step=p.step, total=p.total, seconds=round(p.elapsed))


def job_view() -> JobView:
    return JobView(key="ft", page="fine-tuning", progress=progress,
                   figure=lambda job: training_curves(job.steps, job.epochs, curve_labels(), ("loss", "accuracy")),
                   cancel=t("ft.cancel"), leave_note=t("ft.leave_note"), cancelled=t("ft.cancelled"),
                   failed=lambda kind: t("ft.failed", kind=kind), keep=keep_finished)


def keep_finished(job) -> None:
    """A finished job's model joins this session's models; its results are shown below."""
    name = t_plain("ft.model_name", base=job.config.model, task=job.data.name, number=job.id)
    finetune_jobs.register_model(name, job.folder)
    st.session_state["ft_last"] = {"name": name, "folder": job.folder, "result": job.result,
                                   "change": job.change, "steps": job.steps, "data": job.data}


def show_results(last: dict) -> None:
    res, data = last["result"], last["data"]
    c = st.columns(4)
    c[0].metric(t("ft.metric.majority"), f"{res.before['majority_accuracy']:.1%}")
    c[1].metric(t("ft.metric.before"), f"{res.before['val_accuracy']:.1%}")
    c[2].metric(t("ft.metric.after"), f"{res.val_accuracy:.1%}",
                delta=f"{res.val_accuracy - res.before['val_accuracy']:+.1%}")
    c[3].metric(t("ft.metric.seconds"), t("ft.metric.seconds_value", seconds=round(res.seconds)))
    st.subheader(t("ft.curves.title"))
    chart(training_curves(last["steps"], res.history, curve_labels(), ("loss", "accuracy")), key="ft_curves",
          filename=export_stem("fine-tuning", last["name"], "curves"))
    left, right = st.columns([2, 3])
    with left:
        st.subheader(t("ft.confusion.title"))
        chart(confusion_figure(res.confusion(data.validation.labels), [label_text(n) for n in res.label_names],
                                         t("ft.confusion.true"), t("ft.confusion.pred")), key="ft_confusion",
              filename=export_stem("fine-tuning", last["name"], "confusion"))
    with right:
        examples_table(res, data)
    heads_section(last)
    if not is_finetuned_folder(last["folder"]):  # cleaned up on a busy server
        st.warning(t("ft.err.gone"))
        return
    compare_section(last, data, changed_example(last["result"], data))
    st.download_button(t("ft.download"), finetune.model_zip(last["folder"]), file_name="finetuned-model.zip",
                       mime="application/zip", key="ft_download")
    st.caption(t("ft.bert_hint", name=md_escape(last["name"])))


def examples_table(res, data) -> None:
    st.subheader(t("ft.examples.title"))
    names = [label_text(n) for n in res.label_names]
    after, before = res.validation, res.before_validation
    df = pd.DataFrame({t("ft.col.text"): data.validation.texts,
                       t("ft.col.gold"): [names[y] for y in data.validation.labels],
                       t("ft.col.before"): [names[k] for k in before.predictions],
                       t("ft.col.after"): [names[k] for k in after.predictions],
                       t("ft.col.confidence"): after.probabilities.max(-1).round(3),
                       t("ft.col.correct"): [a == y for a, y in zip(after.predictions, data.validation.labels)]})
    if st.checkbox(t("ft.examples.only_wrong"), key="ft_only_wrong"):
        df = df[~df[t("ft.col.correct")]]
    table(df, key="ft_examples", stem="finetune-validation", hide_index=True, height=320)


def changed_example(res, data) -> str:
    """A validation sentence the untrained head got wrong and the fine-tuned model right."""
    pairs = zip(data.validation.texts, data.validation.labels, res.before_validation.predictions,
                res.validation.predictions)
    return next((x for x, y, b, a in pairs if b != y == a), data.validation.texts[0])


def compare_section(last: dict, data, example: str) -> None:
    st.subheader(t("ft.compare.title"))
    text = inputs.text_input(t("ft.compare.input"), value=example, limit=500, key="ft_compare_text")
    try:
        out = finetune.compare(last["folder"], text)
    except UserFacingError as error:
        st.error(error_text(error))
        return
    show_notices(out.notices)
    cols = st.columns(2)
    for col, key in zip(cols, ("before", "after")):
        probs = out.probabilities(key)
        best = max(range(len(probs)), key=probs.__getitem__)
        col.markdown(f"**{t(f'ft.compare.{key}')}**")
        col.markdown(t("ft.compare.prediction", label=md_escape(label_text(out.labels[best])), p=f"{probs[best]:.3f}"))
    st.markdown(f"**{t('ft.cls.title')}**")
    chart(cls_attention_figure(out.before_maps, out.after_maps,
                                         (t("ft.col.before"), t("ft.col.after")), t("common.layer")),
                    key="ft_cls", filename=export_stem("fine-tuning", last["name"], "cls-attention-before-after"))
    st.caption(t("ft.cls.caption"))


def heads_section(last: dict) -> None:
    change = last["change"]
    st.subheader(t("ft.heads.title"))
    rows = {k: t(f"ft.heads.{k}") for k in ("all", "cls")}
    which = st.radio(t("ft.heads.rows"), list(rows), horizontal=True, key="ft_heads_rows",
                     format_func=rows.__getitem__)
    values = change.cls_row if which == "cls" else change.all_rows
    chart(head_change_figure(values, t("common.layer"), t("common.head"), t("ft.heads.colorbar")),
                    key="ft_heads", filename=export_stem("fine-tuning", last["name"], "head-change", which))
    top = SafeMarkdown(", ".join(t("ft.heads.item", layer=l, head=h, value=f"{v:.2f}")  # from 0, like every page
                                 for l, h, v in change.top(3, cls=which == "cls")))  # already escaped
    st.caption(t("ft.heads.caption", n=change.sentences) + " " + t("ft.heads.top", heads=top))


st.title(t("ft.title"))
sid = session_id()
data = pick_data()
encoders = offline_encoders()
figure, side = st.columns([3, 2])  # before any training: [CLS]'s attention beside the predictions
if data is not None and encoders:
    before_training_view(data, chosen_model(encoders), figure, side)
lesson.after_figure("fine-tuning", t("ft.intro"))
if data is not None:
    data_summary(data)
st.subheader(t("ft.settings"))
running = job_status(finetune_jobs.REGISTRY, sid, t("ft.busy"))
settings_form(data, running, encoders)
job_section(finetune_jobs.REGISTRY, sid, job_view(), running)
if "ft_last" in st.session_state:
    show_results(st.session_state["ft_last"])
