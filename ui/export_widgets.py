"""Export helpers for every view: charts with picture and numbers downloads, tables, maps.

    chart(fig, key="bert_map")                 # plotly chart + a "Numbers" menu (CSV, JSON)
    chart(fig, key="k", container=left)        # inside a column
    download_table(rows, "sentences", key="s") # CSV (formulas neutralised, UTF-8 BOM) + JSON buttons
    download_maps(maps, "attention", key="m")  # an AttentionMaps as CSV + JSON

Pictures are made in the browser by plotly.js (`toImage`): it works offline, no
kaleido or Chrome on the server. The sidebar's picture-format choice (PNG for
slides, SVG for reports; kept in the URL) sets what the camera button saves, and
the sidebar's colour scale recolours every chart (lmcore.views.colour_scales). The
numbers are the figure's own (lmcore.views.figure_data), built only when clicked.
"""
from __future__ import annotations

import contextlib
import functools
from contextvars import ContextVar
from typing import Any, Callable, Iterator, Mapping, Sequence

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from lmcore.views import export
from lmcore.views.colour_scales import recolor
from lmcore.views.figure_data import figure_columns, figure_rows
from lmcore.record import AttentionMaps
from ui import presentation, wire
from ui.i18n import t


def plotly_config(image_format: str = "png", filename: str = "attention-lab") -> dict:
    """A plotly config whose modebar camera button downloads `image_format` (offline); png,
    plotly.js's default, goes unnamed (every chart of every step sends this config)."""
    picture = {"format": image_format} if image_format != "png" else {}
    return {"toImageButtonOptions": picture | {"scale": 2, "filename": filename}, "displaylogo": False}


def streamlit_colorway() -> tuple | None:
    """The colour cycle of Streamlit's plotly template: placeholder colours the front end (1.67,
    PlotlyChart) swaps for the theme's. The rest of that template (~3.7 kB per figure: scales for
    trace types we never draw) the front end builds itself with theme="streamlit" (ui.wire)."""
    base = pio.templates[pio.templates.default] if pio.templates.default else None
    return tuple(base.layout.colorway) if base is not None and base.layout.colorway else None


COLORWAY = streamlit_colorway()


def _figure_csv(fig: go.Figure) -> bytes:
    rows = figure_rows(fig)
    return export.rows_to_csv(rows, figure_columns(rows))


Bytes = Callable[[], bytes]


def _open_menu(target: Any, key: str) -> Any:
    """A lazy "Numbers" popover (on_change="rerun"): the popover while it is open, else None.

    Its contents are drawn only while it is open, so a step or a picker that redraws a chart
    sends no export widgets (issue 12, bytes per step).
    """
    menu = target.popover(t("export.numbers"), icon=":material/download:", key=f"{key}_numbers",
                          on_change="rerun")
    return menu if menu.open else None


def _figure_files(fig: go.Figure) -> tuple[Bytes, Bytes]:
    """The figure's numbers as CSV and as JSON, each made only when its button is clicked."""
    return (lambda: _figure_csv(fig)), (lambda: export.rows_to_json(figure_rows(fig)))


def _numbers_popover(target: Any, key: str, stem: str, help_text: str, labels: tuple[str, str],
                     make_csv: Bytes, make_json: Bytes, footer: str | None = None) -> None:
    """A "Numbers" popover with a CSV and a JSON download, each made only when clicked."""
    menu = _open_menu(target, key)
    if menu is None:
        return
    with menu:
        st.caption(help_text)
        st.download_button(labels[0], make_csv, file_name=f"{stem}.csv", mime="text/csv",
                           key=f"{key}_csv", icon=":material/table:")
        st.download_button(labels[1], make_json, file_name=f"{stem}.json",
                           mime="application/json", key=f"{key}_json", icon=":material/data_object:")
        if footer:
            st.caption(footer)


def numbers_menu(fig: go.Figure, key: str, stem: str, container: Any = None) -> None:
    """The figure's data as CSV and JSON, in a "Numbers" popover."""
    _numbers_popover(st if container is None else container, key, stem, t("export.numbers_help"),
                     (t("export.csv"), t("export.json")), *_figure_files(fig),
                     footer=t("export.picture_hint", fmt=presentation.picture_format().upper()))


# figures drawn inside `one_numbers_menu`: (key, file stem, figure), for one shared menu
_GATHERED: ContextVar[list | None] = ContextVar("attention_lab_numbers", default=None)


@contextlib.contextmanager
def one_numbers_menu(key: str) -> Iterator[None]:
    """The charts drawn inside share one "Numbers" popover, drawn after them.

    Wrap the *call* of a fragment in it (and the fragment's body in `in_outer_menu`): the popover
    then sits outside the fragment, so a step or a picker resends neither it nor one popover per
    figure (issue 12, bytes per step). It stays current: it is lazy, and opening it reruns the
    whole page, which draws the figures of the step shown and offers each one's CSV and JSON.
    """
    gathered: list = []
    token = _GATHERED.set(gathered)
    try:
        yield
    finally:
        _GATHERED.reset(token)
    menu = _open_menu(st, key) if gathered else None
    if menu is None:
        return
    with menu:
        st.caption(t("export.numbers_help_many" if len(gathered) > 1 else "export.numbers_help"))
        for fig_key, stem, fig in gathered:
            st.caption(stem)
            _button_pair((t("export.csv"), t("export.json")), *_figure_files(fig), stem, fig_key)
        st.caption(t("export.picture_hint", fmt=presentation.picture_format().upper()))


@contextlib.contextmanager
def in_outer_menu() -> Iterator[None]:
    """Inside a fragment whose call sits in `one_numbers_menu`: its charts draw no menu of their
    own. On the fragment's own reruns that menu is not running; its figures then go nowhere (the
    menu, closed, shows no numbers, and opening it reruns the whole page)."""
    if _GATHERED.get() is not None:
        yield
        return
    token = _GATHERED.set([])
    try:
        yield
    finally:
        _GATHERED.reset(token)


def view_fragment(key: str) -> Callable[[Callable], Callable]:
    """@st.fragment for a view whose charts share one "Numbers" menu drawn after the fragment,
    outside it (one_numbers_menu, in_outer_menu): the view's steps and pickers resend no menu."""
    def decorate(body: Callable) -> Callable:
        fragment = part_fragment(body)

        @functools.wraps(body)
        def call(*args: Any, **kwargs: Any) -> Any:
            with one_numbers_menu(key):
                return fragment(*args, **kwargs)
        return call
    return decorate


def part_fragment(body: Callable) -> Callable:
    """@st.fragment for a part of a view_fragment's view (a fragment inside it: a picker there
    reruns only this part). Its charts join the view's one "Numbers" menu."""
    @functools.wraps(body)
    def inside(*args: Any, **kwargs: Any) -> Any:
        with in_outer_menu():
            return body(*args, **kwargs)
    return st.fragment(inside)


def chart(fig: go.Figure, key: str, filename: str | None = None, container: Any = None,
          numbers: bool = True, above: int | None = None, share: float | None = None,
          **kwargs: Any) -> None:
    """st.plotly_chart in the session's colour scale and picture format, with a numbers menu.

    container: a column or other container to draw in (default: the page).
    above, share: px above the figure (default: ui.presentation.MAIN_FIGURES for a page's main
    figure, else None) and its container's share of the main area's width (default: 1 on the
    page, 0.5 in a container): ui.presentation.fit keeps a main figure on the first 1280x720
    screen, and every figure's labels readable and apart.
    kwargs go to st.plotly_chart (width=, on_select=, ...).
    """
    target = st if container is None else container
    stem = filename or f"attention-lab-{key}"
    recolor(fig, presentation.colour_scale())
    presentation.fit(fig, above if above is not None else presentation.main_figure_above(key),
                     share if share is not None else 1.0 if container is None else 0.5)
    target.plotly_chart(wire.for_browser(fig, COLORWAY), config=plotly_config(presentation.picture_format(), stem), key=key,
                        **kwargs)
    gathered = _GATHERED.get()
    if numbers and gathered is not None:
        gathered.append((key, stem, fig))
    elif numbers:
        numbers_menu(fig, key, stem, target)


def _button_pair(labels: tuple[str, str], csv_data: bytes | Bytes, json_data: bytes | Bytes,
                 stem: str, key: str) -> None:
    """Two download buttons side by side: CSV and JSON (bytes, or a callable run on click)."""
    left, right = st.columns(2)
    left.download_button(labels[0], csv_data, file_name=f"{stem}.csv", mime="text/csv",
                         key=f"{key}_csv", icon=":material/table:")
    right.download_button(labels[1], json_data, file_name=f"{stem}.json", mime="application/json",
                          key=f"{key}_json", icon=":material/data_object:")


def download_table(rows: Sequence[Mapping[str, Any]], stem: str, key: str,
                   columns: Sequence[str] | None = None) -> None:
    """Two buttons: the rows as CSV (spreadsheet-safe) and as JSON."""
    _button_pair((t("sent.export.csv"), t("sent.export.json")), export.rows_to_csv(rows, columns),
                 export.rows_to_json(rows), stem, key)


def download_maps(maps: AttentionMaps, stem: str, key: str) -> None:
    """Two buttons: an attention record as long-format CSV and as JSON, made on click
    (every head of a 64-token sentence is ~300,000 rows: not worth building on each rerun)."""
    _button_pair((t("sent.export.maps_csv"), t("sent.export.maps_json")),
                 lambda: export.maps_to_csv(maps), lambda: export.maps_to_json(maps), stem, key)


def _records(data: Any) -> list[dict]:
    """Rows of a DataFrame, a dict of columns or a list of dicts."""
    if hasattr(data, "to_dict"):
        return data.to_dict("records")
    if isinstance(data, Mapping):
        columns = list(data)
        return [dict(zip(columns, values)) for values in zip(*data.values())]
    return [dict(row) for row in data]


def table(data: Any, key: str, stem: str | None = None, container: Any = None,
          **kwargs: Any) -> Any:
    """st.dataframe plus a "Numbers" menu with the rows as spreadsheet-safe CSV and as JSON.

    Streamlit's own "Download as CSV" (hidden by ui.presentation's CSS) would write a
    cell such as =HYPERLINK(...) as a live formula; this one neutralises it.
    Returns what st.dataframe returns (the selection, when on_select is given).
    """
    target = st if container is None else container
    shown = target.dataframe(data, key=key, **kwargs)
    _numbers_popover(target, key, stem or f"attention-lab-{key}", t("export.table_help"),
                     (t("export.table_csv"), t("export.table_json")),
                     lambda: export.rows_to_csv(_records(data)),
                     lambda: export.rows_to_json(_records(data)))
    return shown
