"""Load and overhead of the school layout (bounded, loopback only).

    # 1. page reruns: p50/p95 of a BERT-page rerun with S sessions at once, per server
    python -m bench.school_load pages --url embedded=http://127.0.0.1:8651 \
        --url school=http://127.0.0.1:8660 --sessions 1 10 30 --reruns 2
    # 2. one model call: ms and bytes added by going through Serve (same process, interleaved)
    python -m bench.school_load calls --serve http://127.0.0.1:8665
    # 3. memory: resident set of each Streamlit replica and each Serve replica
    python -m bench.school_load memory --pids 1234 --school-run /tmp/attnlab-school-8660

Sessions speak Streamlit's own protocol (bench/ws_client.py, no browser). Each rerun types a
sentence no session typed before, so every rerun makes a model call (no cache hit). Bounded:
at most 40 sessions, 5 reruns, `--action-timeout` seconds per action; a timed-out action counts
as failed. Ratios against the embedded run of the same invocation are what to read.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

MAX_SESSIONS, MAX_RERUNS = 40, 5
TEXT = "Session {s} asks, in round {r}, whether the cat that sat on mat {s} was happy."


def _session_class():
    try:
        from bench.ws_client import Session  # the classroom benchmark's protocol client
    except ImportError:
        try:
            from ws_client import Session  # the same file on PYTHONPATH
        except ImportError as error:
            raise SystemExit(f"bench/ws_client.py is needed for 'pages' ({error})") from None
    return Session


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] if ordered else float("nan")


async def one_student(url: str, s: int, reruns: int, timeout: float) -> tuple[list[float], int]:
    """Open the BERT page, then `reruns` new sentences: (rerun seconds, failed actions)."""
    Session = _session_class()
    times, failed = [], 0
    try:
        async with Session(url, timeout=timeout) as session:
            first = await session.open("bert", f"text=Student+{s}+opens+the+page.")
            if first.failed or "lmp_bert_a" not in session.keys():
                return times, 1 + reruns
            for r in range(reruns):
                result = await session.set("lmp_bert_a", TEXT.format(s=s, r=r))
                failed += result.failed
                if not result.failed:
                    times.append(result.seconds)
    except Exception:  # noqa: BLE001 - a dropped connection: count what did not finish
        return times, max(1, reruns - len(times))
    return times, failed


async def wave(url: str, sessions: int, reruns: int, timeout: float) -> dict:
    start = time.perf_counter()
    results = await asyncio.gather(*(one_student(url, s, reruns, timeout) for s in range(sessions)))
    times = [t for ts, _ in results for t in ts]
    return {"sessions": sessions, "reruns": len(times), "failed": sum(f for _, f in results),
            "p50_s": percentile(times, 0.5), "p95_s": percentile(times, 0.95),
            "wall_s": time.perf_counter() - start}


def pages(args) -> None:
    sessions = [min(MAX_SESSIONS, n) for n in args.sessions]
    reruns = min(MAX_RERUNS, args.reruns)
    targets = dict(u.split("=", 1) for u in args.url)
    print(f"{'server':10} {'sessions':>8} {'reruns':>6} {'failed':>6} {'p50 s':>8} {'p95 s':>8} {'wall s':>7}")
    base: dict[int, float] = {}
    for n in sessions:
        for name, url in targets.items():
            asyncio.run(wave(url, 1, 1, args.action_timeout))  # warm: models loaded, page compiled
            row = asyncio.run(wave(url, n, reruns, args.action_timeout))
            base.setdefault(n, row["p50_s"])
            print(f"{name:10} {n:8d} {row['reruns']:6d} {row['failed']:6d} {row['p50_s']:8.2f} "
                  f"{row['p95_s']:8.2f} {row['wall_s']:7.1f}   p50 x{row['p50_s'] / base[n]:.2f}", flush=True)


def calls(args) -> None:
    """ms and bytes per call: embedded vs Serve, interleaved rounds in this process."""
    from bench.common import interleaved_samples
    from lmcore.inference import codec
    from lmcore.inference.embedded import Embedded
    from lmcore.inference.serve_client import ServeBackend

    import torch

    torch.set_num_threads(1)  # as each Serve replica (ATTN_LAB_SERVE_THREADS=1)
    local, remote = Embedded(), ServeBackend(args.serve)
    cases = {"attention": (args.model, TEXT.format(s=1, r=1), None, 64),
             "fill_mask": ("minilm-mlm", "The cat sat on the [MASK].", 5),
             "generation": ("minilm-gpt", "The cat", 8, 10, 1.0, 0)}
    print(f"{'call':12} {'embedded ms':>11} {'serve ms':>9} {'added ms':>9} {'wire bytes':>10} {'numpy bytes':>11}")
    for call, case in cases.items():
        samples = interleaved_samples({"embedded": lambda: getattr(local, call)(*case),
                                       "serve": lambda: getattr(remote, call)(*case)},
                                      repeats=args.repeats, warmup=2)
        e, s = statistics.median(samples["embedded"]) * 1e3, statistics.median(samples["serve"]) * 1e3
        value = getattr(local, call)(*case)
        arrays = _array_bytes(value)
        print(f"{call:12} {e:11.1f} {s:9.1f} {s - e:9.1f} {len(codec.dumps(value)):10d} {arrays:11d}")


def _array_bytes(value: object) -> int:
    import dataclasses

    import numpy as np

    if isinstance(value, np.ndarray):
        return value.nbytes
    if dataclasses.is_dataclass(value):
        return sum(_array_bytes(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, dict):
        return sum(_array_bytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_array_bytes(v) for v in value)
    return 0


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def memory(args) -> None:
    """RSS (MB) of given pids, the school's Streamlit replicas and every Serve replica."""
    rows = [(f"pid {p}", p) for p in args.pids]
    if args.school_run:
        for f in sorted(Path(args.school_run).glob("replica-*.pid")):
            rows.append((f"streamlit {f.stem}", int(f.read_text())))
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "ServeReplica" in cmd or "ServeController" in cmd or "ProxyActor" in cmd:
                rows.append((cmd.split()[0][:40], int(proc.name)))
    for name, pid in rows:
        print(f"{name:42} {pid:8d} {_rss_mb(pid):8.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("pages")
    p.add_argument("--url", action="append", required=True, help="name=http://127.0.0.1:PORT")
    p.add_argument("--sessions", type=int, nargs="+", default=[1, 10, 30])
    p.add_argument("--reruns", type=int, default=2)
    p.add_argument("--action-timeout", type=float, default=180.0)
    c = sub.add_parser("calls")
    c.add_argument("--serve", required=True)
    c.add_argument("--model", default="all-MiniLM-L6-v2")
    c.add_argument("--repeats", type=int, default=15)
    m = sub.add_parser("memory")
    m.add_argument("--pids", type=int, nargs="*", default=[])
    m.add_argument("--school-run", default=None)
    args = parser.parse_args()
    {"pages": pages, "calls": calls, "memory": memory}[args.what](args)


if __name__ == "__main__":
    main()
