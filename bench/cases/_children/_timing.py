"""Timing helpers both child scripts share: standard library only, so either venv imports it."""

from __future__ import annotations

import cProfile
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from _data import matches

# Set BENCH_PROFILE=out.prof to profile only the timed sections.
profiler = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None


@contextmanager
def timed(result: dict[str, Any], key: str = "seconds") -> Iterator[None]:
    if profiler is not None:
        profiler.enable()
    start = time.perf_counter()
    try:
        yield
    finally:
        result[key] = time.perf_counter() - start
        if profiler is not None:
            profiler.disable()


def dump_profile() -> None:
    if profiler is not None:
        profiler.dump_stats(os.environ["BENCH_PROFILE"])


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"{os.path.basename(sys.argv[0])}: check failed: {message}")


def time_search(once: Callable[[], int], *, runs: int, repeat: int) -> dict[str, Any]:
    """1 warm-up, then `repeat` timed searches; checks the count against FILTER's matches."""
    result: dict[str, Any] = {}
    with timed(result, "warmup"):
        returned = once()
    times: list[float] = []
    for _ in range(repeat):
        one: dict[str, Any] = {}
        with timed(one):
            check(once() == returned, "a repeated search returned another number of runs")
        times.append(one["seconds"])
    expected = sum(matches(i) for i in range(runs))
    check(returned == min(100, expected), f"search returned {returned}, expected {expected}")
    result.update(seconds=statistics.median(times), runs=times, returned=returned)
    result["matching"] = expected
    return result
