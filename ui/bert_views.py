"""The BERT page's views, one shown at a time (pages/bert.py picks it with a segmented control).

Each view computes only what it draws, from cached model outputs (ui.loaders, per model and
text); nothing is computed for a view that is not open. The one-head view and fill-mask are
fragments: their pickers rerun only that view, the page's cached model call stays outside.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import streamlit as st

from lmcore.pretrained import loading
from lmcore.pretrained.bertviz import MAX_VIEW_TOKENS
from lmcore.record import AttentionMaps
from lmcore.views import plots
from lmcore.views.matrices import grid_pick, head_grid
from ui import lm_logic, loaders, presentation, url_state
from ui.export_widgets import chart, download_maps, table, view_fragment
from ui.file_names import export_stem
from ui.i18n import current_language, map_labels, t, t_plain
from ui.lm_widgets import call_or_error, load_or_stop, model_label

# The page opens on the bundled masked LM (fill-mask and next-sentence heads: every view works).
DEFAULT_MODEL = loading.default_masked_lm()
LAYER, HEAD, VIEW = "lmp_bert_layer", "lmp_bert_head", "lmp_bert_show"
GRID = "lmp_bert_grid"


@dataclass(frozen=True)
class BertInput:
    """What every view reads: the model, the text(s) and the display options."""

    name: str
    text_a: str
    text_b: str | None
    words: bool
    hide: bool

    @property
    def args(self) -> tuple:
        return self.name, self.text_a, self.text_b, self.words, self.hide


def select_head(layer: int, head: int) -> None:
    """Open one head large (a grid click or a report row)."""
    url_state.set_value(LAYER, "layer", layer, 0)
    url_state.set_value(HEAD, "head", head, 0)
    url_state.set_value(VIEW, "show", "head", "grid")


def _on_grid_select(layers: list[int], heads: list[int]) -> None:
    points = st.session_state[GRID]["selection"]["points"]
    picked = [p for p in points if p.get("curve_number") == 1 and "point_index" in p]
    if picked:
        select_head(*grid_pick(picked[0]["point_index"], layers, heads))


def grid_view(inp: BertInput, maps: AttentionMaps) -> None:
    """All layers x heads as thumbnails; a click opens that head large."""
    big = presentation.is_on()
    layers, heads = list(range(maps.n_layers)), list(range(maps.n_heads))
    fig = head_grid(maps, layer_label=t("common.layer"), head_label=t("common.head"),
                    weight_label=t("common.weight"), tile_px=96 if big else 60,
                    font_size=18 if big else 13)
    chart(fig, key=GRID, width="stretch", numbers=False, on_select=partial(_on_grid_select, layers, heads),
          selection_mode="points", filename=export_stem("bert", inp.name, "all-heads"))
    st.caption(t("lmp.grid.help"))
    download_maps(maps, export_stem("bert", inp.name, "all-heads"), key="lmp_bert_all")


@view_fragment("lmp_bert_head_view")
def head_view(inp: BertInput, n_layers: int, n_heads: int) -> None:
    """One head's map large; its layer and head pickers rerun only this view."""
    maps, _ = loaders.display_maps(*inp.args)
    # the pickers beside the map, not above it (the map starts on the first screen; issue 25)
    pick, figure = st.columns([1, 5])
    layer = pick.selectbox(t("common.layer"), range(n_layers),
                           key=url_state.field(LAYER, "layer", 0, choices=range(n_layers)))
    head = pick.selectbox(t("common.head"), range(n_heads),
                          key=url_state.field(HEAD, "head", 0, choices=range(n_heads)))
    chart(plots.attention_heatmap(maps, layer, head, **map_labels(),
                                  title=t_plain("lmp.head.figure_title", layer=layer, head=head)),
          key="lmp_bert_heatmap", width="stretch", container=figure, share=0.8,
          filename=export_stem("bert", inp.name, f"layer{layer}", f"head{head}"))


def bertviz_view(inp: BertInput, n_tokens: int) -> None:
    """bertviz's head or model view, offline (one at a time: pages stay light)."""
    if n_tokens > MAX_VIEW_TOKENS:
        st.info(t("lmp.bv.too_long", limit=MAX_VIEW_TOKENS, n=n_tokens))
        return
    views = {v: t(f"lmp.bv.{v}_tab") for v in ("head", "model")}
    view = st.radio(t("lmp.bv.which"), list(views), horizontal=True, format_func=views.__getitem__,
                    key=url_state.field("lmp_bert_view", "view", "head", choices=views))
    view_html = loaders.bertviz_html(view, *inp.args, current_language())
    st.iframe(view_html, height="content", alt=views[view])
    st.caption(t(f"lmp.bv.{view}_help"))
    st.download_button(t("lmp.bv.download"), view_html.encode("utf-8"),
                       file_name=f"{export_stem('bert', inp.name, view + '-view')}.html",
                       mime="text/html", key="lmp_bert_view_download", help=t("lmp.bv.download_help"))


def _on_report_select(rows: list[dict]) -> None:
    picked = st.session_state["lmp_bert_report"]["selection"]["rows"]
    if picked:
        select_head(*lm_logic.report_row_head(rows, picked[0]))


def report_view(inp: BertInput) -> None:
    """Clark et al.'s statistics per head; a row opens that head large."""
    rows = loaders.head_report(*inp.args)
    table(lm_logic.report_table(rows, t), key="lmp_bert_report",
          stem=export_stem("bert", inp.name, "head-report"), hide_index=True,
          on_select=partial(_on_report_select, rows), selection_mode="single-row", width="stretch")
    st.caption(t("lmp.report.help"))


def rollout_view(inp: BertInput) -> None:
    """Attention rollout up to a chosen layer."""
    rolled = loaders.rollout(*inp.args)
    last = rolled.n_layers - 1
    pick, figure = st.columns([1, 5])  # the picker beside the map (issue 25)
    up_to = pick.selectbox(t("lmp.rollout.layer"), range(rolled.n_layers),
                           key=url_state.field("lmp_bert_rollout_layer", "rollout", last,
                                               choices=range(rolled.n_layers)))
    chart(plots.attention_heatmap(rolled, up_to, 0, **map_labels(),
                                  title=t_plain("lmp.rollout.figure_title", layer=up_to)),
          key="lmp_bert_rollout", width="stretch", container=figure, share=0.8,
          filename=export_stem("bert", inp.name, "rollout", f"layer{up_to}"))
    st.caption(t("lmp.rollout.help"))


def helper_models(lm: loading.LoadedModel) -> tuple[str, str]:
    """(fill-mask model, next-sentence model): the chosen one, or the bundled masked LM
    (minilm-mlm) where the chosen encoder has no MLM/NSP head (MiniLM stays the attention)."""
    fallback = None if lm.has_nsp else loading.default_masked_lm()
    fill_name = lm.name if lm.kind == "masked-lm" or fallback is None else fallback
    return fill_name, lm.name if fallback is None else fallback


@st.fragment
def fill_view(inp: BertInput, fill_name: str, kind: str) -> None:
    """Top-k words for each [MASK]; the word and top-k pickers rerun only this view."""
    if kind != "masked-lm":
        st.info(t("lmp.fill.needs_mlm", name=inp.name))
    fill_lm = load_or_stop(fill_name)
    if fill_lm.kind != "masked-lm":
        return
    text = inp.text_a
    spans = lm_logic.maskable_words(text)
    c1, c2 = st.columns([3, 2])
    typed, n_typed = lm_logic.typed_masks(text)  # [mask] in any case
    if n_typed:
        masked = typed
    elif spans:
        words_at = {i: text[a:b] for i, (a, b) in enumerate(spans)}
        pick = c1.selectbox(t("lmp.fill.pick"), range(len(spans)), format_func=words_at.__getitem__,
                            key=url_state.field("lmp_bert_mask_word", "mask", min(len(spans) - 1, 5),
                                                choices=range(len(spans))))
        masked = lm_logic.mask_word(text, spans[pick])
    else:
        st.info(t("lmp.fill.no_words"))
        return
    top_k = c2.slider(t("lmp.fill.top_k"), 1, 20,
                      key=url_state.field("lmp_bert_topk", "top_k", 5, choices=range(1, 21)))
    st.caption(t("lmp.fill.reads"))
    st.text(masked)
    filled = call_or_error(loaders.fill_mask, fill_name, masked, top_k)
    if filled and len(filled.masks) > lm_logic.MAX_MASKS:
        st.info(t("lmp.fill.too_many_masks", n=len(filled.masks), limit=lm_logic.MAX_MASKS))
    for i, guesses in enumerate(filled.masks[:lm_logic.MAX_MASKS] if filled else (), start=1):
        fig = plots.weights_bar([g.display for g in guesses], [g.probability for g in guesses],
                                title=t_plain("lmp.fill.blank_n", n=i), token_label=t("lmp.word"),
                                weight_label=t("lmp.probability"))
        chart(fig, key=f"lmp_bert_fill_{i}", width="stretch",
              filename=export_stem("bert", fill_name, "fill-mask", f"blank{i}"))
    if fill_name != inp.name:
        model_label(fill_name, fill_lm.kind)
    st.caption(t("lmp.fill.help"))


def nsp_view(inp: BertInput, nsp_name: str, has_nsp: bool) -> None:
    """P(B follows A), from the chosen model's NSP head or the bundled masked LM's."""
    if inp.text_b is None:
        st.info(t("lmp.nsp.needs_pair"))
    elif nsp_name == inp.name and not has_nsp:
        st.info(t("lmp.nsp.needs_head", name=inp.name))
    else:
        if nsp_name != inp.name:
            st.caption(t("lmp.nsp.uses", name=nsp_name))
        nsp = call_or_error(loaders.next_sentence, nsp_name, inp.text_a, inp.text_b)
        if nsp is not None:
            st.metric(t("lmp.nsp.result"), f"{nsp.probability:.1%}")
            st.progress(min(max(nsp.probability, 0.0), 1.0))
    st.caption(t("lmp.nsp.help"))
