"""The Fine-tuning page headless (AppTest): both languages, bad uploads, busy server, a tiny real job."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lmcore.catalog import ModelInfo
from lmcore.i18n import translate
from lmcore.pretrained.finetune import FinetuneConfig
from lmcore.pretrained.tasks import make_set
from tests.page_support import button_labelled, ran_cleanly, run_page, texts, upload, wait_for_state
from tests.test_finetune import make_tiny_bert, sentiment_texts
from ui import finetune_jobs, loaders
from ui.loaders import finetune

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "finetune.py")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return make_tiny_bert(tmp_path_factory.mktemp("page-tiny-bert"))


def open_page(lang: str = "en") -> AppTest:
    return ran_cleanly(run_page(PAGE, lang))


def upload_csv(at: AppTest, name: str, content: bytes) -> AppTest:
    at.radio(key="ft_source").set_value("upload").run()
    return upload(at, "ft_upload", name, content, "text/csv")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_bundled_task_is_shown_in_both_languages(lang):
    at = open_page(lang)
    assert at.title[0].value == translate("ft.title", lang)
    assert at.selectbox(key="ft_task").value == "negation"
    assert not at.error
    assert any(translate("ft.data.summary", lang).split("{")[0] in c.value for c in at.caption)
    assert start_button(at).label == translate("ft.start", lang)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_page_opens_on_the_untrained_heads_predictions_and_cls_attention(lang):
    at = open_page(lang)
    assert [c for c in at.get("plotly_chart") if "ft_cls_before" in c.proto.id]
    rows = at.dataframe[0].value  # the before-training table comes first
    assert len(rows) == 12
    labels = {translate("ft.label.negated", lang), translate("ft.label.affirmative", lang)}
    assert set(rows[translate("ft.col.gold", lang)]) <= labels
    assert set(rows[translate("ft.col.before", lang)]) <= labels
    assert at.metric[0].label == translate("ft.preview.accuracy", lang, rows=12)
    if lang == "ko":
        assert "부정문" in labels and not any("negated" in c.value for c in at.caption)


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name,content,key", [
    ("one.csv", b"text,label\n" + b"".join(b"s %d,same\n" % i for i in range(10)), "ft.err.one_class"),
    ("gaps.csv", b"text,label\na,x\nb,\nc,y\n", "ft.err.missing_labels"),
    ("pic.csv", bytes(range(256)) * 50, "upload.err.binary"),
    ("huge.csv", b"a,b\n" * 1_600_000, "ft.err.too_big"),
])
def test_bad_uploads_show_a_translated_error(lang, name, content, key):
    at = upload_csv(open_page(lang), name, content)
    assert len(at.error) == 1
    literal = max(re.split(r"\{[^}]*\}", translate(key, lang)), key=len)
    assert len(literal) > 8 and literal in at.error[0].value
    assert start_button(at).disabled  # nothing to train on


def test_good_upload_lets_you_pick_columns():
    rows = "".join(f"sentence {i},{'a' if i % 2 else 'b'},x\n" for i in range(20))
    at = upload_csv(open_page(), "mine.csv", ("words,tag,other\n" + rows).encode())
    at.selectbox(key="ft_text_col").set_value("words")
    at.selectbox(key="ft_label_col").set_value("tag").run()
    assert not at.error and not start_button(at).disabled


def test_busy_server_gives_a_clear_message():
    with finetune_jobs.REGISTRY.occupied("someone-else"):
        at = open_page("ko")
        assert texts(at.info) == [translate("ft.busy", "ko")]
        start_button(at).click().run()
        assert texts(at.warning) == [translate("ft.busy", "ko")]
        assert not finetune_jobs.REGISTRY.busy("someone-else")  # nothing else started


def test_a_tiny_job_runs_from_the_page_to_the_results(tiny, monkeypatch):
    monkeypatch.setattr(loaders, "model_choices", lambda kinds: [ModelInfo(tiny, "encoder", True)])
    monkeypatch.setattr(finetune_jobs, "HEAD_CHANGE_SENTENCES", 8)
    monkeypatch.setattr(finetune_jobs, "app_threads", lambda: 1)
    monkeypatch.setattr(finetune, "task", lambda name: make_set(name, *sentiment_texts(40)))
    at = open_page()
    at.select_slider(key="ft_lr").set_value(3e-4)
    at.number_input(key="ft_epochs").set_value(1)
    ran_cleanly(start_button(at).click().run())
    wait_for_state(at, "ft_last", 60, 0.5)
    assert not at.exception, [e.value for e in at.exception]
    assert "ft_last" in at.session_state and not at.error
    assert len(at.metric) == 5 and model_downloads(at)  # before training, then 4 results
    assert len(at.get("plotly_chart")) == 5  # [CLS] before training, curves, confusion, [CLS] attention, heads
    name = at.session_state["ft_last"]["name"]
    assert name in at.session_state[finetune_jobs._MODELS_KEY]
    at.text_input(key="ft_compare_text").set_value("</script><img src=x onerror=alert(1)>").run()
    assert not at.exception and not at.error
    at.text_input(key="ft_compare_text").set_value("   ").run()
    assert at.error and not at.exception
    shutil.rmtree(at.session_state["ft_last"]["folder"], ignore_errors=True)
    at.run()  # the saved model was cleaned up: a clear warning, the results still shown
    assert not at.exception and translate("ft.err.gone", "en") in texts(at.warning)
    assert len(at.metric) == 5 and not model_downloads(at)


def start_button(at):
    """The form's start button (the lesson's Reveal button comes first on the page)."""
    return button_labelled(at, "ft.start")


def model_downloads(at) -> list:
    """The fine-tuned model's download button (each chart also has its numbers downloads)."""
    return [b for b in at.get("download_button") if "ft_download" in b.proto.id]


def test_threads_follow_the_load(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.1, 0.0, 0.0))
    assert finetune_jobs.app_threads() == 2  # a quiet 2-core server: both cores
    monkeypatch.setattr(os, "getloadavg", lambda: (0.8, 0.0, 0.0))
    assert finetune_jobs.app_threads() == 1  # something else is running
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert finetune_jobs.app_threads() == finetune_jobs.MAX_THREADS
    monkeypatch.setattr(os, "getloadavg", lambda: (11.0, 0.0, 0.0))
    assert finetune_jobs.app_threads() == 1


def test_a_stale_heartbeat_stops_the_job(tiny, monkeypatch):
    monkeypatch.setattr(finetune_jobs.REGISTRY, "stale_seconds", 0.0)
    data = make_set("toy", *sentiment_texts(400))
    job = finetune_jobs.start_job("left-the-page", data, FinetuneConfig(model=tiny, epochs=5, max_length=16, threads=1))
    job.thread.join(60)
    assert job.state == "cancelled" and job.folder is None and not finetune_jobs.REGISTRY.busy()
    finetune_jobs.REGISTRY.forget("left-the-page")


def test_labels_with_markup_are_shown_as_text():
    rows = "".join(f"sentence {i},{'<img src=x onerror=alert(1)>' if i % 2 else '**bold**'}\n" for i in range(20))
    at = upload_csv(open_page(), "evil.csv", ("text,label\n" + rows).encode())
    summary = next(c.value for c in at.caption if "<img" in c.value or "&lt;img" in c.value)
    assert "<img" not in summary and "&lt;img" in summary and "\\*\\*bold\\*\\*" in summary
    assert not at.error
