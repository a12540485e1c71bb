"""Benchmark: the BERT page run headless (AppTest, one process) vs MiniLM's bare forward pass.

    nice -n 10 python -m bench.page_runs [--rounds 12] [--tokens 16] [--threads 1]

Each round types a new sentence of exactly --tokens tokens (never seen before, so nothing is
cached) and times, on the wall clock (the page runs in AppTest's script thread):
  forward    bare `model.base_model(**enc, output_attentions=True)` on that sentence
  first run  the page's run after the sentence is typed (default view: all heads)
  head view  a thumbnail click opening one head large (a full rerun)
  head change  the head picker moved (in the browser a fragment rerun; AppTest reruns the
             whole script, so this is an upper bound)
Printed: medians of per-round ratios  first run ÷ forward (target <= 20; before issue 12
about 180), head change ÷ first run, head view ÷ first run.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "bert.py")
MODEL = "all-MiniLM-L6-v2"
TARGET = 20.0
WORDS = ("river window teacher bright small garden quickly music paper silver morning "
         "mountain yellow stories gentle orange village market winter coffee listen "
         "painted students careful ocean travel dinner singing forest engine").split()


def sentence(tokenizer, n_tokens: int, rng: random.Random) -> str:
    """A fresh sentence of random words that tokenises to exactly n_tokens (specials included)."""
    words: list[str] = []
    while len(tokenizer(" ".join(words))["input_ids"]) < n_tokens:
        words.append(rng.choice(WORDS))
    while len(tokenizer(" ".join(words))["input_ids"]) > n_tokens:
        words.pop()
    return " ".join(words)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for the page and the reference alike (busy machine: 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from streamlit.testing.v1 import AppTest

    from lmcore.pretrained.loading import load_model

    lm = load_model(MODEL)
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.query_params["lang"] = "en"
    at.run()  # warm-up: imports, model load, first figures
    assert not at.exception, [e.value for e in at.exception]
    rng = random.Random(0)
    rows = []
    for i in range(args.rounds + 1):
        text = sentence(lm.tokenizer, args.tokens, rng)
        enc = lm.tokenizer(text, return_tensors="pt")

        def forward():
            with torch.inference_mode():
                lm.model.base_model(**enc, output_attentions=True)

        fwd = statistics.median(timed(forward) for _ in range(5))
        at.segmented_control(key="lmp_bert_show").set_value("grid")
        first = timed(lambda: at.text_area(key="lmp_bert_a").input(text).run())
        assert not at.exception and not at.error, (at.exception, at.error)
        assert at.get("plotly_chart"), "the first run draws the all-heads grid"
        view = timed(lambda: at.segmented_control(key="lmp_bert_show").set_value("head").run())
        change = timed(lambda: at.selectbox(key="lmp_bert_head").set_value((i % 11) + 1).run())
        assert not at.exception, at.exception
        if i:  # round 0 warms the new-sentence path
            rows.append((first / fwd, change / first, view / first, fwd, first))
    med = [statistics.median(r[j] for r in rows) for j in range(5)]
    print(f"BERT page, {args.tokens}-token new sentences, {args.rounds} rounds "
          f"(forward {med[3] * 1e3:.1f} ms, first run {med[4] * 1e3:.0f} ms, medians)")
    print(f"  first run ÷ forward       {med[0]:6.1f}   target <= {TARGET:g}  "
          f"{'OK' if med[0] <= TARGET else 'MISSED'}")
    print(f"  head change ÷ first run   {med[1]:6.2f}   (AppTest reruns the whole script)")
    print(f"  open one head ÷ first run {med[2]:6.2f}")


if __name__ == "__main__":
    main()
