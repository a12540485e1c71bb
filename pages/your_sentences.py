"""Your sentences: many sentences through one model, a row each, any row's attention, exports."""
from __future__ import annotations

import streamlit as st

from lmcore.demos import batch
from lmcore.views import plots
from lmcore.catalog import LM_KINDS, ModelInfo
from lmcore.errors import UserFacingError
from lmcore.i18n import translate
from lmcore.notices import Notice
from ui import inputs
from ui import loaders, url_state
from ui.export_widgets import chart, download_maps, download_table
from ui.i18n import current_language, error_text, map_labels, t
from ui.navigation import all_pages
from ui.notices import notice_text, show_notices
from ui import lesson

LM_COLUMNS = ["index", "sentence", "n_tokens", "tokens", "n_unknown", "unknown", "truncated",
              "heads", "mean_entropy", "notes"]
TR_COLUMNS = ["index", "sentence", "translation", "n_tokens", "tokens", "n_unknown", "unknown",
              "truncated", "notes"]


def uploaded_sentences() -> batch.ParsedSentences | None:
    help_text = t("sent.upload_help", megabytes=batch.MAX_BYTES // 1_000_000, sentences=batch.MAX_SENTENCES)
    file = st.file_uploader(t("sent.upload"), type=["txt", "csv", "tsv"], help=help_text, key="sent_file",
                            max_upload_size=inputs.UPLOAD_LIMIT_MB)
    if file is None:
        st.info(t("sent.upload_first"))
        return None
    batch.check_upload_size(file.size)  # refuse a huge file before reading it
    file.seek(0)
    data = inputs.upload_encoding(file.read(batch.MAX_BYTES + 1), key="sent_encoding")  # cap + 1: the cut is reported
    if not file.name.lower().endswith((".csv", ".tsv")):
        return loaders.parsed_upload(data, file.name, None, None)
    detected = loaders.parsed_upload(data, file.name, None, None)
    left, right = st.columns(2)
    header = left.checkbox(t("sent.header"), value=detected.has_header, key=f"sent_header_{file.file_id}")
    names = loaders.parsed_upload(data, file.name, None, header).columns
    column = right.selectbox(t("sent.column"), range(len(names)), index=detected.column,
                             format_func=names.__getitem__, key=f"sent_column_{file.file_id}")
    return loaders.parsed_upload(data, file.name, column, header)


def pick_source(col) -> str:
    labels = {s: t(f"sent.source.{s}") for s in ("paste", "upload")}  # format_func: no t() calls
    return col.radio(t("sent.source"), list(labels), horizontal=True, format_func=labels.__getitem__,
                     key=url_state.field("sent_source", "source", "paste", choices=labels))


def read_input(source: str) -> batch.ParsedSentences | None:
    if source == "upload":
        return uploaded_sentences()
    text = st.text_area(t("sent.paste"), height=150,
                        key=url_state.field("sent_text", "text", t("sent.paste_default")))
    return batch.parse_pasted(text)


def is_example(source: str, parsed: batch.ParsedSentences) -> bool:
    """The bundled example set (the pasted default, unchanged): it runs without a click."""
    return source == "paste" and list(parsed.sentences) == batch.parse_pasted(t("sent.paste_default")).sentences


def model_label(info: ModelInfo) -> str:
    return t("sent.model_offline" if info.offline else "sent.model_online", name=info.name, kind=info.kind)


def run(info: ModelInfo, sentences: list[str]) -> list[batch.SentenceRow]:
    model = loaders.batch_model(info)
    bar = st.progress(0.0, text=t("sent.progress", done=0, total=len(sentences)))
    rows = batch.run_batch(model, sentences, lambda done, total: bar.progress(
        done / total, text=t("sent.progress", done=done, total=total)))
    bar.empty()
    return rows


def row_notices(rows: list[batch.SentenceRow], limit: int = 3) -> list[Notice]:
    """One notice per kind the rows carry (e.g. Korean read as [UNK]), truncation aside."""
    first = {}
    for notice in (n for r in rows for n in r.notices if n.key != "errors.text_truncated"):
        first.setdefault(notice.key, notice)
    return list(first.values())[:limit]


def show_table(rows: list[batch.SentenceRow], info: ModelInfo) -> None:
    lm = info.kind in LM_KINDS
    columns = LM_COLUMNS if lm else TR_COLUMNS
    table = [r.to_dict(current_language()) for r in rows]
    st.subheader(t("sent.table"))
    st.caption(t("sent.summary", count=len(rows), errors=sum(r.error is not None for r in rows),
                 truncated=sum(r.truncated for r in rows), unknown=sum(bool(r.unknown) for r in rows)))
    show_notices(row_notices(rows))
    st.dataframe([{c: row[c] for c in columns} for row in table], hide_index=True, key="sent_table",
                 column_config={c: t(f"sent.col.{c}") for c in columns})
    st.caption(t("sent.table_help_lm" if lm else "sent.table_help_tr") + " " + t("sent.export.safe"))
    download_table(table, f"sentences-{info.name}", key="sent_dl_table", columns=columns)


def show_row(rows: list[batch.SentenceRow], info: ModelInfo) -> None:
    """One row's map (the page's figure): row | layer | head pickers in one line above it."""
    labels = {i: f"{i + 1}. {r.sentence[:80]}" for i, r in enumerate(rows)}
    pick_col, layer_col, head_col = st.columns([4, 1, 1])
    index = pick_col.selectbox(t("sent.pick"), range(len(rows)), format_func=labels.__getitem__,
                               key=url_state.field("sent_pick", "row", 0, choices=range(len(rows))))
    row = rows[index]
    if row.error is not None:
        st.warning(t("sent.row_error", message=notice_text(row.error)))
        return
    maps = loaders.sentence_maps(info.name, row.sentence)
    if maps is None:
        st.info(t("sent.no_attention", name=info.name))
        return
    labels = map_labels()
    layer = head = 0
    if maps.kind == "cross":
        title = t("sent.alignment_title")
        labels.update(query_label=t("sent.output"), key_label=t("sent.source_words"))
    else:
        layer = layer_col.selectbox(t("common.layer"), range(maps.n_layers),
                               key=url_state.field("sent_layer", "layer", 0, choices=range(maps.n_layers)))
        head = head_col.selectbox(t("common.head"), range(maps.n_heads),
                               key=url_state.field("sent_head", "head", 0, choices=range(maps.n_heads)))
        title = t("sent.map_title", layer=layer, head=head)
    fig = plots.attention_heatmap(maps, layer, head, title=title, **labels)
    fig.update_layout(height=max(380, 22 * len(maps.query_tokens) + 160))
    chart(fig, key="sent_chart", filename=f"attention-{info.name}-{index + 1}")
    open_in_page(info, row.sentence)
    download_maps(maps.select(layers=[layer], heads=[head]), f"attention-{info.name}-{index + 1}",
                  key="sent_dl_maps")


PAGE_FOR_KIND = {"masked-lm": "bert", "encoder": "bert", "causal-lm": "gpt", "seq2seq": "translate-steps",
                 "transformer": "transformer"}


def open_in_page(info: ModelInfo, sentence: str) -> None:
    """A link to the model's own page with this sentence and model filled in."""
    path = PAGE_FOR_KIND.get(info.kind)
    if path is None:
        return
    title = translate(next(p.title_key for p in all_pages() if p.url_path == path), current_language())
    url_state.link_to(path, t("url.open_in_page", page=title), {"model": info.name, "text": sentence},
                      icon=":material/open_in_new:")


def pick_model(col) -> ModelInfo:
    models = loaders.all_model_choices()
    by_name = {m.name: m for m in models}
    labels = {name: model_label(m) for name, m in by_name.items()}
    names = list(by_name)
    return by_name[col.selectbox(t("sent.model"), names, format_func=labels.__getitem__,
                                 key=url_state.field("sent_model", "model", names[0], choices=names))]


def main() -> None:
    st.title(t("sent.title"))
    source_col, model_col = st.columns([1, 2])  # the inputs in one row
    source, info = pick_source(source_col), pick_model(model_col)
    left, right = st.columns([2, 3])  # the sentences beside the first row's map
    after = st.container()            # the table, then the lesson
    try:
        with left:
            parsed = read_input(source)
    except UserFacingError as err:
        left.error(error_text(err))
        parsed = None
    if parsed is not None:
        with left:
            show_notices(parsed.notices, "info")
            st.caption(t("sent.count", count=len(parsed.sentences), encoding=parsed.encoding))
        try:
            show_results(parsed, info, source, left, right, after)
        except UserFacingError as err:
            right.error(error_text(err))
    with after:
        lesson.after_figure("your-sentences", t("sent.intro"))


def show_results(parsed: batch.ParsedSentences, info: ModelInfo, source: str, left, right, after) -> None:
    """Run on a click (the bundled example runs at once), then the map beside, the table below."""
    signature = (info.name, tuple(parsed.sentences))
    stored = st.session_state.get("sent_result")
    clicked = left.button(t("sent.run"), type="primary", key="sent_run")
    if clicked or (is_example(source, parsed) and (stored is None or stored[0] != signature)):
        with right:
            st.session_state["sent_result"] = (signature, run(info, parsed.sentences))
    stored = st.session_state.get("sent_result")
    if stored is None or stored[0] != signature:
        right.info(t("sent.press_run"))
        return
    with right:
        show_row(stored[1], info)
    with after:
        show_table(stored[1], info)


main()
