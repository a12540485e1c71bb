"""Start the app on a free localhost port and drive Debian's Chromium with Playwright,
every request outside localhost blocked (the page must work with the network cut)."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


def chromium_available() -> bool:
    return shutil.which(CHROMIUM) is not None or Path(CHROMIUM).exists()


def require_browser() -> None:
    """At a browser test module's top: skip it without Chromium or Playwright, except in CI
    (CI=true), where a missing Chromium is a failure."""
    import pytest

    if not chromium_available():
        if os.environ.get("CI"):
            raise RuntimeError(f"Chromium not found at {CHROMIUM}: the browser test must run in CI")
        pytest.skip("Chromium is not installed", allow_module_level=True)
    pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(timeout: float = 90.0):
    """Yield the base URL of `streamlit run app.py` on a free port."""
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    log = open(ARTIFACTS / "server.log", "w") if ARTIFACTS.exists() else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.launch", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("the app did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


# Streamlit's root (stApp) carries data-test-script-state ("initial" before the first run ends,
# then running / notRunning / rerunRequested ...) and data-test-connection-state.
_IDLE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && !!document.querySelector('[data-testid="stMain"]')
    && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]');
}"""
LOAD_QUIET_S = 0.5    # after a page load: the run that ended is the page's own
ACTION_QUIET_S = 1.5  # after a click or key: room for the rerun to start on a busy machine

_PROBE_404 = "Failed to load resource: the server responded with a status of 404 (Not Found)"


def _is_base_path_probe(url: str) -> bool:
    """Streamlit's front end first looks for its server under the page's own path
    (/<page>/_stcore/health) before the root: those 404s are expected."""
    path = urlparse(url).path
    return path.endswith(("/_stcore/health", "/_stcore/host-config")) and not path.startswith("/_stcore")


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in {"data", "blob", "about"} or parsed.hostname in LOCAL_HOSTS


class OfflinePage:
    """A Playwright page that blocks non-local requests and records problems."""

    def __init__(self, browser, viewport: dict | None = None):
        self.context = browser.new_context(viewport=viewport or {"width": 1400, "height": 1000},
                                           locale="en-US")
        self.blocked: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.on("response", self._response)
        self.failed_responses: list[str] = []
        self.benign_404s = 0

    def reset(self) -> None:
        """Blank the tab and forget what it recorded, to reuse it for another page (a new load
        is a new Streamlit session; the browser keeps its compiled scripts)."""
        self.page.goto("about:blank")
        for seen in (self.blocked, self.console_errors, self.page_errors, self.dialogs,
                     self.failed_responses):
            seen.clear()
        self.benign_404s = 0

    def __enter__(self) -> "OfflinePage":
        return self

    def __exit__(self, *exc) -> None:
        self.context.close()

    def _route(self, route):
        if is_local(route.request.url):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _console(self, message):
        if message.type == "error":
            self.console_errors.append(message.text)

    def _response(self, response):
        if response.status >= 400:
            if response.status == 404 and _is_base_path_probe(response.url):
                self.benign_404s += 1
            else:
                self.failed_responses.append(f"{response.status} {response.url}")

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, url: str, timeout: float = 180.0) -> None:
        """Load `url` and wait until its first script run has finished (see `wait_until_idle`)."""
        self.page.goto(url, wait_until="domcontentloaded")
        self.wait_until_idle(timeout=timeout, quiet=LOAD_QUIET_S)

    def wait_until_idle(self, timeout: float = 90.0, quiet: float = ACTION_QUIET_S) -> None:
        """Wait until Streamlit has finished running the script: its root says connected and
        `notRunning` (a fresh page says `initial` until its first run ends), and no status widget
        or skeleton, for `quiet` seconds in a row. After a click or a key press the rerun may
        not have reached the server yet, hence the longer default."""
        deadline = time.monotonic() + timeout
        quiet_since = None
        while time.monotonic() < deadline:
            if self._idle():
                now = time.monotonic()
                quiet_since = now if quiet_since is None else quiet_since
                if now - quiet_since >= quiet:
                    return
            else:
                quiet_since = None
            time.sleep(0.1)
        raise TimeoutError("the page kept running")

    def _idle(self) -> bool:
        try:
            return bool(self.page.evaluate(_IDLE_JS))
        except Exception:  # a navigation replaced the document: not idle yet
            return False

    def problems(self) -> list[str]:
        page = self.page
        found = []
        for selector, what in [('[data-testid="stException"]', "exception"),
                               ('[data-testid="stAlertContentError"]', "error element")]:
            for text in page.locator(selector).all_inner_texts():
                found.append(f"{what}: {text[:300]}")
        for chart in page.locator('[data-testid="stPlotlyChart"]').all():
            if chart.locator(".main-svg").count() == 0:
                found.append("a plotly chart did not render")
        found += [f"failed response: {m}" for m in self.failed_responses]
        errors = list(self.console_errors)
        for _ in range(self.benign_404s):  # the browser logs each probe's 404 once
            if _PROBE_404 in errors:
                errors.remove(_PROBE_404)
        found += [f"console error: {m}" for m in errors]
        found += [f"page error: {m}" for m in self.page_errors]
        found += [f"dialog opened: {m}" for m in self.dialogs]
        return found
