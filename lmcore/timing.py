"""A stopwatch for the numbers a page measures on the spot (the key/value cache page's timings)."""
from __future__ import annotations

import time
from typing import Callable


def best_seconds(fn: Callable[[], object], repeats: int = 1) -> float:
    """The fastest of `repeats` wall-clock timings of fn() (the KV page's on-the-spot numbers)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
