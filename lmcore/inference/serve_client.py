"""The Serve backend: the same calls as `Embedded`, run by Ray Serve (deploy/serve_app.py).

Two ways in, both carrying `lmcore.inference.codec` JSON (exact numbers, no pickle):
- `http://HOST:PORT` — Serve's HTTP proxy; POST {prefix}/{call}, the text in the body only
  (never in the URL, so no access log carries it);
- `ray://HOST:PORT` — the Ray Client; a handle to the same ingress (imports ray lazily).

Faults: a failed call is retried once (a killed Serve replica is replaced, and Serve routes
the retry to a live one). When the server does not answer, calls fail fast for a short
while (`COOL_DOWN_S`) with a translated UserFacingError, so no page waits on a dead server.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from lmcore.errors import UserFacingError
from lmcore.inference import codec
from lmcore.inference.calls import CALLS

log = logging.getLogger(__name__)
APP_NAME = "attention_lab"
ROUTE_PREFIX = "/attnlab"
CONNECT_TIMEOUT_S = float(os.environ.get("ATTN_LAB_INFERENCE_CONNECT_TIMEOUT", "3"))
CALL_TIMEOUT_S = float(os.environ.get("ATTN_LAB_INFERENCE_TIMEOUT", "120"))
COOL_DOWN_S = 10.0


class ServerDown(Exception):
    """The server did not answer (refused, reset, timed out): worth one retry."""


def raise_remote_error(body: dict) -> None:
    """Re-raise the server's UserFacingError (same key and params) on this side."""
    error = body.get("error")
    if error is not None:
        raise UserFacingError(error["key"], **codec.from_wire(error.get("params") or {"__d__": []}))


class _HttpTransport:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def call(self, method: str, payload: bytes, timeout: float) -> bytes:
        request = urllib.request.Request(f"{self.base}{ROUTE_PREFIX}/{method}", data=payload,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read()
        except urllib.error.HTTPError as error:  # 5xx: a replica died mid-request; 404: no app
            raise ServerDown(f"HTTP {error.code}") from None
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            raise ServerDown(type(error).__name__) from None

    def ping(self, timeout: float) -> bool:
        """Whether the Serve proxy answers and routes our app."""
        try:
            with urllib.request.urlopen(f"{self.base}/-/routes", timeout=timeout) as response:
                return ROUTE_PREFIX in json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, TimeoutError, ValueError):
            return False


class _RayTransport:
    def __init__(self, address: str) -> None:
        self.address = address
        self._handle = None
        self._lock = threading.Lock()

    def _get(self):
        with self._lock:
            if self._handle is None:
                # Ray is heavy and only on the school stack: the default app and CLI never load it
                import ray
                from ray import serve

                if not ray.is_initialized():
                    ray.init(address=self.address, namespace="serve", logging_level=logging.WARNING)
                self._handle = serve.get_app_handle(APP_NAME)
            return self._handle

    def call(self, method: str, payload: bytes, timeout: float) -> bytes:
        try:
            return self._get().call.remote(method, payload).result(timeout_s=timeout)
        except Exception as error:  # noqa: BLE001 - ray raises many types; all mean "not now"
            self._handle = None
            raise ServerDown(type(error).__name__) from None

    def ping(self, timeout: float) -> bool:
        try:
            return self.call("ping", b"{}", timeout) == b'"pong"'
        except ServerDown:
            return False


class ServeBackend:
    """`Embedded`'s calls, forwarded to Ray Serve; results decoded number for number."""

    name = "serve"

    def __init__(self, address: str) -> None:
        self.address = address
        self._transport = _RayTransport(address) if address.startswith("ray://") else _HttpTransport(address)
        self._down_until = 0.0

    def ping(self, timeout: float = CONNECT_TIMEOUT_S) -> bool:
        return self._transport.ping(timeout)

    def _call(self, method: str, args: dict[str, Any]) -> Any:
        if time.monotonic() < self._down_until:
            raise UserFacingError("school.err.unreachable", address=self.address)
        payload = codec.dumps(args)
        for attempt in (1, 2):
            try:
                raw = self._transport.call(method, payload, CALL_TIMEOUT_S)
                break
            except ServerDown as error:
                log.warning("inference call %s failed (%s), attempt %d", method, error, attempt)
                if attempt == 2:
                    if not self._transport.ping(CONNECT_TIMEOUT_S):
                        self._down_until = time.monotonic() + COOL_DOWN_S
                        raise UserFacingError("school.err.unreachable", address=self.address) from None
                    raise UserFacingError("school.err.failed", address=self.address) from None
        body = json.loads(raw.decode("utf-8"))
        raise_remote_error(body)
        return codec.from_wire(body["ok"])

    def __getattr__(self, method: str):
        if method not in CALLS:
            raise AttributeError(method)
        names = CALLS[method]

        def forward(*args: Any, **kwargs: Any) -> Any:
            bound = dict(zip(names, args))
            bound.update(kwargs)
            return self._call(method, bound)

        forward.__name__ = method
        return forward
