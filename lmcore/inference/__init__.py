"""Where model calls run: `backend()` -> `Embedded` (this process) or `ServeBackend` (Ray Serve).

Chosen by the ATTN_LAB_INFERENCE environment variable:
- unset, "" or "embedded": this process, today's lmcore functions (the default);
- "http://HOST:PORT": Ray Serve's HTTP address (deploy/serve_app.py);
- "ray://HOST:PORT": the Ray Client address of the cluster running that Serve app.
Both backends offer the same calls with the same results (`embedded.CALLS`). A malformed
value raises UserFacingError("school.err.bad_address"). Ray is imported only by the Serve
backend's ray:// transport, so the default app and CLI never import it.
"""
from __future__ import annotations

import os
from functools import lru_cache
from typing import Callable
from urllib.parse import urlsplit

from lmcore.errors import UserFacingError
from lmcore.inference.calls import CALLS
from lmcore.inference.embedded import Embedded
from lmcore.inference.serve_client import ServeBackend

ENV = "ATTN_LAB_INFERENCE"
__all__ = ["CALLS", "ENV", "address", "backend", "check"]


def address() -> str | None:
    """The Serve address from ATTN_LAB_INFERENCE, or None for the embedded backend."""
    value = os.environ.get(ENV, "").strip()
    if value.lower() in ("", "embedded"):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise UserFacingError("school.err.bad_address", value=value) from None
    if parts.scheme not in ("http", "https", "ray") or not parts.hostname or port is None:
        raise UserFacingError("school.err.bad_address", value=value)
    return value.rstrip("/")


@lru_cache(maxsize=4)
def _serve(value: str):
    return ServeBackend(value)


def backend(models: Callable | None = None, translators: Callable | None = None):
    """The backend ATTN_LAB_INFERENCE names; `models`/`translators` feed the embedded one."""
    value = address()
    if value is not None:
        return _serve(value)
    return Embedded(models, translators)


def check() -> str | None:
    """Start-up check: None when embedded; the address when Serve answers; else UserFacingError."""
    value = address()
    if value is None:
        return None
    if not _serve(value).ping():
        raise UserFacingError("school.err.unreachable", address=value)
    return value
