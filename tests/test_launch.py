"""Start-up makes no outside request and says how a class connects (issue 25, item 6)."""
from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from lmcore.i18n import translate

ROOT = Path(__file__).resolve().parent.parent


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def _record(self) -> None:
        _Recorder.seen.append(f"{self.command} {self.path}")
        self.send_response(502)
        self.end_headers()

    do_GET = do_CONNECT = do_POST = do_HEAD = _record

    def log_message(self, *args) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_until_ready(port: int, env: dict, *extra: str, while_up=None) -> str:
    proc = subprocess.Popen([sys.executable, "-m", "ui.launch", "--server.port", str(port), *extra],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(2)  # the banner is printed once the server listens
        if while_up is not None:
            while_up()
    finally:
        proc.terminate()
    out, _ = proc.communicate(timeout=30)
    return out


def test_a_start_asks_nothing_outside_and_prints_where_to_connect():
    _Recorder.seen = []
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    address = f"http://127.0.0.1:{proxy.server_address[1]}"
    env = os.environ | {"HTTP_PROXY": address, "HTTPS_PROXY": address, "http_proxy": address,
                        "https_proxy": address, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    port = _free_port()
    try:
        out = _serve_until_ready(port, env)
    finally:
        proxy.shutdown()
    assert _Recorder.seen == [], f"start-up asked outside: {_Recorder.seen}"
    assert "External URL" not in out and "Did not auto detect" not in out
    assert f"http://localhost:{port}" in out
    for lang in ("en", "ko"):
        assert translate("school.launch.network", lang, network="X").split("X")[0] in out


def test_loopback_only_says_so():
    port = _free_port()
    out = _serve_until_ready(port, dict(os.environ), "--server.address", "127.0.0.1")
    assert translate("school.launch.only_here", "en") in out and translate("school.launch.only_here", "ko") in out


def test_a_long_shared_link_reaches_the_app():
    """A 100 KB `text=` link opens the page (the app then says the text is too long for a
    link); the HTTP parser refused it before the app ran. Past 1 MB it is still refused."""
    port, codes = _free_port(), {}

    def ask() -> None:
        for n in (100_000, 2_000_000):
            try:
                codes[n] = urllib.request.urlopen(f"http://127.0.0.1:{port}/bert?text={'a' * n}", timeout=30).status
            except urllib.error.HTTPError as error:
                codes[n] = error.code
            except OSError:
                codes[n] = "refused"
    _serve_until_ready(port, dict(os.environ), "--server.address", "127.0.0.1", while_up=ask)
    assert codes[100_000] == 200 and codes[2_000_000] != 200
