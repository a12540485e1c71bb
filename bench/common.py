"""Timing helpers shared by every benchmark in bench/.

Candidates are timed in the same process and interleaved (every round runs
each once, in a freshly shuffled order), so background load hits all of them alike; results are
medians of repeated runs after a warm-up. Report ratios, never raw times alone.
On a shared machine prefer `paired_ratio` (median of per-round ratios): a burst
of load slows both candidates of a round, and the ratio cancels it. With one
compute thread, `clock=time.thread_time` (CPU time of this thread) also ignores
the time other processes hold the CPU; `pick_clock` chooses it.
"""
from __future__ import annotations

import random
import statistics
import time
from typing import Callable, Mapping

Samples = dict[str, list[float]]


def pick_clock(threads: int) -> Callable[[], float]:
    """thread_time for single-threaded work (immune to preemption), else wall clock."""
    return time.thread_time if threads == 1 else time.perf_counter


def interleaved_samples(candidates: Mapping[str, Callable[[], object]], repeats: int = 30,
                        warmup: int = 3, inner: int = 1,
                        clock: Callable[[], float] = time.perf_counter) -> Samples:
    """Seconds per call of each candidate, one sample per round.

    candidates: name -> zero-argument callable.
    repeats:    rounds; each round times every candidate once, in a shuffled order.
    warmup:     untimed calls per candidate first (allocator, caches, lazy init).
    inner:      calls per sample, for very fast callables.
    clock:      seconds counter; time.perf_counter (wall) or time.thread_time (CPU).
    """
    names = list(candidates)
    for _ in range(warmup):
        for name in names:
            candidates[name]()
    samples: Samples = {name: [] for name in names}
    order = random.Random(0)  # same shuffles every run
    for _ in range(repeats):
        # A fresh order each round: no candidate always follows the same one, which
        # would hand it that one's warm caches (e.g. the same q, k, v just read).
        for name in order.sample(names, len(names)):
            fn = candidates[name]
            start = clock()
            for _ in range(inner):
                fn()
            samples[name].append((clock() - start) / inner)
    return samples


def median_times(candidates: Mapping[str, Callable[[], object]], repeats: int = 30,
                 warmup: int = 3, inner: int = 1,
                 clock: Callable[[], float] = time.perf_counter) -> dict[str, float]:
    """Median seconds per call of each candidate (see `interleaved_samples`)."""
    samples = interleaved_samples(candidates, repeats, warmup, inner, clock)
    return medians(samples)


def medians(samples: Samples) -> dict[str, float]:
    """name -> median seconds."""
    return {name: statistics.median(ts) for name, ts in samples.items()}


def ratio(times: Mapping[str, float], candidate: str, reference: str) -> float:
    """times[candidate] / times[reference]: below 1 means the candidate is faster."""
    return times[candidate] / times[reference]


def paired_ratio(samples: Samples, candidate: str, reference: str) -> float:
    """Median over rounds of candidate time / reference time in the same round."""
    return statistics.median(c / r for c, r in zip(samples[candidate], samples[reference]))


def verdict(value: float, target: float) -> str:
    """'PASS' when value <= target, else 'FAIL'."""
    return "PASS" if value <= target else "FAIL"


def format_ratio(label: str, value: float, target: float) -> str:
    """One aligned report line: label, ratio, target, PASS/FAIL."""
    return f"{label:<58s} {value:6.3f}  (target <= {target:.2f})  {verdict(value, target)}"
