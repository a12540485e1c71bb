"""Export helpers for any page: charts with a picture download, tables and maps as CSV/JSON.

    chart(fig, key="bert_map")                 # plotly chart; the modebar camera saves PNG or SVG
    download_table(rows, "sentences", key="s") # CSV (formulas neutralised, UTF-8 BOM) + JSON buttons
    download_maps(maps, "attention", key="m")  # an AttentionMaps as CSV + JSON

Pictures are made in the browser by plotly.js (`toImage`): it works offline, no
kaleido or Chrome on the server. The format radio beside a chart switches the
camera button between PNG (scale 2, for slides) and SVG (for reports).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import plotly.graph_objects as go
import streamlit as st

from lmcore import export
from lmcore.record import AttentionMaps
from ui.i18n import t

IMAGE_FORMATS = ("png", "svg")


def plotly_config(image_format: str = "png", filename: str = "attention-lab") -> dict:
    """A plotly config whose modebar camera button downloads `image_format` (offline)."""
    return {"toImageButtonOptions": {"format": image_format, "scale": 2, "filename": filename},
            "displaylogo": False}


PLOTLY_CONFIG: dict = plotly_config("png")
PLOTLY_CONFIG_SVG: dict = plotly_config("svg")


def chart(fig: go.Figure, key: str, filename: str = "attention-lab", svg_option: bool = True) -> None:
    """st.plotly_chart with the camera button on; a PNG/SVG choice beside it when svg_option."""
    image_format = "png"
    if svg_option:
        image_format = st.radio(t("sent.export.picture"), IMAGE_FORMATS, horizontal=True,
                                format_func=str.upper, key=f"{key}_format",
                                help=t("sent.export.picture_help"))
    st.plotly_chart(fig, config=plotly_config(image_format, filename), key=key)


def download_table(rows: Sequence[Mapping[str, Any]], stem: str, key: str,
                   columns: Sequence[str] | None = None) -> None:
    """Two buttons: the rows as CSV (spreadsheet-safe) and as JSON."""
    left, right = st.columns(2)
    left.download_button(t("sent.export.csv"), export.rows_to_csv(rows, columns),
                         file_name=f"{stem}.csv", mime="text/csv", key=f"{key}_csv",
                         icon=":material/table:")
    right.download_button(t("sent.export.json"), export.rows_to_json(rows),
                          file_name=f"{stem}.json", mime="application/json", key=f"{key}_json",
                          icon=":material/data_object:")


def download_maps(maps: AttentionMaps, stem: str, key: str) -> None:
    """Two buttons: an attention record as long-format CSV and as JSON."""
    left, right = st.columns(2)
    left.download_button(t("sent.export.maps_csv"), export.maps_to_csv(maps),
                         file_name=f"{stem}.csv", mime="text/csv", key=f"{key}_csv",
                         icon=":material/table:")
    right.download_button(t("sent.export.maps_json"), export.maps_to_json(maps),
                          file_name=f"{stem}.json", mime="application/json", key=f"{key}_json",
                          icon=":material/data_object:")
