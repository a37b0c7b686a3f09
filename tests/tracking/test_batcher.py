"""The logging queue: bounded under a flood, ordered, and loud about failures."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from slipway.client._batcher import Batcher
from slipway.errors import Conflict, Unavailable


class SlowRuns:
    """Stands in for the runs client: records batches and takes its time, like a busy DB."""

    def __init__(self, fail_with: Exception | None = None, delay_s: float = 0.002) -> None:
        self.batches: list[dict[str, Any]] = []
        self.fail_with = fail_with
        self.delay_s = delay_s
        self.calls = 0

    def log_batch(self, run_id: str, *, metrics: Any, params: Any, tags: Any) -> None:
        self.calls += 1
        time.sleep(self.delay_s)
        if self.fail_with is not None:
            raise self.fail_with
        self.batches.append(
            {
                "run": run_id,
                "steps": list(metrics.steps),
                "params": dict(params),
                "tags": dict(tags),
            }
        )


def test_a_flood_blocks_the_producer_instead_of_growing_memory() -> None:
    runs = SlowRuns(delay_s=0.01)
    batcher = Batcher(runs, max_batch=500, max_pending=1_000)  # type: ignore[arg-type]
    peak = 0
    stop = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, len(batcher._queue))
            time.sleep(0.0005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    for step in range(20_000):
        batcher.metric("r1", "loss", float(step), step, 0)
    batcher.flush()
    stop.set()
    watcher.join()
    steps = [s for batch in runs.batches for s in batch["steps"]]
    assert steps == list(range(20_000))  # nothing lost, order kept
    assert peak <= 1_000 + 1  # the bound (plus the flush marker)


def test_params_tags_and_metrics_of_a_run_travel_together() -> None:
    runs = SlowRuns()
    batcher = Batcher(runs)  # type: ignore[arg-type]
    batcher.params("r1", {"lr": "0.1"})
    batcher.tags("r1", {"stage": "dev"})
    batcher.tags("r1", {"stage": "prod"})  # the later value wins
    batcher.metric("r1", "acc", 0.9, 1, 5)
    batcher.metric("r2", "acc", 0.8, 1, 5)
    batcher.flush()
    by_run = {b["run"]: b for b in runs.batches}
    assert by_run["r1"] == {
        "run": "r1",
        "steps": [1],
        "params": {"lr": "0.1"},
        "tags": {"stage": "prod"},
    }
    assert by_run["r2"]["steps"] == [1]


def test_a_rejected_write_is_raised_by_the_next_flush_and_only_once() -> None:
    runs = SlowRuns(fail_with=Conflict("run r1 is deleted; it cannot be changed"))
    batcher = Batcher(runs)  # type: ignore[arg-type]
    batcher.metric("r1", "loss", 1.0, 0, 0)
    with pytest.raises(Conflict, match="logging failed: run r1 is deleted"):
        batcher.flush()
    runs.fail_with = None
    batcher.metric("r1", "loss", 2.0, 1, 0)
    batcher.flush()  # the old failure was reported already
    assert [b["steps"] for b in runs.batches] == [[1]]


def test_an_unreachable_server_is_retried_then_reported() -> None:
    runs = SlowRuns(fail_with=Unavailable("cannot reach the Slipway server"))
    batcher = Batcher(runs, retries=2)  # type: ignore[arg-type]
    batcher.metric("r1", "loss", 1.0, 0, 0)
    with pytest.raises(Unavailable, match="logging failed"):
        batcher.flush()
    assert runs.calls == 3
