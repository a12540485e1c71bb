"""Compare (10.4): one sentence under two models, both maps on the same words, and how much
they agree. Encoders / language models (self-attention) or translators (alignments)."""
from __future__ import annotations

import streamlit as st

from lmcore.demos import compare
from lmcore.views import plots
from lmcore.catalog import LM_KINDS
from lmcore.errors import UserFacingError
from lmcore.record import AttentionMaps
from lmcore.views.matrices import matrix_heatmap
from ui import inputs
from ui import loaders
from ui import lesson, url_state
from ui.export_widgets import chart
from ui.i18n import error_text, t, t_plain
from ui.notices import show_notices
from ui.safe_text import md_escape
from ui.seq2seq_widgets import confidence_line, model_label, quality_caption

EXAMPLE = "I am eating an apple."
MODES = ("lm", "translate")
SIDES = ("a", "b")
DEFAULTS = {"lm": ("all-MiniLM-L6-v2", "tiny-bert"), "translate": ("s2s-en-fr-bahdanau", "tf-en-fr")}
SIDE_PARAMS = ("a", "b", "layer_a", "head_a", "layer_b", "head_b")


def clear_side_params() -> None:
    """A new mode starts from its own defaults: the other mode's models mean nothing here."""
    for param in SIDE_PARAMS:
        if param in st.query_params:
            del st.query_params[param]


def pick_model(col, mode: str, side: str, labels: dict[str, str]) -> str:
    names = list(labels)
    preferred = DEFAULTS[mode][SIDES.index(side)]
    default = preferred if preferred in names else names[min(SIDES.index(side), len(names) - 1)]
    key = f"cmp_{mode}_{side}"
    asked = st.query_params.get(side)
    if key not in st.session_state and asked is not None and asked not in names:
        col.warning(t("errors.unknown_model", name=asked))
    return col.selectbox(t(f"cmp.model_{side}"), names, format_func=labels.__getitem__,
                         key=url_state.field(key, side, default, choices=names))


def side_row(col) -> tuple:
    """One row per side: model | layer | head, then the side's figure box right below it."""
    model, layer, head = col.columns([4, 2, 3.2])  # room for "average of heads" (issue 25)
    return model, layer, head, col.container()


def pick_head(left, right, side: str, maps: AttentionMaps) -> tuple[int, int]:
    layers, heads = range(maps.n_layers), [compare.MEAN, *range(maps.n_heads)]
    layer = left.selectbox(t("common.layer"), layers,
                           key=url_state.field(f"cmp_layer_{side}", f"layer_{side}", 0, choices=layers))
    names = {h: t("cmp.head_mean") if h == compare.MEAN else str(h) for h in heads}
    head = right.selectbox(t("common.head"), heads, format_func=names.__getitem__,
                           key=url_state.field(f"cmp_head_{side}", f"head_{side}", compare.MEAN,
                                               choices=heads))
    return layer, head


def heatmap(values, rows, cols, kind: str, title: str, query: str, key: str):
    maps = AttentionMaps(values[None, None], tuple(rows), tuple(cols), kind)
    fig = plots.attention_heatmap(maps, title=title, query_label=query, key_label=key,
                                  weight_label=t("common.weight"))
    fig.update_layout(height=max(360, 26 * len(rows) + 200))
    return fig


def lm_mode(text: str) -> None:
    choices = loaders.model_choices(LM_KINDS)
    labels = {m.name: m.name if m.offline else t_plain("lmp.model.not_here", name=m.name) for m in choices}
    cols, sides, names = st.columns(2), {}, {}
    rows = {side: side_row(col) for side, col in zip(SIDES, cols)}
    for side, col in zip(SIDES, cols):
        names[side] = pick_model(rows[side][0], "lm", side, labels)
        with col:
            try:
                with st.spinner(t("lmp.model.loading", name=names[side])):
                    sides[side], model_notices = loaders.compare_lm_side(names[side], text)
            except UserFacingError as error:
                st.error(error_text(error))
                continue
            show_notices(model_notices)
    if len(sides) < 2:
        return
    a, b = compare.common(sides["a"], sides["b"])
    show_notices(compare.cut_notices(len(a.seen), len(sides["a"].seen)))
    if not a.seen.size:
        st.info(t("cmp.notice.no_words"))
        return
    maps = {}
    for side, col, shown in zip(SIDES, cols, (a, b)):
        _, layer_col, head_col, figure = rows[side]
        layer, head = pick_head(layer_col, head_col, side, shown.maps)
        maps[side] = compare.head_map(shown.maps, layer, head)
        head_text = t("cmp.heads_mean") if head == compare.MEAN else t("cmp.head_n", head=head)
        words = shown.maps.key_tokens
        fig = heatmap(maps[side], words, words, shown.maps.kind, t(
            "cmp.map_title", model=names[side], layer=layer, head=head_text), t("common.query"),
            t("common.key"))
        chart(fig, key=f"cmp_map_{side}", container=figure, filename=f"compare-{side}-{names[side]}")
        share = compare.head_dropped(sides[side], layer, head)
        col.caption(t("cmp.dropped", share=f"{share:.0%}"))
        if shown.maps.kind == "causal":
            col.caption(t("cmp.causal", model=names[side]))
        with col:
            show_notices(compare.notices(names[side], shown))
    words = a.maps.key_tokens
    diff = matrix_heatmap(maps["a"] - maps["b"], words, words, title=t("cmp.diff_title"),
                          row_title=t("common.query"), col_title=t("common.key"),
                          value_label=t("cmp.diff_value"), height=max(380, 26 * len(words) + 220))
    chart(diff, key="cmp_diff", filename="compare-difference")
    st.subheader(t("cmp.agree.title"))
    agree = compare.agreement(maps["a"], maps["b"])
    m1, m2, m3 = st.columns(3)
    m1.metric(t("cmp.agree.js"), f"{agree.js_mean:.3f}", help=t("cmp.agree.js_help"))
    m2.metric(t("cmp.agree.top"), f"{agree.top_same:.0%}", help=t("cmp.agree.top_help"))
    m3.metric(t("cmp.agree.rows"), agree.rows)
    st.caption(t("cmp.agree.note"))


def translate_mode(text: str) -> None:
    infos = [m for m in loaders.translator_choices() if m.attention not in (None, "none")]
    if not infos:
        st.warning(t("s2sp.model_missing", name=DEFAULTS["translate"][0]))
        return
    by_name, labels = {m.name: m for m in infos}, {m.name: t(model_label(m.name)) for m in infos}
    cols, sides, results, langs = st.columns(2), {}, {}, []
    figures = {side: col.container() for side, col in zip(SIDES, cols)}  # above the translations
    words = compare.split_words(text)
    for side, col in zip(SIDES, cols):
        name = pick_model(figures[side], "translate", side, labels)
        langs.append(by_name[name].source_lang)
        with col:
            try:
                results[side] = loaders.translate(name, text)
            except UserFacingError as error:
                st.error(error_text(error))
                continue
            st.markdown(t("cmp.tr.translation", text=md_escape(results[side].translation) or "—"))
            confidence_line(results[side])
            quality_caption(name)
            show_notices(results[side].notices)
            side_maps = compare.translation_side(results[side], text, words)
            if side_maps is None:
                st.info(t("cmp.tr.no_attention", name=name))
                continue
            sides[side] = side_maps
    if langs[0] != langs[1]:
        st.warning(t("cmp.tr.diff_source", a=langs[0], b=langs[1]))
    if len(sides) < 2:
        return
    a, b = compare.common(sides["a"], sides["b"])
    show_notices(compare.cut_notices(len(a.seen), len(words)))
    maps = {s: compare.head_map(x.maps, 0, 0) for s, x in (("a", a), ("b", b))}
    for side, col, shown in zip(SIDES, cols, (a, b)):
        name = results[side].model
        fig = heatmap(maps[side], shown.maps.query_tokens, shown.maps.key_tokens, "cross",
                      t_plain("cmp.tr.map_title", model=name), t("cmp.tr.output"), t("cmp.tr.source"))
        chart(fig, key=f"cmp_tr_map_{side}", container=figures[side], filename=f"compare-{side}-{name}")
        with col:
            show_notices(compare.notices(name, shown))
    st.caption(t("cmp.tr.caption"))
    st.subheader(t("cmp.agree.title"))
    agree = compare.translation_agreement(maps["a"], a.maps.query_tokens, maps["b"], b.maps.query_tokens)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(t("cmp.tr.shared"), len(agree.pairs), help=t("cmp.tr.shared_help"))
    m2.metric(t("cmp.tr.top"), "—" if agree.top_same is None else f"{agree.top_same:.0%}",
              help=t("cmp.tr.top_help"))
    m3.metric(t("cmp.tr.js"), "—" if agree.js_mean is None else f"{agree.js_mean:.3f}",
              help=t("cmp.agree.js_help"))
    m4.metric(t("cmp.tr.coverage"), f"{agree.coverage_js:.3f}", help=t("cmp.tr.coverage_help"))
    if not agree.pairs:
        st.info(t("cmp.tr.no_shared"))
        return
    st.caption(t("cmp.tr.pairs"))
    src = a.maps.key_tokens
    st.markdown("\n".join(("- :material/check: " if wa == wb else "- ") + md_escape(t(
        "cmp.tr.pair_row", word=a.maps.query_tokens[i], a=src[wa], b=src[wb]))
        for i, _, wa, wb in agree.pairs))


st.title(t("cmp.title"))
labels = {m: t(f"cmp.mode.{m}") for m in MODES}
mode_col, text_col = st.columns([1, 3])  # inputs in one row, the two maps right below
mode = mode_col.radio(t("cmp.mode"), MODES, format_func=labels.__getitem__,
                      on_change=clear_side_params,
                      key=url_state.field("cmp_mode", "mode", "lm", choices=MODES))
with text_col:
    text = inputs.text_area(t("cmp.text"), height=68, limit=url_state.MAX_CHARS,
                            key=url_state.field("cmp_text", "text", EXAMPLE))
if not text.strip():
    st.info(t("cmp.empty"))
elif mode == "lm":
    lm_mode(text)
else:
    translate_mode(text)
lesson.after_figure("compare", t("cmp.intro"))
