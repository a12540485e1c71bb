"""The app on a free loopback port for the load and byte benchmarks (python -m ui.launch), and
its memory: what bench.classroom and bench.byte_ratio start and measure."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import psutil

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_for(stack: contextlib.ExitStack, url: str | None, pid: int | None) -> tuple[str, int | None]:
    """(url, pid) of the server to measure: `url` (loopback only) or one started in `stack`."""
    url, pid = (url, pid) if url else stack.enter_context(local_server())
    if not url.startswith(("http://127.0.0.1", "http://localhost")):
        raise SystemExit("loopback only: --url must be http://127.0.0.1:PORT")
    return url, pid


@contextlib.contextmanager
def local_server(port: int | None = None, log: str | None = None,
                 timeout: float = 120.0) -> Iterator[tuple[str, int]]:
    """Start `python -m ui.launch` on loopback; yields (base url, server pid); stops it after."""
    port = port or free_port()
    out = open(log or os.devnull, "w")
    cmd = [sys.executable, "-m", "ui.launch", "--server.port", str(port), "--server.headless",
           "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start (exit {proc.poll()}); see {log}")
                time.sleep(0.3)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()


def rss_mb(pid: int | None) -> float | None:
    """Resident memory of the server process in MB (None without a pid)."""
    if pid is None:
        return None
    try:
        return psutil.Process(pid).memory_info().rss / 2**20
    except psutil.Error:
        return None
