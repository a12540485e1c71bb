"""The "Train your own translator" page headless (AppTest): uploads in several encodings,
bad files, the one-job-per-server rule, and a tiny real training run; the job registry."""
from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lmcore.errors import UserFacingError
from lmcore.files import zip_folder
from lmcore.i18n import translate
from tests.page_support import button_labelled, ran_cleanly, run_page, texts, upload, wait_for_state
from ui import seq2seq_jobs

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "train_seq2seq.py")
NUMBERS = {"one": "un", "two": "deux", "three": "trois", "four": "quatre", "five": "cinq", "six": "six"}


def made_up_pairs(n: int = 60) -> list[tuple[str, str]]:
    """Counting phrases: "one two ." -> "un deux ." (a pattern a tiny model can start to learn)."""
    words = list(NUMBERS)
    out = []
    for i in range(n):
        src = [words[(i + j) % 6] for j in range(2 + i % 3)]
        out.append((" ".join(src) + " .", " ".join(NUMBERS[s] for s in src) + " ."))
    return out


def tsv(pairs, encoding: str = "utf-8") -> bytes:
    return "".join(f"{s}\t{t}\n" for s, t in pairs).encode(encoding)


pytestmark = pytest.mark.usefixtures("one_thread")


def open_page(lang: str = "en") -> AppTest:
    return ran_cleanly(run_page(PAGE, lang))


def upload_tsv(at: AppTest, name: str, content: bytes) -> AppTest:
    return upload(at, "s2sp_upload", name, content, "text/tab-separated-values")


def start_button(at: AppTest):
    return button_labelled(at, "s2sp.train.start")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_page_opens_on_the_bundled_pairs_and_an_untrained_alignment(lang):
    at = open_page(lang)
    assert at.title[0].value == translate("s2sp.train.title", lang)
    assert translate("s2sp.train.sample", lang, count=400) in texts(at.caption)
    pairs = at.dataframe[0].value
    assert len(pairs) == 8 and pairs.iloc[0, 0] == seq2seq_jobs.sample_bytes().decode().split("\t")[0]
    assert [c for c in at.get("plotly_chart") if "s2sp_untrained_map" in c.proto.id]
    assert not at.error and not start_button(at).disabled


@pytest.mark.parametrize("lang,name,content,key", [
    ("en", "one.tsv", b"just one column\nand another line\n", "upload.err.columns"),
    ("ko", "one.tsv", b"just one column\nand another line\n", "upload.err.columns"),
    ("en", "pic.tsv", bytes(range(256)) * 40, "upload.err.binary"),
    ("ko", "pic.tsv", bytes(range(256)) * 40, "upload.err.binary"),
    ("ko", "empty.tsv", b"\n\n  \n", "upload.err.empty"),
])
def test_bad_uploads_show_a_translated_error(lang, name, content, key):
    at = upload_tsv(open_page(lang), name, content)
    assert len(at.error) == 1
    literal = max(translate(key, lang).split("{")[0].split("}"), key=len)[:20]
    assert literal in at.error[0].value
    assert start_button(at).disabled


@pytest.mark.parametrize("encoding", ["cp949", "utf-8-sig", "utf-16"])
def test_korean_uploads_in_each_encoding_are_read(encoding):
    pairs = [("나는 학교에 간다.", "I go to school."), ("고양이가 잔다.", "The cat sleeps.")] * 5
    at = upload_tsv(open_page("ko"), "ko.tsv", tsv(pairs, encoding))
    assert not at.error
    assert translate("s2sp.train.summary", "ko", count=10) in texts(at.caption)
    assert at.dataframe[0].value.iloc[0, 0] == "나는 학교에 간다."
    assert not start_button(at).disabled


def test_swap_and_skipped_lines_are_reported():
    at = upload_tsv(open_page(), "mixed.tsv", tsv(made_up_pairs(10)) + b"no tab here\n")
    assert any(translate("upload.notice.rows_skipped", "en", count=1, columns=2) == x.value for x in at.warning)
    at.checkbox(key="s2sp_swap").check().run()
    assert at.dataframe[0].value.iloc[0, 0] == "un deux ."


def test_busy_server_gives_a_clear_message():
    with seq2seq_jobs.REGISTRY.occupied("someone-else"):
        at = upload_tsv(open_page("ko"), "p.tsv", tsv(made_up_pairs()))
        assert translate("s2sp.busy", "ko") in texts(at.info)
        start_button(at).click().run()
        assert translate("s2sp.busy", "ko") in texts(at.warning)
        assert not seq2seq_jobs.REGISTRY.busy("someone-else")  # nothing else started


def test_a_running_fine_tuning_also_blocks_training():
    from ui import finetune_jobs
    with finetune_jobs.REGISTRY.occupied("someone-else"):
        assert seq2seq_jobs.REGISTRY.server_busy("me")
        with pytest.raises(UserFacingError) as caught:
            seq2seq_jobs.start_job("me", made_up_pairs(), seq2seq_jobs.Settings(hidden=32, epochs=1))
    assert caught.value.key == "s2sp.busy" and not seq2seq_jobs.REGISTRY.busy()
    assert seq2seq_jobs.REGISTRY.job_for("me") is None and not seq2seq_jobs.REGISTRY.server_busy("me")


def test_a_tiny_training_run_goes_from_upload_to_download():
    at = upload_tsv(open_page(), "count.tsv", tsv(made_up_pairs()))
    at.selectbox(key="s2sp_hidden").set_value(32)
    at.number_input(key="s2sp_epochs").set_value(2)
    at.selectbox(key="s2sp_watch").set_value("two three four .")
    ran_cleanly(start_button(at).click().run())
    wait_for_state(at, "s2sp_last", 60, 0.3)
    assert not at.exception and not at.error
    last = at.session_state["s2sp_last"]
    assert [s["epoch"] for s in last["snapshots"]] == [0, 1, 2]
    assert last["source_tokens"] == ["two", "three", "four", "."]
    for snap in last["snapshots"]:  # alignment rows are distributions over the watched sentence
        assert snap["weights"].shape == (len(snap["output"]), 4)
        assert abs(float(snap["weights"].sum(-1).mean()) - 1.0) < 1e-2
    at.select_slider(key="s2sp_snap_epoch").set_value(0).run()
    assert not at.exception and len(at.get("plotly_chart")) == 3  # untrained preview, loss curve, epoch-0 alignment
    data = [b for b in at.get("download_button") if b.proto.label == translate("s2sp.train.download", "en")][0].proto
    assert data is not None
    files = set(zipfile.ZipFile(io.BytesIO(zip_folder(last["folder"]))).namelist())
    assert files == {"model.safetensors", "config.json", "vocab.src.json", "vocab.tgt.json"}
    from lmcore.translation.translators import load_translator
    assert load_translator(last["folder"]).translate("one two .").steps  # the download loads back


def test_the_running_job_shows_progress_and_cancels_from_the_page():
    at = upload_tsv(open_page("ko"), "count.tsv", tsv(made_up_pairs(400)))
    at.selectbox(key="s2sp_hidden").set_value(32)
    at.number_input(key="s2sp_epochs").set_value(30)
    ran_cleanly(start_button(at).click().run())
    assert start_button(at).disabled and len(at.get("progress")) == 1
    assert translate("s2sp.train.leave_note", "ko") in texts(at.caption)
    cancel = at.button(key="s2sp_cancel")
    assert cancel.label == translate("s2sp.train.cancel", "ko")
    cancel.click().run()
    deadline = time.monotonic() + 60
    while at.get("progress") and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
    assert not at.exception and translate("s2s.train.cancelled", "ko") in texts(at.warning)
    assert "s2sp_last" not in at.session_state and not seq2seq_jobs.REGISTRY.busy()
    at.run()  # the outcome is reported once
    assert translate("s2s.train.cancelled", "ko") not in texts(at.warning)
    assert not start_button(at).disabled


def test_cancel_says_cancelling_at_once_while_the_step_finishes(monkeypatch):
    """The click's own rerun shows "cancelling…" (the job still ends its slow step meanwhile)."""
    slow = seq2seq_jobs._on_progress

    def slow_step(job, p):
        time.sleep(1.5)
        return slow(job, p)
    monkeypatch.setattr(seq2seq_jobs, "_on_progress", slow_step)
    at = upload_tsv(open_page("ko"), "count.tsv", tsv(made_up_pairs(400)))
    at.selectbox(key="s2sp_hidden").set_value(32)
    ran_cleanly(start_button(at).click().run())
    wait = time.monotonic() + 30
    while not at.get("progress") and time.monotonic() < wait:
        time.sleep(0.2)
        at.run()
    started = time.monotonic()
    at.button(key="s2sp_cancel").click().run()
    assert time.monotonic() - started < 2.0
    assert translate("jobs.cancelling", "ko") in texts(at.info)
    assert at.button(key="s2sp_cancel").disabled
    deadline = time.monotonic() + 60
    while at.get("progress") and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    assert translate("s2s.train.cancelled", "ko") in texts(at.warning) and not seq2seq_jobs.REGISTRY.busy()


def test_cancel_and_a_stale_heartbeat_stop_the_job(monkeypatch):
    job = seq2seq_jobs.start_job("canceller", made_up_pairs(400), seq2seq_jobs.Settings(hidden=32, epochs=30))
    seq2seq_jobs.REGISTRY.cancel("canceller")
    job.thread.join(60)
    assert job.state == "cancelled" and job.folder is None and not seq2seq_jobs.REGISTRY.busy()
    seq2seq_jobs.REGISTRY.forget("canceller")
    monkeypatch.setattr(seq2seq_jobs.REGISTRY, "stale_seconds", 0.0)
    job = seq2seq_jobs.start_job("left-the-page", made_up_pairs(400), seq2seq_jobs.Settings(hidden=32, epochs=30))
    job.thread.join(60)
    assert job.state == "cancelled" and job.result.epochs_run < 30 and not seq2seq_jobs.REGISTRY.busy()
    seq2seq_jobs.REGISTRY.forget("left-the-page")


def test_too_few_pairs_fail_with_a_message_not_a_traceback():
    job = seq2seq_jobs.start_job("few", made_up_pairs(1), seq2seq_jobs.Settings(hidden=32, epochs=1))
    job.thread.join(30)
    assert job.state == "failed" and job.error.key == "s2s.err.too_few_pairs"
    seq2seq_jobs.REGISTRY.forget("few")


def test_hostile_and_emoji_pairs_are_shown_as_text():
    hostile = "</script><img src=x onerror=alert(1)>"
    at = upload_tsv(open_page("ko"), "h.tsv", tsv([(hostile + " 😀", "bonjour 😀"), ("one .", "un .")] * 5))
    assert not at.error and not at.exception
    assert at.dataframe[0].value.iloc[0, 0] == hostile + " 😀"
    assert at.selectbox(key="s2sp_watch").options[0] == hostile + " 😀"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_defaults_train_long_enough_and_few_pairs_are_warned(lang):
    at = open_page(lang)
    assert at.number_input(key="s2sp_epochs").value == 20  # 5 gave "le cheval ." on the sample
    assert translate("s2sp.train.epochs_help", lang, n=20) in texts(at.caption)
    assert not at.warning, "the bundled 400 pairs are enough"
    at = upload_tsv(at, "eight.tsv", tsv(made_up_pairs(8)))
    assert translate("s2sp.train.few_pairs", lang, count=8, least=200) in texts(at.warning)
