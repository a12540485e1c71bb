"""Bundled tasks (their documented rules hold) and labelled CSV/TSV uploads (bad input -> clear errors)."""
from __future__ import annotations

import re

import pytest

from lmcore.errors import UserFacingError
from lmcore.i18n import translate
from lmcore.pretrained.tasks import MAX_BYTES, bundled_tasks, load_task, make_set, read_labelled_table, table_columns

NEGATION = re.compile(r"\b(not|never|no|nobody|nothing|nowhere|none|neither|nor|cannot)\b|n't\b", re.I)


def csv_bytes(rows, sep=",", header="text,label", encoding="utf-8") -> bytes:
    lines = [header.replace(",", sep)] + [f"{t}{sep}{y}" for t, y in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def error_key(func, *args) -> str:
    with pytest.raises(UserFacingError) as err:
        func(*args)
    for lang in ("en", "ko"):
        message = err.value.message(lang)
        assert message != err.value.key and "{" not in message, message
    return err.value.key


GOOD = [(f"sentence number {i} is fine", "pos" if i % 2 else "neg") for i in range(20)]


def test_bundled_tasks_are_balanced_and_split():
    assert {"negation", "question"} <= set(bundled_tasks())
    for name in ("negation", "question"):
        data = load_task(name)
        assert len(data.train) == 480 and len(data.validation) == 120
        assert set(data.class_counts().values()) == {300}
        assert not set(data.train.texts) & set(data.validation.texts)
        assert translate(f"ft.task.{name}", "ko") != f"ft.task.{name}"


def test_negation_rule_is_checkable():
    data = load_task("negation")
    for split in (data.train, data.validation):
        for text, y in zip(split.texts, split.labels):
            assert (data.label_names[y] == "negated") == bool(NEGATION.search(text)), text


def test_question_task_has_no_final_mark():
    data = load_task("question")
    assert data.label_names == ("question", "statement")
    assert not any(t.endswith(("?", ".")) for t in data.train.texts + data.validation.texts)


def test_unknown_task():
    assert error_key(load_task, "sentiment") == "ft.err.unknown_task"


@pytest.mark.parametrize("sep,name", [(",", "a.csv"), ("\t", "a.tsv"), (";", "a.csv")])
def test_reads_csv_tsv_and_semicolons(sep, name):
    data = read_labelled_table(csv_bytes(GOOD, sep), "text", "label", name)
    assert data.label_names == ("neg", "pos") and len(data.train) == 16 and len(data.validation) == 4
    assert sorted(data.validation.labels) == [0, 0, 1, 1]  # stratified
    assert table_columns(csv_bytes(GOOD, sep), name) == ["text", "label"]


def test_split_is_deterministic_and_quoted_commas_survive():
    rows = [('"Well, no."', "a"), ("yes", "b")] * 6
    one = read_labelled_table(csv_bytes(rows), "text", "label")
    two = read_labelled_table(csv_bytes(rows), "text", "label")
    assert one == two and "Well, no." in one.train.texts + one.validation.texts


def test_korean_cp949_and_markup_are_kept_as_text():
    rows = [("좋은 영화였다", "긍정"), ("</script><img src=x onerror=alert(1)>", "부정")] * 5
    data = read_labelled_table(csv_bytes(rows, encoding="cp949"), "text", "label")
    assert data.label_names == ("긍정", "부정")
    assert "</script><img src=x onerror=alert(1)>" in data.train.texts + data.validation.texts


def test_one_class_only():
    assert error_key(read_labelled_table, csv_bytes([(f"s {i}", "same") for i in range(10)]),
                     "text", "label") == "ft.err.one_class"


def test_missing_labels_name_the_first_line():
    rows = GOOD[:6] + [("no label here", "")] + GOOD[6:]
    with pytest.raises(UserFacingError) as err:
        read_labelled_table(csv_bytes(rows), "text", "label")
    assert err.value.key == "ft.err.missing_labels" and err.value.params["first"] == 8
    assert "8" in err.value.message("en") and "8" in err.value.message("ko")


def test_binary_file():
    data = bytes(range(256)) * 40
    assert error_key(read_labelled_table, data, "text", "label") == "upload.err.binary"
    assert error_key(table_columns, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10) == "upload.err.binary"


def test_a_100_mb_file_is_refused_before_decoding():
    data = b"a,b\n" * (100_000_000 // 4)
    assert len(data) > MAX_BYTES
    assert error_key(read_labelled_table, data, "a", "b") == "ft.err.too_big"
    assert error_key(table_columns, data) == "ft.err.too_big"


def test_column_problems():
    good = csv_bytes(GOOD)
    assert error_key(read_labelled_table, good, "sentence", "label") == "ft.err.no_column"
    assert error_key(read_labelled_table, good, "text", "text") == "ft.err.same_column"
    assert error_key(table_columns, b"just one column\nanother line\n") == "ft.err.no_table"
    assert error_key(read_labelled_table, b"", "text", "label") == "upload.err.empty"


def test_too_few_and_too_many_classes():
    few = GOOD + [("lonely sentence", "rare")]
    assert error_key(read_labelled_table, csv_bytes(few), "text", "label") == "ft.err.too_few"
    many = [(f"s {i}", f"class{i % 25}") for i in range(200)]
    assert error_key(read_labelled_table, csv_bytes(many), "text", "label") == "ft.err.too_many_classes"


def test_rows_without_text_are_skipped_with_a_notice():
    data = read_labelled_table(csv_bytes(GOOD + [("", "pos")]), "text", "label")
    assert [n.key for n in data.notices] == ["ft.notice.empty_text"]
    assert len(data.train) + len(data.validation) == 20


def test_make_set_needs_two_labels():
    assert error_key(make_set, "x", [], []) == "ft.err.one_class"
