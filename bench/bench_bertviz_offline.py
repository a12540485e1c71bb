"""Offline bertviz HTML vs bertviz's own `html_action="return"` (reference), same process.

Maps shaped like all-MiniLM-L6-v2 (6 layers x 12 heads) at 16, 32 and 64 tokens,
a sentence pair (5 attention blocks, as bertviz builds them). Prints the median build time
of each, their ratio, and the HTML sizes (ours inlines d3 + jQuery, ~340 kB, and rounds
weights to 3 decimals; bertviz links a CDN and writes full floats).

    python -m bench.bench_bertviz_offline
"""
from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from lmcore.pretrained import bertviz as bertviz_offline
from lmcore.record import AttentionMaps

LAYERS, HEADS, REPEATS = 6, 12, 7


def random_maps(n: int, seed: int = 0) -> AttentionMaps:
    rng = np.random.default_rng(seed)
    w = rng.random((LAYERS, HEADS, n, n)).astype(np.float32)  # (L, H, n, n)
    w /= w.sum(-1, keepdims=True)
    tokens = [f"tok{i}" for i in range(n)]
    return AttentionMaps(w, tokens, tokens, "self")


def median_seconds(func, repeats: int = REPEATS) -> float:
    func()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    torch.set_num_threads(1)
    from bertviz import head_view, model_view  # reference (CDN-bound)

    print(f"{'view':6} {'n':>4} {'ours ms':>9} {'bertviz ms':>11} {'ratio':>6} "
          f"{'ours kB':>8} {'bertviz kB':>11}")
    for n in (16, 32, 64):
        maps = random_maps(n)
        b_start = n // 2
        layers = [torch.from_numpy(maps.weights[i][None]) for i in range(LAYERS)]  # (1, H, n, n)
        tokens = list(maps.query_tokens)
        cases = {
            "head": (lambda: bertviz_offline.head_view_html(maps, b_start),
                     lambda: head_view(layers, tokens, b_start, html_action="return").data),
            "model": (lambda: bertviz_offline.model_view_html(maps, b_start),
                      lambda: model_view(layers, tokens, b_start, html_action="return").data),
        }
        for view, (ours, reference) in cases.items():
            t_ours, t_ref = median_seconds(ours), median_seconds(reference)
            print(f"{view:6} {n:4d} {t_ours * 1e3:9.1f} {t_ref * 1e3:11.1f} {t_ours / t_ref:6.2f} "
                  f"{len(ours().encode()) / 1e3:8.0f} {len(reference().encode()) / 1e3:11.0f}")


if __name__ == "__main__":
    main()
