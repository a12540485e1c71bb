"""Memory soak (issue 16 item 7): one session reruns the BERT page with a new sentence each time.

    nice -n 5 python -m bench.soak [--reruns 300] [--seconds 1800] [--warmup 30] [--url ... --pid ...]

Starts its own server on a free loopback port (or uses --url with its --pid), opens the BERT
page, then types a new ~16-token sentence into its text area --reruns times (bench.ws_client,
Streamlit's own protocol). The server's RSS is read every --every reruns. Prints the curve,
the growth after warm-up (RSS at the end ÷ RSS after the first --warmup reruns, when the caches
have filled) and the RSS --after seconds after the session closed. Target: < 10 % after warm-up.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from pathlib import Path
from urllib.parse import quote_plus

from bench.local_server import rss_mb, server_for
from bench.ws_client import Session

TARGET = 0.10
ADJECTIVES = "small quiet bright old young clever tired happy busy brave".split()
NOUNS = "fox teacher robot river farmer poem bridge singer garden planet".split()


def sentence(k: int) -> str:
    """A new sentence for rerun k (about 16 tokens; no two the same)."""
    a, n, m = ADJECTIVES[k % 10], NOUNS[(k // 10) % 10], NOUNS[(k // 100 + k) % 10]
    return f"On day {k} the {a} {n} looked at the {m} and smiled {k % 13} times."


async def soak(url: str, pid: int | None, reruns: int, seconds: float, every: int,
               after: float) -> dict:
    curve: list[tuple[int, float | None]] = [(0, rss_mb(pid))]
    failed = lost = 0
    deadline = time.monotonic() + seconds
    async with Session(url) as s:
        first = await s.open("bert", "text=" + quote_plus(sentence(0)))
        curve.append((0, rss_mb(pid)))  # after the first run: the models are loaded
        failed += first.failed
        done = 0
        for k in range(1, reruns + 1):
            if time.monotonic() > deadline:
                break
            text = sentence(k)
            r = await s.set("lmp_bert_a", text)
            failed += r.failed
            lost += s.query("text") != text
            done = k
            if k % every == 0:
                curve.append((k, rss_mb(pid)))
                print(f"rerun {k:>4}: {curve[-1][1] or 0:.0f} MB ({r.seconds:.2f} s)", flush=True)
        if done % every:
            curve.append((done, rss_mb(pid)))
    closed = rss_mb(pid)
    await asyncio.sleep(after)
    return {"reruns": done, "curve": curve, "failed": failed, "texts_lost": lost,
            "rss_closed_mb": closed, "rss_after_close_mb": rss_mb(pid), "after_s": after}


def growth(run: dict, warmup: int) -> dict:
    """Growth from the start (after the first run) and after warm-up, as fractions."""
    points = [(k, mb) for k, mb in run["curve"][1:] if mb is not None]
    if len(points) < 2:
        return {}
    start, end = points[0][1], points[-1][1]
    warm = next((mb for k, mb in points if k >= warmup), start)
    return {"start_mb": start, "warm_mb": warm, "end_mb": end, "total": end / start - 1,
            "after_warmup": end / warm - 1}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reruns", type=int, default=300)
    p.add_argument("--seconds", type=float, default=1800.0, help="bound on the reruns")
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--every", type=int, default=10)
    p.add_argument("--after", type=float, default=10.0, help="seconds to wait after closing")
    p.add_argument("--url", help="a server already running on loopback (else one is started)")
    p.add_argument("--pid", type=int, help="its process id (with --url)")
    p.add_argument("--json", help="write the curve here")
    a = p.parse_args(argv)
    with contextlib.ExitStack() as stack:
        url, pid = server_for(stack, a.url, a.pid)
        run = asyncio.run(soak(url, pid, a.reruns, a.seconds, a.every, a.after))
    g = growth(run, a.warmup)
    print(f"\n{run['reruns']} reruns, {run['failed']} failed, {run['texts_lost']} texts lost")
    if g:
        print(f"RSS after the first run {g['start_mb']:.0f} MB, after {a.warmup} reruns "
              f"{g['warm_mb']:.0f} MB, at the end {g['end_mb']:.0f} MB: {g['total']:+.1%} in all, "
              f"{g['after_warmup']:+.1%} after warm-up (target < {TARGET:.0%}: "
              f"{'met' if g['after_warmup'] < TARGET else 'not met'})")
        print(f"session closed: {run['rss_closed_mb']:.0f} MB, {run['after_s']:.0f} s later "
              f"{run['rss_after_close_mb']:.0f} MB")
    if a.json:
        Path(a.json).write_text(json.dumps({**run, "growth": g}, indent=1))


if __name__ == "__main__":
    main()
