"""Background training jobs: one `JobRegistry` per kind of job, one training slot per server
(embedded), or Ray tasks with at most K running across the cluster (ATTN_LAB_INFERENCE set).

    REGISTRY = JobRegistry("finetune", Job, run, busy_key="ft.busy")   # Job: a subclass of ui.jobs.Job
    job = REGISTRY.start(session_id(), data=data, config=config)  # UserFacingError("ft.busy")
    REGISTRY.job_for(sid); REGISTRY.beat(sid); REGISTRY.cancel(sid); REGISTRY.take_finished(sid)

Registries are module-level objects, shared by every session of this server process. All
registries join one `TrainingSlot` (SLOT): at most one job runs per server, across the app
(fine-tuning and seq2seq training). The slot's lock makes "is anything running?" and the
start one atomic step, so two sessions clicking "start" on two pages cannot both win.
Lock order: the slot's lock, then a registry's own lock.

A job runs `run(job)` in a daemon thread. `run` reports progress into the job and asks
`keep_going(job)` at each step: False once the owner cancelled, or once the owner's page
stopped refreshing the heartbeat (`beat`) for `stale_seconds` (the user left the page,
closed the tab, or the session ended). A UserFacingError from `run` fails the job with that
message; any other exception fails it with the exception's type name only.

Where a job trains (`run_body`): with ATTN_LAB_INFERENCE unset, in its thread here; when it
names a model server, as a Ray task (lmcore.inference.ray_training) that the thread follows,
copying the task's reports into the same Job. Then the server's one slot does not apply:
the cluster caps running jobs at K, a job beyond K is "queued" ("waiting for a free training
slot"), and a session may have one job running or queued at a time.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Callable, Generic, Iterator, TypeVar

from streamlit.runtime.scriptrunner import get_script_run_ctx

from lmcore import inference
from lmcore.errors import UserFacingError
from lmcore.inference.job_bodies import BODIES, AttributeReporter, Writer

STALE_SECONDS = 30.0        # no heartbeat for this long: the page is gone, the job stops
MAX_SAVED = 10              # model folders kept on disk per registry (oldest deleted)
FORGET_AFTER = 3600.0       # finished jobs nobody picked up for this long are forgotten
RUNNING_STATES = ("queued", "preparing", "training", "analysing")  # queued: waits for a Ray training slot


@dataclass(eq=False)
class Job:
    """What every job has; a kind of job subclasses it with what it trains on and produces."""

    id: int
    session: str
    _: KW_ONLY
    stop: threading.Event = field(default_factory=threading.Event)
    state: str = "preparing"          # (queued |) preparing | training | analysing | done | cancelled | failed
    steps: list[dict] = field(default_factory=list)    # per training step, {"x": fractional epoch, ...}
    epochs: list[dict] = field(default_factory=list)   # per epoch, {"epoch", "val_loss", ...}
    last: Any = None                  # the latest progress report
    result: Any = None
    folder: str | None = None         # the saved model
    error: UserFacingError | None = None
    failure: str | None = None        # exception type name of an unexpected failure
    heartbeat: float = field(default_factory=time.monotonic)
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES


J = TypeVar("J", bound=Job)


class TrainingSlot:
    """One running job at a time across every registry that joins this slot."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._registries: dict[str, JobRegistry] = {}

    def join(self, registry: JobRegistry) -> None:
        self._registries[registry.kind] = registry  # a reloaded module replaces its old registry

    def busy(self, session: str | None, own: JobRegistry) -> bool:
        """Another session's job of `own` kind, or any job of another kind, is running."""
        return any(r.busy(session if r is own else None) for r in list(self._registries.values()))

    def occupied(self, session: str | None = None) -> bool:
        """Any live job in any registry (of `session` only, when given). Call with `lock` held."""
        return any(r._any_alive(session) for r in list(self._registries.values()))


SLOT = TrainingSlot()


class JobRegistry(Generic[J]):
    """The jobs of one kind: running ones, the latest per session, saved model folders."""

    def __init__(self, kind: str, job_type: type[J], run: Callable[[J], None], busy_key: str,
                 slot: TrainingSlot = SLOT, stale_seconds: float = STALE_SECONDS,
                 max_saved: int = MAX_SAVED) -> None:
        self.kind, self.job_type, self.run, self.busy_key = kind, job_type, run, busy_key
        self.slot, self.stale_seconds, self.max_saved = slot, stale_seconds, max_saved
        self._lock = threading.Lock()
        self._running: list[Job] = []       # at most one across the slot
        self._latest: dict[str, J] = {}     # session id -> its latest job
        self._saved: list[str] = []         # folders, oldest first
        self._counter = 0
        slot.join(self)

    # ------------------------------------------------------------ starting
    def start(self, session: str, **fields: Any) -> J:
        """Make `job_type(id, session, **fields)` and run it in a daemon thread.

        UserFacingError(busy_key) while any job of the slot runs (this session's too); on Ray,
        UserFacingError("school.jobs.one_per_session") while this session's own job runs.
        """
        with self.slot.lock:  # the check and the start, atomic across registries
            if remote_training():
                if self.slot.occupied(session):
                    raise UserFacingError("school.jobs.one_per_session")
            elif self.slot.occupied():
                raise UserFacingError(self.busy_key)
            with self._lock:
                self._forget_unclaimed()
                self._counter += 1
                job = self.job_type(self._counter, session, **fields)
                job.thread = threading.Thread(target=self._run, args=(job,), name=f"{self.kind}-{job.id}",
                                              daemon=True)
                self._running.append(job)
                self._latest[session] = job
            job.thread.start()  # inside the slot: a not-yet-started thread would look dead to a rival start
        return job

    def _run(self, job: J) -> None:
        try:
            self.run(job)
        except UserFacingError as error:
            job.error, job.state = error, "failed"
        except Exception as error:  # shown as its type only, never a traceback
            job.failure, job.state = type(error).__name__, "failed"
        finally:
            with self._lock:
                if job in self._running:
                    self._running.remove(job)

    def _any_alive(self, session: str | None = None) -> bool:
        """Drop jobs that ended (or whose thread died), then say whether any (of `session`) is left."""
        with self._lock:
            self._running[:] = [j for j in self._running
                                if j.running and j.thread is not None and j.thread.is_alive()]
            return any(session is None or j.session == session for j in self._running)

    def _forget_unclaimed(self) -> None:
        """Forget finished jobs nobody picked up for FORGET_AFTER (their sessions are gone)."""
        now = time.monotonic()
        for sid, job in list(self._latest.items()):
            if not job.running and now - job.heartbeat > FORGET_AFTER:
                del self._latest[sid]

    # ------------------------------------------------------------ what pages ask
    def busy(self, session: str | None = None) -> bool:
        """True when a job of another session (any session when None) is running."""
        with self._lock:
            return any(j.running and j.session != session for j in self._running)

    def server_busy(self, session: str | None = None) -> bool:
        """True when `session` cannot start a job: another session's, or any other kind's, runs.
        Never on Ray: a job beyond the cluster's K training slots waits queued instead."""
        return not remote_training() and self.slot.busy(session, self)

    def job_for(self, session: str) -> J | None:
        with self._lock:
            return self._latest.get(session)

    def running(self, session: str) -> bool:
        job = self.job_for(session)
        return job is not None and job.running

    def forget(self, session: str) -> None:
        with self._lock:
            self._latest.pop(session, None)

    def take_finished(self, session: str) -> J | None:
        """The session's job once it has ended, handed over once (then forgotten); else None."""
        with self._lock:
            job = self._latest.get(session)
            if job is None or job.running:
                return None
            del self._latest[session]
            return job

    def beat(self, session: str) -> None:
        """The page is still open: keep its job alive."""
        job = self.job_for(session)
        if job is not None:
            job.heartbeat = time.monotonic()

    def cancel(self, session: str) -> None:
        job = self.job_for(session)
        if job is not None and job.running:
            job.stop.set()

    # ------------------------------------------------------------ what a job's thread asks
    def keep_going(self, job: Job) -> bool:
        """False once the job was cancelled or its page stopped beating (it is then stopped)."""
        if time.monotonic() - job.heartbeat > self.stale_seconds:
            job.stop.set()
        return not job.stop.is_set()

    def save_folder(self, prefix: str, write: Callable[[str], None], parent: str | None = None) -> str:
        """A new temporary folder (inside `parent` if given) filled by `write(folder)`; only the
        newest `max_saved` are kept."""
        if parent is not None:
            os.makedirs(parent, mode=0o700, exist_ok=True)
        folder = tempfile.mkdtemp(prefix=prefix, dir=parent)
        write(folder)
        with self._lock:
            self._saved.append(folder)
            old = self._saved[:-self.max_saved]
            del self._saved[:-self.max_saved]
        for path in old:
            shutil.rmtree(path, ignore_errors=True)
        return folder

    # ------------------------------------------------------------ test hook
    @contextmanager
    def occupied(self, session: str = "someone-else") -> Iterator[Job]:
        """Test hook: inside the block a placeholder job of `session` is running here (live thread)."""
        release = threading.Event()
        job = Job(0, session, state="training", thread=threading.Thread(target=release.wait, daemon=True))
        job.thread.start()
        with self._lock:
            self._running.append(job)
        try:
            yield job
        finally:
            release.set()
            with self._lock:
                if job in self._running:
                    self._running.remove(job)


def remote_training() -> bool:
    """Whether jobs train as Ray tasks (ATTN_LAB_INFERENCE names a model server)."""
    return inference.address() is not None


def job_reporter(registry: JobRegistry, job: Job, progress: Callable[[Any], bool]) -> AttributeReporter:
    """What a job body reports to here: `job`'s attributes, `registry.keep_going(job)`, `progress(p)`."""
    return AttributeReporter(job, lambda: registry.keep_going(job), job.stop, progress)


def run_body(registry: JobRegistry, job: Job, progress: Callable[[Any], bool], **inputs: Any) -> Writer | None:
    """Train `job` with lmcore.inference.job_bodies.BODIES[registry.kind]: in this thread, or as a
    Ray task (remote_training()). Reports land in `job`; `progress(p)` records one progress report.
    Returns what writes the trained model into a folder, or None (cancelled or failed)."""
    report = job_reporter(registry, job, progress)
    if remote_training():
        from lmcore.inference import ray_training  # Ray: only on a school deployment

        return ray_training.run(registry.kind, inputs, report)
    return BODIES[registry.kind](report, **inputs)


def run_and_save(registry: JobRegistry, job: Job, progress: Callable[[Any], bool], prefix: str,
                 parent: str | None = None, **inputs: Any) -> None:
    """run_body, then the trained model written into a new folder (`prefix`, inside `parent`
    if given) and the job done; nothing is saved for a cancelled or failed job."""
    write = run_body(registry, job, progress, **inputs)
    if write is None:
        return
    job.folder = registry.save_folder(prefix, write, parent=parent)
    job.state = "done"


def session_id() -> str:
    """The current Streamlit session's id ("no-session" outside a script run)."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else "no-session"
