"""The Streamlit side of a background job (ui.jobs), shared by the training pages.

    running = job_status(jobs.REGISTRY, sid, t("ft.busy"))   # says so when the server is busy
    start(lambda: jobs.start_job(sid, data, config))           # then reruns, or warns "busy"
    job_section(jobs.REGISTRY, sid, view, running)             # live view, or the outcome once

While the session's job runs (or waits queued for a training slot of a school's Ray cluster,
which it then says), a fragment refreshes every second: it is the job's heartbeat,
shows the progress bar, the live curves and a cancel button ("cancelling…" right after the
click, until the job's current step ends), and reruns the whole page when the job ends. The finished job is then handed to the page's `view.keep` once (cancelled and
failed jobs are reported here).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import plotly.graph_objects as go
import streamlit as st

from lmcore.errors import UserFacingError
from ui.export_widgets import chart
from ui.i18n import error_text, t
from ui.jobs import JobRegistry
from ui.file_names import export_stem


@dataclass(frozen=True)
class JobView:
    """How one page shows its kind of job (texts already translated)."""

    key: str                                         # widget keys: f"{key}_cancel", f"{key}_live_curves"
    progress: Callable[[Any], tuple[float, str]]     # job -> (fraction done 0..1, progress-bar text)
    figure: Callable[[Any], go.Figure]               # job -> its live curves
    cancel: str                                      # the cancel button's label
    leave_note: str                                  # under the button: leaving the page stops the job
    cancelled: str                                   # shown once after a cancelled job
    failed: Callable[[str | None], str]              # exception type name -> message of a failed job
    keep: Callable[[Any], None]                      # called once with a finished ("done") job
    cancelling: str = ""                             # shown at once after Cancel (default: jobs.cancelling)
    page: str = ""                                   # the page, in export file names (default: key)


def fraction_done(progress: Any, epochs: int) -> float:
    """How far a run is (0..1), from a report with .epoch (from 1), .step and .total steps per epoch."""
    done = ((progress.epoch - 1) * progress.total + progress.step) / (progress.total * epochs)
    return min(done, 1.0)


def job_status(registry: JobRegistry, sid: str, busy_text: str) -> bool:
    """Whether this session's job runs; when it does not and the server is busy, says so."""
    running = registry.running(sid)
    if not running and registry.server_busy(sid):
        st.info(busy_text)
    return running


def start(launch: Callable[[], Any]) -> None:
    """Start a job and rerun the page (it then shows the job running), or warn that the server is busy."""
    try:
        launch()
    except UserFacingError as error:
        st.warning(error_text(error))
        return
    st.rerun()


def job_section(registry: JobRegistry, sid: str, view: JobView, running: bool) -> None:
    """The running job's live view, or else the finished job's outcome (once)."""
    if running:
        live_job(registry, sid, view)
    else:
        adopt_finished(registry, sid, view)


@st.fragment(run_every=1.0)
def live_job(registry: JobRegistry, sid: str, view: JobView) -> None:
    """Refreshed every second while the job runs; also the job's heartbeat."""
    registry.beat(sid)
    job = registry.job_for(sid)
    if job is None or not job.running:
        st.rerun()
    if job.state == "queued":  # a Ray task waiting for one of the cluster's K training slots
        st.info(t("school.jobs.queued"), icon=":material/schedule:")
    done, text = view.progress(job)
    st.progress(done, text=text)
    chart(view.figure(job), key=f"{view.key}_live_curves",
          filename=export_stem(view.page or view.key, None, "live-curves"))
    # The click's callback sets the stop flag before this rerun of the fragment, so the notice
    # shows at once; the job stops at the end of its current step.
    st.button(view.cancel, key=f"{view.key}_cancel", on_click=registry.cancel, args=(sid,),
              disabled=job.stop.is_set())
    if job.stop.is_set():
        st.info(view.cancelling or t("jobs.cancelling"), icon=":material/hourglass_top:")
    st.caption(view.leave_note)


def adopt_finished(registry: JobRegistry, sid: str, view: JobView) -> None:
    """The session's finished job, taken once: reports a cancelled or failed one, keeps a done one."""
    job = registry.take_finished(sid)
    if job is None:
        return
    if job.state == "cancelled":
        st.warning(view.cancelled)
    elif job.state == "failed":
        st.error(error_text(job.error) if job.error else view.failed(job.failure))
    else:
        view.keep(job)
