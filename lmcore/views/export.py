"""Numbers out of the app: table rows and attention records as CSV and JSON bytes.

CSV is written for spreadsheets: UTF-8 with a BOM (Excel then reads Korean
correctly) and every text cell that a spreadsheet would run as a formula
(starting with = + - @, a tab or a carriage return) neutralised by a leading
apostrophe (OWASP "CSV injection"). Numbers stay numbers. JSON keeps the text
exactly as it was (JSON is not executed by spreadsheets).

    rows_to_csv([{"sentence": "=1+1", "n": 3}])  # b'\\xef\\xbb\\xbfsentence,n\\r\\n\\'=1+1,3\\r\\n'
    maps_to_csv(maps)                            # layer,head,query_index,query_token,key_index,...
"""
from __future__ import annotations

import csv
import io
import json
import math
from typing import Any, Mapping, Sequence

import numpy as np

from lmcore.record import AttentionMaps

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def neutralise(value: Any) -> Any:
    """A cell safe for a spreadsheet: text starting like a formula gets a leading "'".

    Numbers and booleans are returned unchanged (a negative number is data, not a
    formula); lists become space-joined text first; None becomes "".
    """
    if value is None:
        return ""
    if isinstance(value, (bool, int, float, np.integer, np.floating)):
        return "" if isinstance(value, float) and math.isnan(value) else value
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def rows_to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> bytes:
    """Rows (dicts) -> CSV bytes: UTF-8 with BOM, header row, formulas neutralised.

    columns: which keys, in order (default: the keys of every row, first seen first).
    """
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(c) for c in columns])
    for row in rows:
        writer.writerow([neutralise(row.get(c)) for c in columns])
    return (BOM + buffer.getvalue()).encode("utf-8")


def _plain(value: Any) -> Any:
    """numpy scalars and arrays -> JSON types; NaN -> None."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(float(value)) else float(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_json(data: Any) -> bytes:
    """Any rows/dicts -> pretty UTF-8 JSON bytes (Korean kept readable, NaN as null)."""
    return json.dumps(_plain(data), ensure_ascii=False, indent=2, allow_nan=False).encode("utf-8")


def rows_to_json(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """Rows (dicts) -> a JSON array, text unchanged."""
    return to_json(list(rows))


def maps_rows(maps: AttentionMaps, decimals: int = 4) -> list[dict]:
    """Long format: one row per (layer, head, query, key) with its weight.

    Rows: layers x heads x queries x keys; weights rounded to `decimals`.
    """
    w = np.round(maps.weights.astype(np.float64), decimals)  # (L, H, q, k)
    rows = []
    for layer, head, qi, ki in np.ndindex(w.shape):
        rows.append({"layer": layer, "head": head, "query_index": qi,
                     "query_token": maps.query_tokens[qi], "key_index": ki,
                     "key_token": maps.key_tokens[ki], "weight": float(w[layer, head, qi, ki])})
    return rows


MAPS_COLUMNS = ("layer", "head", "query_index", "query_token", "key_index", "key_token", "weight")


def maps_to_csv(maps: AttentionMaps, decimals: int = 4) -> bytes:
    """An attention record as long-format CSV (tokens neutralised like any cell)."""
    return rows_to_csv(maps_rows(maps, decimals), MAPS_COLUMNS)


def maps_to_json(maps: AttentionMaps, decimals: int = 4) -> bytes:
    """An attention record as JSON: kind, tokens, weights (layers, heads, q, k)."""
    return to_json(maps.to_dict(decimals))
