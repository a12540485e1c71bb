"""Hostile links, typed model ids, outside folders and broken files on the real pages (issue 16).

Every message quoting what a user or a shared link gave shows it as text: no Markdown
image (a tracking pixel), no live link, no bare https:// autolink. A folder outside the
allowed roots gets one message that names nothing; a broken metrics.json is a warning.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from lmcore.i18n import translate
from lmcore.pretrained import model_paths
from tests.page_support import ran_cleanly, run_page, texts, upload
from ui.lm_widgets import OTHER

ROOT = Path(__file__).resolve().parent.parent
BERT = str(ROOT / "pages" / "bert.py")
FINETUNE = str(ROOT / "pages" / "finetune.py")
LINKS = ["![x](http://evil.example/md-pixel.png)", "[Click here to fix](http://evil.example/phish)",
         "https://evil.example/phish", "www.evil.example", "<img src=http://evil.example/p.png>",
         "![x](evil.example/p.png)", "[Click here](evil.example)", "<img src=evil.example>", "me@evil.example"]
_AUTOLINK = re.compile(r"https?://|www\.|javascript:|\w@\w", re.I)


def assert_text_only(message: str, quoted: bool = False) -> None:
    html = MarkdownIt("commonmark", {"html": True}).render(message)
    assert "<a" not in html and "<img" not in html, html
    assert not _AUTOLINK.search(message), message  # GFM would autolink these
    assert not quoted or "evil" in html  # the text itself is shown


@pytest.mark.parametrize("model_id", LINKS)
def test_a_shared_link_cannot_put_an_image_or_a_link_in_the_error(model_id):
    at = ran_cleanly(run_page(BERT, "en", timeout=120, model=OTHER, model_id=model_id))
    assert len(at.error) == 1
    assert_text_only(at.error[0].value, quoted=":" not in model_id)  # a URL is refused unquoted


def test_a_typed_free_model_id_is_shown_as_text():
    at = ran_cleanly(run_page(BERT, "ko", timeout=120, model=OTHER))
    at.text_input(key="lmp_bert_model_other").input("[Click](evil.example) ![x](evil.example/p.png)").run()
    ran_cleanly(at)
    assert len(at.error) == 1
    assert_text_only(at.error[0].value, quoted=True)


def test_outside_folders_all_get_the_same_message_naming_nothing():
    shown = set()
    for folder in ("/etc", "/root", "/nonexistent", "/tmp"):
        at = ran_cleanly(run_page(BERT, "en", timeout=120, model=OTHER, model_id=folder))
        shown |= set(texts(at.error))
    assert shown == {translate("lm.err.path_refused", "en")}


def test_another_sessions_finetuned_folder_is_refused(tmp_path):
    theirs = model_paths.ASSETS / "tiny-bert"
    other = Path(__file__).parent  # stands for any folder outside this session's roots
    from ui.finetune_jobs import SESSIONS_ROOT, session_models_dir
    folder = session_models_dir("someone-else") / "attnlab-finetuned-x"
    try:
        shutil.copytree(theirs, folder)
        at = ran_cleanly(run_page(BERT, "en", timeout=120, model=OTHER, model_id=str(folder)))
        assert texts(at.error) == [translate("lm.err.path_refused", "en")]
        at = ran_cleanly(run_page(BERT, "en", timeout=120, model=OTHER, model_id=str(other)))
        assert texts(at.error) == [translate("lm.err.path_refused", "en")]
    finally:
        shutil.rmtree(session_models_dir("someone-else"), ignore_errors=True)
    assert folder.parent.parent == SESSIONS_ROOT


def _own_folder_loads() -> None:
    import shutil  # AppTest runs this function's source as its own script

    import streamlit as st

    from lmcore.pretrained import model_paths
    from ui import loaders
    from ui.finetune_jobs import session_model_roots
    own = session_model_roots()[0] / "attnlab-finetuned-own"
    shutil.copytree(model_paths.ASSETS / "tiny-bert", own, dirs_exist_ok=True)
    st.write(str(loaders.model(str(own)).n_layers))
    shutil.rmtree(own.parent, ignore_errors=True)


def test_the_sessions_own_finetuned_folder_loads():
    at = AppTest.from_function(_own_folder_loads, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.markdown[0].value == "4"


def test_a_broken_metrics_file_is_a_warning_and_the_page_works(tmp_path, monkeypatch):
    folder = tmp_path / "models" / "broken-metrics"
    shutil.copytree(model_paths.ASSETS / "tiny-bert", folder)
    (folder / "metrics.json").write_text("{ not json")
    monkeypatch.setenv(model_paths.ENV_DIRS, str(tmp_path / "models"))
    at = ran_cleanly(run_page(BERT, "en", timeout=120, model=OTHER, model_id=str(folder)))
    assert not at.error
    assert translate("lm.err.metrics_broken", "en", reason="JSONDecodeError") in texts(at.warning)
    assert any(c.proto.id and "lmp_bert_grid" in c.proto.id for c in at.get("plotly_chart"))


def test_a_finetune_label_column_with_markup_is_shown_as_text():
    column = "![x](http://e.x/p.png)"
    rows = "".join(f"sentence {i},{'' if i % 3 == 0 else 'yes' if i % 2 else 'no'}\n" for i in range(20))
    at = ran_cleanly(run_page(FINETUNE, "en"))
    at.radio(key="ft_source").set_value("upload").run()
    at = upload(at, "ft_upload", "evil.csv", (f"text,{column}\n" + rows).encode(), "text/csv")
    at.selectbox(key="ft_text_col").select("text").run()
    at.selectbox(key="ft_label_col").select(column).run()
    errors = texts(at.error)
    assert len(errors) == 1, errors
    html = MarkdownIt("commonmark", {"html": True}).render(errors[0])
    assert "<img" not in html and "<a" not in html and "http://" not in errors[0]
    assert column in html  # shown as the text it is


def _start_owning_a_folder() -> None:
    import streamlit as st

    from ui import finetune_jobs
    folder = finetune_jobs.session_model_roots()[0]
    (folder / "attnlab-finetuned-x").mkdir(parents=True, exist_ok=True)
    finetune_jobs.register_model("mine", str(folder / "attnlab-finetuned-x"))
    st.write(str(folder))


def test_a_closed_sessions_finetuned_folder_is_deleted():
    import gc
    at = AppTest.from_function(_start_owning_a_folder, default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    folder = Path(at.markdown[0].value)
    assert folder.is_dir() and folder.parent == __import__("ui.finetune_jobs").finetune_jobs.SESSIONS_ROOT
    del at  # the session ends: Streamlit drops its state
    gc.collect()
    assert not folder.exists()
