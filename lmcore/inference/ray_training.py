"""Training jobs as Ray tasks, at most K at once across the cluster (issue 15).

    write = run("finetune", {"data": data, "config": config}, report)   # in the job's thread
    if write is not None:
        write(folder)     # the model the task trained, written on this (the UI replica's) machine

Imported only when ATTN_LAB_INFERENCE names a model server (ui.jobs.run_body), so the default
app never imports Ray. The cap: every task asks for one unit of the custom resource
`attnlab_training`, which `ray start --resources '{"attnlab_training": K}'` declares
(scripts/school.sh --training-slots K, default 2; on several machines the cap is the sum over
the machines that declare it). A task beyond K waits in Ray's queue; its job's state is
"queued" until the task starts ("waiting for a free training slot" on the page).

Progress and Cancel: each job has a small `Channel` actor. The task (`_task`, the same
lmcore.inference.job_bodies body as the embedded path) pushes its reports there at most
every PUSH_S and learns from the answer whether the job was cancelled; the job's thread in
the UI replica polls it every POLL_S, applies the reports to the Job the pages read and
passes Cancel on (a queued task is simply removed from the queue). The trained model's
files come back as bytes in the task's result (the UI replica may be another machine).
"""
from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ray
import torch

from lmcore.errors import UserFacingError
from lmcore.inference import address
from lmcore.inference.job_bodies import BODIES, PROGRESS, Writer

RESOURCE = "attnlab_training"
ADDRESS_ENV = "ATTN_LAB_RAY_ADDRESS"    # the Ray cluster for training (default: from ATTN_LAB_INFERENCE)
DEFAULT_CLIENT_PORT = 10001             # Ray Client's default port on the head
POLL_S = 0.5                            # the UI side asks the channel this often
PUSH_S = 0.25                           # the task sends its reports at most this often
_init_lock = threading.Lock()


class _Channel:
    """One job's mailbox between its task and its thread in the UI replica."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, Any]] = []
        self.cancelled = False
        self.started = False

    def begin(self) -> bool:
        """The task got its slot; returns whether the job was cancelled meanwhile."""
        self.started = True
        return self.cancelled

    def push(self, events: list) -> bool:
        self.events.extend(events)
        return self.cancelled

    def exchange(self, cancel: bool) -> tuple[list, bool]:
        """(the reports since the last call, whether the task started); records a Cancel."""
        self.cancelled = self.cancelled or cancel
        events, self.events = self.events, []
        return events, self.started


Channel = ray.remote(num_cpus=0, max_restarts=0)(_Channel)


class ChannelReporter:
    """A job_bodies.Reporter inside the Ray task: reports go to the job's channel."""

    def __init__(self, channel, kind: str) -> None:
        self.channel, self.kind = channel, kind
        self.stop = threading.Event()
        self._events: list[tuple[str, str, Any]] = []
        self._pushed = 0.0

    def begin(self) -> bool:
        if ray.get(self.channel.begin.remote()):
            self.stop.set()
        return self.stop.is_set()

    def set(self, **fields: Any) -> None:
        self._events.extend(("set", name, value) for name, value in fields.items())

    def append(self, name: str, item: Any) -> None:
        self._events.append(("append", name, item))

    def flush(self) -> None:
        events, self._events = self._events, []
        if ray.get(self.channel.push.remote(events)):
            self.stop.set()
        self._pushed = time.monotonic()

    def keep_going(self) -> bool:
        if time.monotonic() - self._pushed >= PUSH_S:
            self.flush()
        return not self.stop.is_set()

    def progress(self, p: Any) -> bool:
        return PROGRESS[self.kind](self, p)


def _folder_files(folder: str) -> dict[str, bytes]:
    """{relative path: bytes} of every file under `folder`."""
    root = Path(folder)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _task(kind: str, inputs: dict, channel) -> dict:
    """Runs on a Ray worker holding one training slot: {"files"} | {"cancelled"} | {"error"} | {"failure"}."""
    torch.set_num_threads(1)  # the task holds one CPU (a fine-tune's config may ask for more:
    if getattr(inputs.get("config"), "threads", None):  # that was the UI replica's guess)
        inputs = {**inputs, "config": dataclasses.replace(inputs["config"], threads=1)}
    report = ChannelReporter(channel, kind)
    if report.begin():
        return {"cancelled": True}
    report.set(state="preparing")  # the slot is ours: no longer "queued"
    report.flush()
    try:
        write = BODIES[kind](report, **inputs)
    except UserFacingError as error:
        report.flush()
        return {"error": (error.key, dict(error.params))}
    except Exception as error:  # noqa: BLE001 - the page shows the type only, as embedded
        report.flush()
        return {"failure": type(error).__name__}
    report.flush()
    if write is None:
        return {"cancelled": True}
    with tempfile.TemporaryDirectory(prefix="attnlab-train-") as folder:
        write(folder)
        return {"files": _folder_files(folder)}


train_task = ray.remote(num_cpus=1, max_retries=0)(_task)


# ---------------------------------------------------------------- the UI replica's side
def ray_address() -> str:
    """ATTN_LAB_RAY_ADDRESS, else the ray:// inference address, else ray://SERVE_HOST:10001."""
    explicit = os.environ.get(ADDRESS_ENV, "").strip()
    if explicit:
        return explicit
    serve = address() or ""
    if serve.startswith("ray://"):
        return serve
    return f"ray://{urlsplit(serve).hostname or '127.0.0.1'}:{DEFAULT_CLIENT_PORT}"


def connect() -> None:
    """Join the Ray cluster once per process (a driver that already runs Ray is reused)."""
    with _init_lock:
        if ray.is_initialized():
            return
        where = ray_address()
        try:
            ray.init(address=where, namespace="serve", logging_level=logging.WARNING)
        except Exception:  # noqa: BLE001 - refused, timed out, bad token: all "cannot train now"
            raise UserFacingError("school.err.training_unreachable", address=where) from None


def _apply(report, events: list) -> None:
    for action, name, value in events:
        if action == "set":
            report.set(**{name: value})
        else:
            report.append(name, value)


def run(kind: str, inputs: dict, report) -> Writer | None:
    """Train `kind` as a Ray task with one training slot; reports reach `report` as they come."""
    connect()
    if ray.cluster_resources().get(RESOURCE, 0) < 1:
        raise UserFacingError("school.err.no_training_slots", resource=RESOURCE)
    channel = Channel.remote()
    ref = train_task.options(resources={RESOURCE: 1}).remote(kind, inputs, channel)
    report.set(state="queued")
    try:
        outcome = _follow(ref, channel, report)
    except (ConnectionError, SystemExit):  # Ray went away under us (a core worker shutting
        # down raises SystemExit): the job fails with a message, never hangs
        raise UserFacingError("school.err.training_unreachable", address=ray_address()) from None
    finally:
        if ray.is_initialized():  # never let a call auto-start a new local Ray
            ray.kill(channel)
    if outcome is None or outcome.get("cancelled"):
        report.set(state="cancelled")
        return None
    if "error" in outcome:
        key, params = outcome["error"]
        raise UserFacingError(key, **params)
    if "failure" in outcome:
        report.set(failure=outcome["failure"], state="failed")
        return None
    files = outcome["files"]
    return lambda folder: _write_files(files, folder)


def _follow(ref, channel, report) -> dict | None:
    """Poll until the task ends: its result, or None once a job cancelled while queued is dropped."""
    while True:
        if not ray.is_initialized():
            raise ConnectionError("Ray shut down")
        done, _ = ray.wait([ref], timeout=POLL_S)
        cancel = not report.keep_going()
        events, started = ray.get(channel.exchange.remote(cancel))
        _apply(report, events)
        if done:
            return ray.get(ref)
        if cancel and not started:
            ray.cancel(ref)
            return None


def _write_files(files: dict[str, bytes], folder: str) -> None:
    """The task's files under `folder` (relative paths only: nothing outside it)."""
    root = Path(folder).resolve()
    for name, data in files.items():
        path = (root / name).resolve()
        if root not in path.parents:
            raise ValueError(f"refusing to write {name!r} outside the model folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
