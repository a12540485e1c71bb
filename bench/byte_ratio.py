"""Bytes a step or a picker makes the server send ÷ the bytes of the page's first run (issue 12 item 3).

    nice -n 5 python -m bench.byte_ratio [--url http://127.0.0.1:PORT] [--json out.json]

Each case opens its page in a fresh session (bench.ws_client.Session, the browser's protocol and
its message cache, so unchanged large elements come back as ref_hash as they do in a browser),
then does one action and counts the ForwardMsg bytes until script_finished:
  steps  Translation step by step: one keyboard step (→ is the "next" button's shortcut)
  bert   BERT: the head picker, head 0 -> 1
  gpt    GPT (?tokens=5): one keyboard step back in the generated-steps picker, and the "Step" button
  tf     Transformer: one keyboard step (→)
Target: <= 20 % each (tests/test_ws_client.py checks the cases that meet it). What every rerun
costs, fragment or not: Streamlit's new_session message (~1.9 kB with this app's page list on a
full run; ~0.26 kB on a fragment run, whose page list and installation ids ui/lean_session.py
leaves out), script_finished and page_info (~0.2 kB), and ~75 bytes of hashes and path in every
message, so each block a fragment holds costs ~130 bytes; then the view's own controls and
figures (ui/wire.py sends those lighter: attention maps as whole percents, one byte a cell).
Bytes are the uncompressed payloads (the WebSocket may deflate them).
--dump lists each step's messages (element kind, widget key, bytes), largest first.
Elements of 10 kB and more that the client already holds cost a few bytes (ref_hash); --no-cache
shows what the same step costs without that cache.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from pathlib import Path

from bench.local_server import server_for
from bench.ws_client import Session

TARGET = 0.20
# name -> (page url path, query, action, widget key, argument)
CASES: dict[str, tuple[str, str, str, str, int]] = {
    "steps: keyboard step": ("translate-steps", "", "click", "s2sp_step_next", 0),
    "bert: head picker": ("bert", "show=head", "pick", "lmp_bert_head", 1),  # the one-head view
    "gpt: step picker (keyboard)": ("gpt", "tokens=5", "click", "lmp_gpt_step_pick_back", 0),
    "gpt: Step button": ("gpt", "tokens=5", "click", "lmp_gpt_step", 0),
    "tf: keyboard step": ("transformer", "", "click", "tf_step_next", 0),
}


async def measure(url: str, name: str, cache: bool = True) -> dict:
    """First-run bytes and one action's bytes (and seconds) for one case."""
    page, query, action, key, arg = CASES[name]
    async with Session(url, cache=cache) as s:
        first = await s.open(page, query)
        row = {"case": name, "first_bytes": first.bytes, "first_s": first.seconds}
        try:
            act = await (s.pick(key, arg) if action == "pick" else s.click(key))
        except KeyError:
            return row | {"error": f"no widget {key!r} on {page}", "keys": sorted(s.keys())}
        again = await (s.pick(key, arg + 1) if action == "pick" else s.click(key))
    failed = [r.status for r in (first, act, again) if r.failed]
    return row | {"parts": act.parts, "first_parts": first.parts,
                  "step_bytes": act.bytes, "step_s": act.seconds, "again_bytes": again.bytes,
                  "ratio": act.bytes / first.bytes, "again_ratio": again.bytes / first.bytes,
                  "error": ", ".join(failed) or None}


async def measure_all(url: str, names: list[str], cache: bool = True) -> list[dict]:
    return [await measure(url, name, cache) for name in names]


def print_rows(rows: list[dict]) -> None:
    print(f"{'case':<30}{'first run B':>13}{'step B':>10}{'ratio':>8}{'2nd':>8}{'step s':>8}  target")
    for r in rows:
        if "ratio" not in r:
            print(f"{r['case']:<30}{r['first_bytes']:>13}  {r['error']}")
            continue
        ok = "met" if r["ratio"] <= TARGET else "not met"
        print(f"{r['case']:<30}{r['first_bytes']:>13}{r['step_bytes']:>10}{r['ratio']:>8.1%}"
              f"{r['again_ratio']:>8.1%}{r['step_s']:>8.2f}  <= {TARGET:.0%} {ok}"
              + (f"  ({r['error']})" if r.get("error") else ""))


def print_parts(rows: list[dict], top: int = 40) -> None:
    """Each case's step, message by message (largest first): what the bytes are."""
    for r in rows:
        if "parts" not in r:
            continue
        print(f"\n{r['case']}: {r['step_bytes']} B in {len(r['parts'])} messages")
        for what, size in sorted(r["parts"], key=lambda p: -p[1])[:top]:
            print(f"  {size:>8}  {what}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="a server already running on loopback (else one is started)")
    p.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    p.add_argument("--no-cache", action="store_true",
                   help="a client without the browser's message cache (every element resent)")
    p.add_argument("--dump", action="store_true", help="print each step's messages, largest first")
    p.add_argument("--json", help="write the rows here")
    a = p.parse_args(argv)
    with contextlib.ExitStack() as stack:
        url, _ = server_for(stack, a.url, None)
        rows = asyncio.run(measure_all(url, a.cases, not a.no_cache))
    print_rows(rows)
    if a.dump:
        print_parts(rows)
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
