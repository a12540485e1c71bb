"""Uploaded files: encodings, binary rejection, caps with notices, rows."""
from __future__ import annotations

import codecs

import pytest

from lmcore.errors import UserFacingError
from lmcore.files import decode_upload, detect_encoding, read_text_file, split_rows

TEXT = "I am cold.\t나는 춥다.\nGo.\t가.\n"


@pytest.mark.parametrize("data,encoding", [
    (TEXT.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
    (TEXT.encode("cp949"), "cp949"),
    (TEXT.encode("euc-kr"), "cp949"),
    (TEXT.encode("utf-16"), "utf-16"),          # with BOM
    (TEXT.encode("utf-16-le"), "utf-16"),       # without BOM
    (TEXT.encode("utf-16-be"), "utf-16"),
])
def test_encodings_decode_to_the_same_lines(data, encoding):
    decoded = decode_upload(data)
    assert decoded.lines == ["I am cold.\t나는 춥다.", "Go.\t가."]
    assert decoded.encoding == encoding and decoded.notices == []


def test_windows_1252_french_is_read():
    decoded = decode_upload("Je suis fatigué.\n".encode("cp1252"))
    assert decoded.lines == ["Je suis fatigué."]


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 20,
    bytes(range(256)) * 4,
    b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x01\x02\x03\x04" * 200,
])
def test_binary_files_are_rejected(data):
    with pytest.raises(UserFacingError) as info:
        decode_upload(data)
    assert info.value.key in ("upload.err.binary", "upload.err.encoding")


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", codecs.BOM_UTF8])
def test_empty_files_are_rejected(data):
    with pytest.raises(UserFacingError) as info:
        decode_upload(data)
    assert info.value.key == "upload.err.empty"


def test_line_cap_keeps_the_first_lines_with_a_notice():
    decoded = decode_upload("".join(f"line {i}\n" for i in range(100)).encode(), max_lines=10)
    assert decoded.lines[-1] == "line 9" and len(decoded.lines) == 10
    assert decoded.lines_capped and decoded.total_lines == 100
    assert decoded.notices[0].key == "upload.notice.lines_capped"
    assert decoded.notices[0].params == {"kept": 10, "total": 100}


def test_size_cap_drops_the_cut_line():
    data = "".join(f"문장 {i}\n" for i in range(1000)).encode("utf-8")
    decoded = decode_upload(data, max_bytes=101)
    assert decoded.size_capped and decoded.notices[0].key == "upload.notice.size_capped"
    assert all(line.startswith("문장 ") and line.split()[1].isdigit() for line in decoded.lines)
    assert decoded.lines == [f"문장 {i}" for i in range(len(decoded.lines))]


def test_long_lines_are_cut_with_a_notice():
    decoded = decode_upload(("x" * 50 + "\nshort\n").encode(), max_line_chars=20)
    assert decoded.lines == ["x" * 20, "short"] and decoded.long_lines_cut == 1
    assert decoded.report()["notices"][0]["key"] == "upload.notice.long_lines"


def test_read_text_file_and_missing_file(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_bytes(TEXT.encode("cp949"))
    assert read_text_file(path).encoding == "cp949"
    with pytest.raises(UserFacingError) as info:
        read_text_file(tmp_path / "missing.tsv")
    assert info.value.key == "upload.err.unreadable"


def test_split_rows_counts_skipped_lines():
    rows, notices = split_rows(["a\tb\tc", "only", "d\te"], min_columns=2, max_columns=2)
    assert rows == [["a", "b"], ["d", "e"]]
    assert notices[0].params == {"count": 1, "columns": 2}
    with pytest.raises(UserFacingError):
        split_rows(["one", "two"], min_columns=2)


def test_detect_encoding_prefers_utf8():
    assert detect_encoding("plain ascii".encode()) == "utf-8"
