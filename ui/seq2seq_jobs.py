"""Background seq2seq training for the "Train your own" page: one training job at a time per server
(or Ray tasks, at most K at once across a school's cluster: ui.jobs.run_body).

    job = start_job(session_id(), pairs, settings)   # UserFacingError("s2sp.busy") if busy
    REGISTRY.job_for(sid); REGISTRY.beat(sid); REGISTRY.cancel(sid)  # see ui.jobs.JobRegistry

A job trains a fresh model in a daemon thread (never a cached shared translator), records
progress and, after every epoch, the watched sentence's translation and alignment. ui.jobs
does the rest: the one slot shared with fine-tuning, cancelling, and stopping the job once
its page stops refreshing the heartbeat. The page's opening view (what the untrained model
does) is cached in ui.loaders (`untrained_snapshot`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lmcore.inference.job_bodies import MAX_MINUTES, Settings, seq2seq_progress
from lmcore.translation.training import Progress
from ui import jobs

SAMPLE = Path(__file__).resolve().parent.parent / "lmcore" / "assets" / "pairs" / "en-fr-sample.tsv"
MAX_SAVED = 10         # trained folders kept on disk per server (oldest deleted)


@dataclass(eq=False)
class Job(jobs.Job):
    """A training run; steps: {"x", "loss"}, epochs: {"epoch", "val_loss"}."""

    settings: Settings
    pairs: list
    snapshots: list[dict] = field(default_factory=list)  # {"epoch", "output", "weights" (T, S) | None}
    source_tokens: list[str] = field(default_factory=list)


def start_job(session: str, pairs: list, settings: Settings) -> Job:
    """Start training in a daemon thread; UserFacingError("s2sp.busy") while any job runs."""
    return REGISTRY.start(session, settings=settings, pairs=list(pairs))


def _on_progress(job: Job, p: Progress) -> bool:
    """One progress report into the job (embedded path): its steps, epochs and latest report."""
    return seq2seq_progress(jobs.job_reporter(REGISTRY, job, lambda q: _on_progress(job, q)), p)


def _run(job: Job) -> None:
    """lmcore.inference.job_bodies.seq2seq_body, here or as a Ray task; the model saved here."""
    jobs.run_and_save(REGISTRY, job, lambda p: _on_progress(job, p), "attnlab-seq2seq-",
                      pairs=job.pairs, settings=job.settings, max_minutes=MAX_MINUTES)


REGISTRY: jobs.JobRegistry[Job] = jobs.JobRegistry("seq2seq", Job, _run, busy_key="s2sp.busy", max_saved=MAX_SAVED)


# ---------------------------------------------------------------- the page's opening view
def sample_bytes() -> bytes:
    """The bundled sample of 400 English-French pairs (lmcore/assets/pairs), as an upload's bytes."""
    return SAMPLE.read_bytes()

