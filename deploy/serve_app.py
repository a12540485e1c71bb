"""Ray Serve application: the app's model calls (lmcore.inference.CALLS) behind one deployment.

Each replica runs `lmcore.inference.Embedded` (the same code as the default app) with its own
model cache. Requests arrive as codec JSON, over HTTP (POST /attnlab/<call>, the text only in
the body) or through a handle (`call(method, payload)`, used by ray://). Attention calls, the
BERT page's hot path, go through `@serve.batch`: identical requests waiting together (a class
typing the teacher's sentence) are computed once; the rest run one by one, so every result
equals the embedded one number for number (no padding inside a batch).

Deploy onto a running cluster (what scripts/school.sh does):
    python -m deploy.serve_app --ray-address auto --http-port 8665 --replicas 2
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import threading

from ray import serve
from starlette.requests import Request
from starlette.responses import Response

from lmcore.errors import UserFacingError
from lmcore.inference import codec
from lmcore.inference.calls import CALLS
from lmcore.inference.embedded import Embedded
from lmcore.inference.serve_client import APP_NAME, ROUTE_PREFIX


def run_call(backend: Embedded, method: str, payload: bytes) -> bytes:
    """One call: {"ok": result} or {"error": {key, params}} as codec JSON bytes."""
    if method == "ping":
        return b'"pong"'
    if method not in CALLS:
        return json.dumps({"error": {"key": "school.err.unknown_call",
                                     "params": codec.to_wire({"call": method})}}).encode()
    args = codec.loads(payload) or {}
    try:
        value = getattr(backend, method)(**{k: v for k, v in args.items() if k in CALLS[method]})
    except UserFacingError as error:  # bad input: the client shows it translated
        return json.dumps({"error": {"key": error.key, "params": codec.to_wire(dict(error.params))}}).encode()
    return b'{"ok":' + json.dumps(codec.to_wire(value), ensure_ascii=False,
                                  separators=(",", ":")).encode("utf-8") + b"}"


@serve.deployment(ray_actor_options={"num_cpus": 0.5}, max_ongoing_requests=16,
                  health_check_period_s=2, health_check_timeout_s=10)
class Models:
    """Every call of lmcore.inference.CALLS: attention records, fill-mask, NSP, next token,
    generation, translation, head report, the inside-a-generating-model pages, Your sentences."""

    def __init__(self) -> None:
        import torch

        torch.set_num_threads(int(os.environ.get("ATTN_LAB_SERVE_THREADS", "1")))
        self.backend = Embedded()
        # One call at a time per replica: transformers' model loading is not thread-safe
        # (a model half built on the meta device), and a one-thread replica gains nothing
        # from interleaving CPU-bound calls. Parallelism comes from replicas (one per core).
        self._lock = threading.Lock()

    def _run(self, method: str, payload: bytes) -> bytes:
        with self._lock:
            return run_call(self.backend, method, payload)

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.01)
    async def _attention(self, payloads: list[bytes]) -> list[bytes]:
        """A batch of attention calls; duplicates computed once (results are read-only)."""
        unique = {p: None for p in payloads}
        for p in unique:
            unique[p] = await asyncio.to_thread(self._run, "attention", p)
        return [unique[p] for p in payloads]

    async def call(self, method: str, payload: bytes) -> bytes:
        """The handle entry point (ray:// clients and other deployments)."""
        if method == "attention":
            return await self._attention(payload)
        return await asyncio.to_thread(self._run, method, payload)

    async def __call__(self, request: Request) -> Response:
        """HTTP entry point: POST /attnlab/<call> with a codec JSON body."""
        method = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        body = await self.call(method, await request.body())
        return Response(body, media_type="application/json")


def build(replicas: int = 2):
    """The bound application (replicas of `Models`)."""
    return Models.options(num_replicas=replicas).bind()


def deploy(replicas: int, http_port: int, host: str = "127.0.0.1") -> None:
    """Start Serve's HTTP proxy on host:http_port and (re)deploy the app, not blocking."""
    serve.start(http_options={"host": host, "port": http_port})
    serve.run(build(replicas), name=APP_NAME, route_prefix=ROUTE_PREFIX, blocking=False)


def main() -> None:
    parser = argparse.ArgumentParser(description="Deploy Attention Lab's models on Ray Serve")
    parser.add_argument("--ray-address", default="auto")
    parser.add_argument("--http-host", default="127.0.0.1", help="127.0.0.1 unless several machines")
    parser.add_argument("--http-port", type=int, default=8665)
    parser.add_argument("--replicas", type=int, default=2)
    args = parser.parse_args()
    import ray

    ray.init(address=args.ray_address, namespace="serve", logging_level=logging.WARNING)
    deploy(args.replicas, args.http_port, args.http_host)
    print(f"Serve: http://{args.http_host}:{args.http_port}{ROUTE_PREFIX} ({args.replicas} replicas)")


if __name__ == "__main__":
    main()
