"""lmcore.views.export: spreadsheet-safe CSV (formulas neutralised, UTF-8 BOM), JSON, attention records."""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from lmcore.views import export
from lmcore.record import AttentionMaps


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8 Korean correctly
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)",
                                  "\t=1", "\r=1", "=cmd|' /C calc'!A0"])
def test_every_formula_prefix_is_neutralised(cell):
    rows = read_csv(export.rows_to_csv([{"sentence": cell}]))
    assert rows[1] == ["'" + cell]
    assert export.neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["The cat sat.", "고양이가 앉았다", "a=b", "e-mail", "", "'quoted"])
def test_plain_text_is_unchanged(cell):
    assert export.neutralise(cell) == cell


def test_numbers_stay_numbers_and_none_is_empty():
    assert export.neutralise(-0.5) == -0.5
    assert export.neutralise(3) == 3
    assert export.neutralise(None) == ""
    assert export.neutralise(float("nan")) == ""
    assert export.neutralise(["=a", "b"]) == "'=a b"
    rows = read_csv(export.rows_to_csv([{"x": -0.5, "y": None, "ok": True}]))
    assert rows == [["x", "y", "ok"], ["-0.5", "", "True"]]


def test_header_cells_are_neutralised_too():
    rows = read_csv(export.rows_to_csv([{"=evil": 1}]))
    assert rows[0] == ["'=evil"]


def test_korean_round_trip_with_commas_quotes_and_newlines():
    data = [{"sentence": '고양이가 "매트" 위에, 앉았다.', "tokens": "고양이 가\n매트"},
            {"sentence": "나는 책을 좋아한다.", "tokens": "나 는"}]
    rows = read_csv(export.rows_to_csv(data))
    assert rows[0] == ["sentence", "tokens"]
    assert rows[1:] == [[d["sentence"], d["tokens"]] for d in data]


def test_columns_choose_and_order():
    rows = read_csv(export.rows_to_csv([{"a": 1, "b": 2, "c": 3}], columns=["c", "a"]))
    assert rows == [["c", "a"], ["3", "1"]]


def test_json_keeps_text_exactly_and_korean_readable():
    data = [{"sentence": '=HYPERLINK("http://x")', "ko": "고양이", "v": np.float32(0.25), "n": float("nan")}]
    raw = export.rows_to_json(data)
    assert "고양이".encode("utf-8") in raw
    assert json.loads(raw) == [{"sentence": '=HYPERLINK("http://x")', "ko": "고양이", "v": 0.25, "n": None}]


def test_maps_export_long_format_and_json_round_trip():
    w = np.random.default_rng(0).random((2, 4, 3, 3)).astype(np.float32)
    w /= w.sum(-1, keepdims=True)
    maps = AttentionMaps(w, ("=a", "b", "고"), ("=a", "b", "고"), "self")
    rows = read_csv(export.maps_to_csv(maps))
    assert rows[0] == list(export.MAPS_COLUMNS)
    assert len(rows) == 1 + 2 * 4 * 3 * 3
    assert rows[1][3] == "'=a"  # tokens are cells like any other
    first = [r for r in rows[1:] if r[0] == "1" and r[1] == "2" and r[2] == "0"]
    assert sum(float(r[6]) for r in first) == pytest.approx(1.0, abs=1e-3)
    back = AttentionMaps.from_dict(json.loads(export.maps_to_json(maps)))
    assert back.query_tokens == maps.query_tokens and back.kind == "self"
    np.testing.assert_allclose(back.weights, w, atol=1e-4)
