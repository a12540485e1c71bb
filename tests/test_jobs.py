"""ui.jobs: one training slot shared by registries, atomic starts, heartbeat, cancel, forget (no models)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lmcore.errors import UserFacingError
from ui import jobs
from ui.jobs import JobRegistry, TrainingSlot

WAIT = 10.0  # seconds a test waits for a thread at most (the jobs themselves take milliseconds)


@dataclass(eq=False)
class ToyJob(jobs.Job):
    release: threading.Event = field(default_factory=threading.Event)
    outcome: str = "done"               # done | user-error | crash


@dataclass(eq=False)
class SlowToyJob(ToyJob):
    def __post_init__(self) -> None:
        time.sleep(0.02)  # made between the busy check and the job's registration: a race would win here


def toy_registry(kind: str, slot: TrainingSlot, end: threading.Event | None = None, job_type: type = ToyJob,
                 **kwargs) -> JobRegistry[ToyJob]:
    """Jobs that train until released (or `end` is set), cancelled or abandoned (no heartbeat)."""
    end = end or threading.Event()

    def run(job: ToyJob) -> None:
        job.state = "training"
        while not (job.release.wait(0.005) or end.is_set()):
            if not reg.keep_going(job):
                job.state = "cancelled"
                return
        if job.outcome == "user-error":
            raise UserFacingError("ft.busy")
        if job.outcome == "crash":
            raise ValueError("boom")
        job.state = "done"

    reg = JobRegistry(kind, job_type, run, busy_key=f"{kind}.busy", slot=slot, **kwargs)
    return reg


@pytest.fixture
def pair():
    """Two registries ("a" and "b") sharing a private slot; every job they ran ends with the test."""
    slot, end = TrainingSlot(), threading.Event()
    regs = [toy_registry(kind, slot, end) for kind in "ab"]
    yield regs
    end.set()
    for reg in regs:
        for job in list(reg._running):
            job.thread.join(WAIT)


def finish(job: ToyJob) -> ToyJob:
    job.release.set()
    job.thread.join(WAIT)
    assert not job.thread.is_alive()
    return job


def test_one_slot_is_shared_by_two_registries(pair):
    a, b = pair
    job = a.start("alice")
    assert a.busy("bob") and not a.busy("alice") and not b.busy()
    assert a.server_busy("bob") and not a.server_busy("alice")  # alice watches her own job
    assert b.server_busy("alice") and b.server_busy("bob")       # any job of another kind blocks
    for reg, session in ((a, "alice"), (a, "bob"), (b, "alice"), (b, "bob")):
        with pytest.raises(UserFacingError) as caught:
            reg.start(session)
        assert caught.value.key == f"{reg.kind}.busy"
    assert a.job_for("alice") is job and a.job_for("bob") is None and b.job_for("bob") is None
    assert finish(job).state == "done" and not a.server_busy("bob") and not b.server_busy("bob")
    other = b.start("bob")  # the slot is free again, for either registry
    assert other.id == 1 and b.job_for("bob") is other and a.server_busy("alice")


def test_starts_are_atomic_under_contention():
    slot, end = TrainingSlot(), threading.Event()
    a, b = (toy_registry(kind, slot, end, SlowToyJob) for kind in "ab")
    barrier = threading.Barrier(12)
    won: list[ToyJob] = []
    refused: list[str] = []

    def click(reg: JobRegistry, session: str) -> None:
        barrier.wait()
        try:
            won.append(reg.start(session))
        except UserFacingError as error:
            refused.append(error.key)

    threads = [threading.Thread(target=click, args=((a, b)[i % 2], f"s{i}")) for i in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(WAIT)
    end.set()
    won[0].thread.join(WAIT)
    assert len(won) == 1 and len(refused) == 11
    assert set(refused) <= {"a.busy", "b.busy"}


def test_a_page_that_stops_beating_stops_its_job(pair):
    a, _ = pair
    a.stale_seconds = 0.05
    job = a.start("gone")
    job.thread.join(WAIT)
    assert job.state == "cancelled" and job.stop.is_set() and not a.busy()


def test_beating_keeps_a_job_alive():
    reg = toy_registry("solo", TrainingSlot(), stale_seconds=5.0)
    job = ToyJob(1, "here")
    reg._latest["here"] = job
    job.heartbeat -= 10  # no beat for 10 s
    reg.beat("here")
    assert reg.keep_going(job) and not job.stop.is_set()
    job.heartbeat -= 10
    assert not reg.keep_going(job) and job.stop.is_set()


def test_cancel_stops_only_the_sessions_running_job(pair):
    a, _ = pair
    a.cancel("nobody")  # no job: nothing happens
    job = a.start("alice")
    a.cancel("bob")
    assert not job.stop.is_set()
    a.cancel("alice")
    job.thread.join(WAIT)
    assert job.state == "cancelled" and not a.busy() and not a.server_busy("bob")
    a.cancel("alice")  # already over: still fine


def test_a_finished_job_is_handed_over_once_then_forgotten(pair):
    a, _ = pair
    job = a.start("alice")
    assert a.running("alice") and a.take_finished("alice") is None  # still running
    finish(job)
    assert not a.running("alice") and a.job_for("alice") is job
    assert a.take_finished("alice") is job and a.take_finished("alice") is None
    assert a.job_for("alice") is None
    again = finish(a.start("alice"))
    a.forget("alice")
    assert again.id == 2 and a.job_for("alice") is None


def test_unclaimed_finished_jobs_are_forgotten_at_the_next_start(pair):
    a, _ = pair
    old = finish(a.start("left"))
    old.heartbeat -= jobs.FORGET_AFTER + 1
    recent = finish(a.start("still-here"))
    finish(a.start("third"))
    assert a.job_for("left") is None and a.job_for("still-here") is recent


@pytest.mark.parametrize("outcome,state,error,failure", [("user-error", "failed", "ft.busy", None),
                                                         ("crash", "failed", None, "ValueError")])
def test_failures_are_kept_as_a_message_or_a_type_name(pair, outcome, state, error, failure):
    a, _ = pair
    job = finish(a.start("alice", outcome=outcome))
    assert job.state == state and job.failure == failure
    assert (job.error.key if job.error else None) == error
    assert not a.busy() and not a.server_busy("bob")


def test_only_the_newest_saved_folders_are_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs.tempfile, "tempdir", str(tmp_path))
    reg = toy_registry("saver", TrainingSlot(), max_saved=2)
    folders = [reg.save_folder("t-", lambda f: (Path(f) / "model.bin").write_bytes(b"1")) for _ in range(4)]
    assert [Path(f).exists() for f in folders] == [False, False, True, True]
    assert (Path(folders[-1]) / "model.bin").read_bytes() == b"1"


def test_the_occupied_hook_holds_the_slot_for_its_block(pair):
    a, b = pair
    with a.occupied("someone-else") as placeholder:
        assert placeholder.running and a.busy("me") and b.server_busy("me")
        with pytest.raises(UserFacingError):
            b.start("me")
    assert not a.busy() and not b.server_busy("me")
    placeholder.thread.join(WAIT)
    assert not placeholder.thread.is_alive()


def test_session_id_outside_a_script_run():
    assert jobs.session_id() == "no-session"
