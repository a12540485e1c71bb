"""The "Your sentences" page headless (AppTest) on tiny models, in English and Korean.

A CP949 Korean file and an English CSV with a formula cell go through the real upload
widget (AppTest's file_uploader.set_value) and through the paste text area; the
parsing itself is lmcore.demos.batch.parse_sentences (tested in test_batch.py).
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest, app_test

import lmcore.catalog
from lmcore.catalog import ModelInfo
from lmcore.demos import batch
from lmcore.i18n import translate
from lmcore.inference import embedded
from lmcore.pretrained import loading
from tests.page_support import chart_element, click, ran_cleanly, run_page, texts
from tests.test_page_translate_steps import tiny_translator
from tests.test_pretrained import HOSTILE, bert_dir  # noqa: F401 (fixture)
from ui import loaders
from ui.safe_text import md_escape

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "your_sentences.py")
KOREAN_FILE = "고양이가 매트 위에 앉았다.\n나는 책 읽기를 좋아한다.\n".encode("cp949")
ENGLISH_CSV = b'id,text\n1,the cat sat on the mat .\n2,"=HYPERLINK(""http://x"")"\n3,' + HOSTILE.encode() + b"\n"
MODELS = [ModelInfo("tiny-bert-test", "masked-lm", True), ModelInfo("s2s-en-fr-bahdanau", "seq2seq", True),
          ModelInfo("s2s-en-fr-plain", "seq2seq", True), ModelInfo("gpt2", "causal-lm", False)]


@pytest.fixture(autouse=True)
def tiny_models(monkeypatch, fresh_caches, bert_dir):  # noqa: F811
    tiny = {"s2s-en-fr-bahdanau": tiny_translator("b", "bahdanau"), "s2s-en-fr-plain": tiny_translator("p", "none")}
    monkeypatch.setattr(lmcore.catalog, "list_models", lambda: MODELS)
    monkeypatch.setattr(embedded, "list_models", lambda: MODELS)  # the embedded backend's own lookup
    monkeypatch.setattr(loaders, "model", lambda name: loading.load_model(bert_dir))
    monkeypatch.setattr(loaders, "translator", tiny.__getitem__)


def open_page(lang: str, text: str | None = None, model: str | None = None) -> AppTest:
    at = run_page(PAGE, lang)
    if text is not None:
        at.text_area(key="sent_text").set_value(text).run()
    if model is not None:
        at.selectbox(key="sent_model").set_value(model).run()
    return ran_cleanly(at)


def run(at: AppTest) -> AppTest:
    return click(at, "sent_run")


def table_rows(at: AppTest) -> list[dict]:
    return at.dataframe[0].value.to_dict("records")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_korean_cp949_file_through_an_encoder(lang, bert_dir):  # noqa: F811
    sentences = batch.parse_sentences(KOREAN_FILE, "ko.txt").sentences
    at = run(open_page(lang, "\n".join(sentences)))
    assert at.title[0].value == translate("sent.title", lang)
    assert at.selectbox(key="sent_model").value == "tiny-bert-test"  # offline models first
    rows = table_rows(at)
    assert [r["sentence"] for r in rows] == sentences
    assert all(r["n_unknown"] >= 1 for r in rows)  # Hangul is [UNK] for the English vocabulary
    headers = json.loads(at.dataframe[0].proto.columns)
    assert headers["sentence"]["label"] == translate("sent.col.sentence", lang)  # translated header
    assert not at.error
    assert texts(at.warning) == [translate(  # said once above the table, not per row
        "lm.notice.hangul_lost", lang, name=md_escape(loading.load_model(bert_dir).name), suggestion=md_escape("tiny-gpt2"))]
    assert len(at.get("plotly_chart")) == 1  # the first row's heatmap
    labels = [b.proto.label for b in at.get("download_button")]
    assert translate("sent.export.csv", lang) in labels and translate("sent.export.maps_json", lang) in labels


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_english_csv_with_a_formula_cell_through_a_translator(lang):
    sentences = batch.parse_sentences(ENGLISH_CSV, "en.csv").sentences
    assert sentences[1] == '=HYPERLINK("http://x")'
    at = run(open_page(lang, "\n".join(sentences), model="s2s-en-fr-bahdanau"))
    rows = table_rows(at)
    assert [r["sentence"] for r in rows] == sentences  # shown as text
    assert all(isinstance(r["translation"], str) for r in rows)
    at.selectbox(key="sent_pick").set_value(2).run()  # the hostile row: its alignment
    assert not at.exception and len(at.get("plotly_chart")) == 1
    spec = chart_element(at, "sent_chart").proto.spec
    assert "&lt;" in spec and "<script" not in spec and "<img" not in spec  # tokens escaped


def test_csv_download_is_neutralised_and_has_a_bom(monkeypatch):
    storage = MemoryMediaFileStorage("/mock/media")  # keep AppTest's media files readable
    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", lambda _path: storage)
    sentences = batch.parse_sentences(ENGLISH_CSV, "en.csv").sentences
    at = run(open_page("en", "\n".join(sentences)))
    button = next(b for b in at.get("download_button") if b.proto.label == translate("sent.export.csv", "en"))
    file_id = button.proto.url.rsplit("/", 1)[-1].split(".")[0]
    data = storage.get_file(file_id).content
    assert data.startswith(b"\xef\xbb\xbf")
    cells = [r[1] for r in csv.reader(io.StringIO(data.decode("utf-8-sig")))]
    assert cells[0] == "sentence" and "'=HYPERLINK(\"http://x\")" in cells and HOSTILE in cells


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_uploaded_cp949_file_and_english_csv(lang):
    at = open_page(lang)
    at.radio(key="sent_source").set_value("upload").run()
    assert translate("sent.upload_first", lang) in texts(at.info)
    at.get("file_uploader")[0].set_value(("문장.txt", KOREAN_FILE, "text/plain")).run()
    assert not at.exception and not at.error
    assert translate("sent.count", lang, count=2, encoding="cp949") in texts(at.caption)
    at.get("file_uploader")[0].set_value(("en.csv", ENGLISH_CSV, "text/csv")).run()
    assert at.checkbox[0].value is True  # header detected
    column = next(box for box in at.selectbox if box.key.startswith("sent_column_"))
    assert column.value == 1  # the "text" column
    run(at)
    assert [r["sentence"] for r in table_rows(at)][1] == '=HYPERLINK("http://x")'


@pytest.mark.parametrize("content,key", [(b"", "upload.err.empty"), (bytes(range(256)) * 8, "upload.err.binary")])
def test_uploaded_empty_and_binary_files_give_messages(content, key):
    at = open_page("ko")
    at.radio(key="sent_source").set_value("upload").run()
    at.get("file_uploader")[0].set_value(("x.txt", content, "text/plain")).run()
    assert not at.exception
    assert texts(at.error) == [translate(key, "ko")]


def test_uploaded_long_line_is_cut_with_a_notice():
    at = open_page("en")
    at.radio(key="sent_source").set_value("upload").run()
    at.get("file_uploader")[0].set_value(("long.txt", b"a" * 100_000, "text/plain")).run()
    assert not at.exception and not at.error
    notice = translate("sent.notice.long_sentences", "en", count=1, chars=batch.MAX_SENTENCE_CHARS)
    assert notice in texts(at.info)


def test_plain_seq2seq_says_it_has_no_attention():
    at = run(open_page("en", "the cat", model="s2s-en-fr-plain"))
    assert translate("sent.no_attention", "en", name="s2s-en-fr-plain") in texts(at.info)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_empty_text_gives_a_translated_message(lang):
    at = open_page(lang, "   \n  ")
    assert texts(at.error) == [translate("sent.err.no_sentences", lang)]
    assert not at.dataframe


def test_table_waits_for_the_button_and_reruns_when_input_changes():
    at = open_page("en", "the cat sat")
    assert translate("sent.press_run", "en") in texts(at.info) and not at.dataframe
    run(at)
    assert len(table_rows(at)) == 1
    at.text_area(key="sent_text").set_value("the cat sat\nthe dog ran").run()
    assert not at.dataframe  # the old table is not shown for new input


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_page_opens_on_the_bundled_example_its_table_and_first_map(lang):
    at = open_page(lang)
    assert not at.exception and not at.error
    rows = table_rows(at)
    assert [r["sentence"] for r in rows] == translate("sent.paste_default", lang).splitlines()
    assert at.selectbox(key="sent_pick").value == 0
    assert chart_element(at, "sent_chart") is not None
    assert translate("sent.press_run", lang) not in texts(at.info)


def test_layer_and_head_pickers_change_the_map():
    at = run(open_page("en", "the cat sat on the mat ."))
    before = chart_element(at, "sent_chart").proto.spec
    at.selectbox(key="sent_layer").set_value(1).run()
    at.selectbox(key="sent_head").set_value(3).run()
    assert not at.exception
    assert chart_element(at, "sent_chart").proto.spec != before


def test_large_upload_is_capped_and_a_huge_one_refused():
    at = open_page("en")
    at.radio(key="sent_source").set_value("upload").run()
    at.get("file_uploader")[0].set_value(("big.txt", b"The cat sat.\n" * 250_000, "text/plain")).run()  # 3.2 MB
    infos = texts(at.info)
    assert translate("upload.notice.size_capped", "en", megabytes=2.0) in infos  # numbers pass as they are
    assert translate("sent.notice.sentences_capped", "en", kept=batch.MAX_SENTENCES,
                     total=2_000_000 // 13) in infos
    at.get("file_uploader")[0].set_value(("huge.txt", b"x" * 21_000_000, "text/plain")).run()
    assert texts(at.error) == [translate("sent.err.too_big", "en", megabytes=21.0, limit=20, kept=2)]


@pytest.mark.parametrize("model,page", [("tiny-bert-test", "bert"), ("s2s-en-fr-bahdanau", "translate-steps")])
def test_any_row_opens_in_its_own_page_with_the_sentence_and_model(model, page):
    from urllib.parse import parse_qs, urlparse

    at = run(open_page("ko", "the cat sat on the mat .\ni am cold .", model))
    at.selectbox(key="sent_pick").set_value(1).run()
    assert at.query_params["row"] == "1"  # the picked row is in the URL too
    links = at.get("link_button") + at.get("page_link")
    assert len(links) == 1
    url = urlparse(links[0].proto.url if links[0].type == "link_button" else links[0].proto.page)
    query = parse_qs(url.query) if url.query else parse_qs(links[0].proto.query_string)
    assert url.path.endswith(page) or links[0].proto.page.endswith(page)
    assert query["model"] == [model] and query["text"] == ["i am cold ."] and query["lang"] == ["ko"]
