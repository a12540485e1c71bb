"""Training jobs as Ray tasks (issue 15), on test_school's local Ray cluster of ONE training slot (K=1).

Collected by tests/test_school.py, which imports these tests so that they reuse its cluster
(one Ray start for every Ray test) and run before its last test stops Ray.

ATTN_LAB_INFERENCE names a model server, so ui.jobs sends every started job to Ray
(lmcore.inference.ray_training): a tiny fine-tune reports its progress from the task and comes
back as a model folder here; a second job waits queued (the page says so, Cancel works while it
waits) and starts once the first ends; Cancel reaches a running task; a cluster without
training slots is a translated message.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from lmcore import inference
from lmcore.errors import UserFacingError
from lmcore.i18n import translate
from lmcore.pretrained.classifier import load_classifier
from lmcore.pretrained.finetune import FinetuneConfig, is_finetuned_folder
from lmcore.pretrained.tasks import make_set
from tests.page_support import ran_cleanly, texts
from tests.test_finetune import make_tiny_bert, sentiment_texts
from tests.test_page_train_seq2seq import made_up_pairs, open_page, start_button, tsv, upload_tsv
from ui import finetune_jobs, seq2seq_jobs

WAIT = 300.0  # seconds at most for anything a busy 2-core machine does here


@pytest.fixture
def on_ray(serve_app, monkeypatch):
    """A school deployment: ATTN_LAB_INFERENCE set, so jobs train on test_school's Ray cluster."""
    monkeypatch.setenv(inference.ENV, "http://127.0.0.1:1")
    yield serve_app


def wait_until(condition, what: str, limit: float = WAIT) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.05)


@contextmanager
def pages_open(registry, *sessions: str) -> Iterator[None]:
    """The sessions' pages stay open meanwhile: their jobs' heartbeat, every 0.5 s."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(0.5):
            for session in sessions:
                registry.beat(session)
    beater = threading.Thread(target=beat, daemon=True)
    beater.start()
    try:
        yield
    finally:
        done.set()
        beater.join()


def test_a_tiny_fine_tune_runs_as_a_ray_task_and_comes_back_as_a_model_folder(on_ray, monkeypatch, tmp_path):
    def not_here(job, p):
        raise AssertionError("the fine-tune ran in the UI process")
    monkeypatch.setattr(finetune_jobs, "_on_progress", not_here)  # the embedded path's progress hook
    monkeypatch.setattr(finetune_jobs, "HEAD_CHANGE_SENTENCES", 8)
    # enough steps (8 epochs) that the page sees the job between its first and last report: the
    # worker has every module imported before it trains, and 10 steps of a tiny BERT finished
    # within one 0.5 s poll
    data = make_set("toy", *sentiment_texts(160))
    epochs = 8
    config = FinetuneConfig(model=make_tiny_bert(tmp_path / "tiny"), epochs=epochs, batch_size=8, max_length=16,
                            threads=1)
    job = finetune_jobs.start_job("ray-ft", data, config)
    live_steps = []
    deadline = time.monotonic() + WAIT
    with pages_open(finetune_jobs.REGISTRY, "ray-ft"):
        while job.running and time.monotonic() < deadline:
            if job.state == "training":
                live_steps.append(len(job.steps))
            time.sleep(0.05)
    assert job.state == "done", (job.state, job.error, job.failure)
    assert live_steps and min(live_steps) < len(job.steps), "progress reached the page while it trained"
    per_epoch = -(-len(data.train) // 8)
    assert len(job.steps) == epochs * per_epoch and [e["epoch"] for e in job.epochs] == list(range(1, epochs + 1))
    assert job.result.stopped == "finished" and job.change is not None
    assert is_finetuned_folder(job.folder) and Path(job.folder).parent == finetune_jobs.session_models_dir("ray-ft")
    assert load_classifier(job.folder).label_names == data.label_names
    finetune_jobs.REGISTRY.forget("ray-ft")


def ended(job) -> bool:
    return not job.thread.is_alive()


def test_with_one_slot_the_second_job_waits_queued_then_runs(on_ray):
    with pages_open(seq2seq_jobs.REGISTRY, "first", "second"):
        first = seq2seq_jobs.start_job("first", made_up_pairs(400), seq2seq_jobs.Settings(hidden=32, epochs=30))
        wait_until(lambda: first.state == "training", "the first job to train")
        second = seq2seq_jobs.start_job("second", made_up_pairs(60), seq2seq_jobs.Settings(hidden=32, epochs=1))
        wait_until(lambda: second.state == "queued", "the second job to queue", 60)
        time.sleep(1.0)  # and it stays queued while the first trains
        assert second.state == "queued" and second.running and not seq2seq_jobs.REGISTRY.server_busy("third")
        with pytest.raises(UserFacingError) as caught:  # one job per session, running or queued
            finetune_jobs.start_job("first", make_set("toy", *sentiment_texts(20)), FinetuneConfig())
        assert caught.value.key == "school.jobs.one_per_session"
        asked = time.monotonic()
        seq2seq_jobs.REGISTRY.cancel("first")
        wait_until(lambda: ended(first), "the first job to stop")
        stopped_after = time.monotonic() - asked
        wait_until(lambda: ended(second), "the second job to end")
    print(f"Cancel of a running Ray task: the job ended {stopped_after:.2f} s after the click")
    assert first.state == "cancelled" and first.folder is None and first.result.epochs_run < 30
    assert stopped_after < 30, f"Cancel took {stopped_after:.1f} s to reach the task"
    assert second.state == "done", (second.state, second.error, second.failure)
    assert (Path(second.folder) / "config.json").is_file() and len(second.snapshots) == 2
    for sid in ("first", "second"):
        seq2seq_jobs.REGISTRY.forget(sid)


def test_the_page_says_a_queued_job_waits_for_a_slot_and_cancel_works_meanwhile(on_ray):
    with pages_open(seq2seq_jobs.REGISTRY, "someone-else"):
        other = seq2seq_jobs.start_job("someone-else", made_up_pairs(400), seq2seq_jobs.Settings(hidden=32, epochs=30))
        wait_until(lambda: other.state == "training", "the other session's job to train")
        at = upload_tsv(open_page("ko"), "count.tsv", tsv(made_up_pairs(60)))
        at.selectbox(key="s2sp_hidden").set_value(32)
        ran_cleanly(start_button(at).click().run())
        wait_until(lambda: translate("school.jobs.queued", "ko") in texts(at.run().info), "the queued notice", 60)
        at.button(key="s2sp_cancel").click().run()
        assert translate("jobs.cancelling", "ko") in texts(at.info)
        wait_until(lambda: not at.run().get("progress"), "the queued job to be dropped", 60)
        assert translate("s2s.train.cancelled", "ko") in texts(at.warning) and other.state == "training"
        seq2seq_jobs.REGISTRY.cancel("someone-else")
        wait_until(lambda: ended(other), "the other job to stop")
    assert other.state == "cancelled"
    seq2seq_jobs.REGISTRY.forget("someone-else")


def test_a_cluster_without_training_slots_is_a_translated_message(on_ray, monkeypatch):
    from lmcore.inference import ray_training

    monkeypatch.setattr(ray_training, "RESOURCE", "attnlab_training_not_declared")
    job = seq2seq_jobs.start_job("no-slots", made_up_pairs(60), seq2seq_jobs.Settings(hidden=32, epochs=1))
    wait_until(lambda: ended(job), "the job to fail")
    assert job.state == "failed" and job.error.key == "school.err.no_training_slots"
    assert "attnlab_training_not_declared" in job.error.message("ko")
    seq2seq_jobs.REGISTRY.forget("no-slots")
