"""Train your own translator: upload sentence pairs, train a small seq2seq model in the
background, watch one sentence's alignment change epoch by epoch, download the model."""
from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from lmcore.errors import UserFacingError
from lmcore.files import zip_folder
from lmcore.record import AttentionMaps
from lmcore.seq2seq import ATTENTIONS
from lmcore.views.curves import training_curves
from lmcore.views.plots import attention_heatmap
from ui import inputs, lesson, loaders, seq2seq_jobs
from ui.export_widgets import chart, table
from ui.file_names import export_stem
from ui.i18n import error_text, t
from ui.job_widgets import JobView, fraction_done, job_section, job_status, start
from ui.jobs import session_id
from ui.notices import show_notices
from ui.safe_text import md_escape

LANGS = ("en", "fr", "ko", "de", "es", "ja", "zh")
SIZES = (32, 64, 128, 256)
WATCH_CHOICES = 100
# Default epochs: on the bundled 400 pairs 5 epochs wrote "le cheval ." over a flat alignment;
# 20 write "la femme suit le garçon ." with a sharp one, in 10-20 s on the shared 2-core machine.
EPOCHS = 20
FEW_PAIRS = 200  # fewer uploaded pairs get a warning (8 pairs: "<eos>"; 100: "le professeur .")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def read_upload():
    """Pairs from the uploaded TSV, else the bundled sample; None with a message shown on bad input.

    The upload box and the swap switch in one row; the pairs are shown beside the figure."""
    box, options = st.columns([3, 1])
    up = box.file_uploader(t("s2sp.train.upload"), type=["tsv", "txt"], help=t("s2sp.train.upload_help"),
                           key="s2sp_upload", max_upload_size=inputs.UPLOAD_LIMIT_MB)
    swap = options.checkbox(t("s2sp.train.swap"), key="s2sp_swap")
    raw = seq2seq_jobs.sample_bytes() if up is None else up.getvalue()
    try:
        if up is not None:
            raw = inputs.upload_encoding(raw, key="s2sp_encoding")
        pairs, notices = loaders.uploaded_pairs(raw, swap)
    except UserFacingError as error:
        st.error(error_text(error))
        return None
    show_notices(notices)
    if up is not None and len(pairs) < FEW_PAIRS:
        st.warning(t("s2sp.train.few_pairs", count=len(pairs), least=FEW_PAIRS))
    if up is None:
        options.caption(t("s2sp.train.sample", count=len(pairs)))
    else:
        options.caption(t("s2sp.train.summary", count=len(pairs)))
    return pairs


def current_settings(pairs) -> seq2seq_jobs.Settings:
    """The form's settings as they stand (its widgets, else their defaults): the untrained preview's."""
    src, tgt = guess_langs(pairs)
    get = st.session_state.get
    sources = list(dict.fromkeys(x for x, _ in pairs))
    watch = get("s2sp_watch") if get("s2sp_watch") in sources else sources[0]
    return seq2seq_jobs.Settings(get(f"s2sp_src_{src}", src), get(f"s2sp_tgt_{tgt}", tgt),
                         get("s2sp_attention", ATTENTIONS[1]), int(get("s2sp_hidden", SIZES[1])),
                         int(get("s2sp_epochs", EPOCHS)), watch)


def untrained_view(pairs, figure, side) -> None:
    """The opening view: the pairs beside what an untrained model's alignment looks like."""
    table(pd.DataFrame(pairs[:8], columns=[t("s2sp.train.source"), t("s2sp.train.target")]),
          key="s2sp_pairs", stem=export_stem("train-seq2seq", None, "pairs"), container=side, hide_index=True,
          height=320)
    settings = current_settings(pairs)
    try:
        snap = loaders.untrained_snapshot(tuple(pairs), settings)
    except UserFacingError as error:  # e.g. too few pairs to split: the job would say the same
        figure.info(error_text(error))
        return
    last = {"snapshots": [snap], "source_tokens": snap["source_tokens"], "settings": settings}
    with figure:
        alignment(last, snap, "s2sp_untrained_map", t("s2sp.train.untrained_title"))
    figure.caption(t("s2sp.train.untrained_caption", text=md_escape(settings.watch)))


def guess_langs(pairs) -> tuple[str, str]:
    """Default languages: Korean where a column has Hangul, else English -> French (or -> English)."""
    sample = (pairs or [])[:200]
    src = "ko" if any(HANGUL.search(s) for s, _ in sample) else "en"
    tgt = "ko" if any(HANGUL.search(x) for _, x in sample) else ("en" if src != "en" else "fr")
    return src, tgt


def settings_form(pairs, running: bool) -> None:
    guess = guess_langs(pairs)
    with st.form("s2sp_form"):
        langs = {c: t(f"s2sp.lang.{c}") for c in LANGS}
        kinds = {a: t(f"s2s.attention.{a}") for a in ATTENTIONS}
        c1, c2 = st.columns(2)
        src = c1.selectbox(t("s2sp.train.src_lang"), LANGS, LANGS.index(guess[0]), key=f"s2sp_src_{guess[0]}",
                           format_func=langs.__getitem__)
        tgt = c2.selectbox(t("s2sp.train.tgt_lang"), LANGS, LANGS.index(guess[1]), key=f"s2sp_tgt_{guess[1]}",
                           format_func=langs.__getitem__)
        c1, c2, c3 = st.columns(3)
        attention = c1.selectbox(t("s2sp.train.attention"), ATTENTIONS, 1, key="s2sp_attention",
                                 format_func=kinds.__getitem__)
        epochs = c2.number_input(t("s2sp.train.epochs"), 1, 30, EPOCHS, key="s2sp_epochs")
        hidden = c3.selectbox(t("s2sp.train.hidden"), SIZES, 1, key="s2sp_hidden")
        sources = list(dict.fromkeys(s for s, _ in pairs or []))[:WATCH_CHOICES]
        watch = st.selectbox(t("s2sp.train.watch"), sources or [""], key="s2sp_watch")
        st.caption(t("s2sp.train.epochs_help", n=EPOCHS))
        go = st.form_submit_button(t("s2sp.train.start"), type="primary", disabled=running or not pairs)
    if go and pairs:
        settings = seq2seq_jobs.Settings(src, tgt, attention, int(hidden), int(epochs), watch or "")
        start(lambda: seq2seq_jobs.start_job(session_id(), pairs, settings))


def curve(steps, epochs):
    return training_curves(steps, epochs, {"train": t("s2sp.train.train_loss"), "val": t("s2sp.train.val_loss"),
                                           "x": t("s2sp.train.epoch"), "loss": t("s2sp.train.loss")})


def progress(job) -> tuple[float, str]:
    """The progress bar of a running job: (fraction done, text)."""
    p = job.last
    if p is None:
        return 0.0, t("s2sp.train.preparing")
    return fraction_done(p, job.settings.epochs), t("s2s.train.progress", epoch=p.epoch, step=p.step,
                                                    total=p.total, loss=f"{p.loss:.3f}")


def job_view() -> JobView:
    return JobView(key="s2sp", page="train-seq2seq", progress=progress,
                   figure=lambda job: curve(list(job.steps), list(job.epochs)),
                   cancel=t("s2sp.train.cancel"), leave_note=t("s2sp.train.leave_note"),
                   cancelled=t("s2s.train.cancelled"), failed=lambda kind: t("common.error_prefix", kind=kind),
                   keep=keep_finished)


def keep_finished(job) -> None:
    """A finished job's outcome, kept in this session for the results below."""
    st.session_state["s2sp_last"] = {"folder": job.folder, "steps": list(job.steps),
                                     "epochs": list(job.epochs), "snapshots": list(job.snapshots),
                                     "source_tokens": job.source_tokens, "settings": job.settings,
                                     "stopped": job.result.stopped, "seconds": job.result.seconds,
                                     "best_epoch": job.result.best_epoch}


def snapshot_view(last: dict) -> None:
    snaps = last["snapshots"]
    st.subheader(t("s2sp.train.snapshots_title"))
    st.caption(t("s2sp.train.watching", text=md_escape(last["settings"].watch)))
    epoch = st.select_slider(t("s2sp.train.epoch"), [s["epoch"] for s in snaps], snaps[-1]["epoch"],
                             key="s2sp_snap_epoch") if len(snaps) > 1 else snaps[0]["epoch"]
    snap = next(s for s in snaps if s["epoch"] == epoch)
    alignment(last, snap, "s2sp_snap_map")


def alignment(last: dict, snap: dict, key: str, title: str | None = None) -> None:
    """One snapshot: the model's output words and its alignment over the source words."""
    st.markdown(t("s2sp.train.snap_output", epoch=snap["epoch"], words=md_escape(" ".join(snap["output"])) or "—"))
    if snap["weights"] is None or not len(snap["output"]):
        st.info(t("s2s.no_attention_trace"))
        return
    maps = AttentionMaps(snap["weights"][None, None], tuple(snap["output"]), tuple(last["source_tokens"]),
                         "cross")
    fig = attention_heatmap(maps, title=title, query_label=t("s2sp.steps.output"),
                            key_label=t("s2sp.steps.source"), weight_label=t("common.weight"))
    fig.update_layout(height=min(900, max(260, 150 + 30 * len(snap["output"]))))
    chart(fig, key=key, filename=export_stem("train-seq2seq", None, f"epoch{snap['epoch']}", "alignment"))


def show_results(last: dict) -> None:
    st.success(t(f"s2s.train.{last['stopped']}") + " " +
               t("s2sp.train.done_facts", seconds=round(last["seconds"]), best=last["best_epoch"]))
    chart(curve(last["steps"], last["epochs"]), key="s2sp_curve",
          filename=export_stem("train-seq2seq", None, "curves"))
    snapshot_view(last)
    st.download_button(t("s2sp.train.download"), zip_folder(last["folder"]), file_name="seq2seq-model.zip",
                       mime="application/zip", key="s2sp_download")
    st.caption(t("s2sp.train.download_note"))


st.title(t("s2sp.train.title"))
sid = session_id()
pairs = read_upload()
figure, side = st.columns([3, 2])  # before any training: an untrained model's alignment beside the pairs
if pairs:
    untrained_view(pairs, figure, side)
lesson.after_figure("train-seq2seq", t("s2sp.train.intro"))
running = job_status(seq2seq_jobs.REGISTRY, sid, t("s2sp.busy"))
st.subheader(t("s2sp.train.settings"))
settings_form(pairs, running)
job_section(seq2seq_jobs.REGISTRY, sid, job_view(), running)
if "s2sp_last" in st.session_state:
    show_results(st.session_state["s2sp_last"])
