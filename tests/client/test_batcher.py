"""The logging queue: bounded under a flood, ordered, and loud about failures."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from slipway.client import Batcher
from slipway.errors import Conflict, InvalidInput, Unavailable


class SlowRuns:
    """Stands in for the runs client: records batches and takes its time, like a busy DB."""

    def __init__(self, fail_with: Exception | None = None, delay_s: float = 0.002) -> None:
        self.batches: list[dict[str, Any]] = []
        self.fail_with = fail_with
        self.fail_ending_with: Exception | None = None  # only a batch that ends a run fails
        self.delay_s = delay_s
        self.calls = 0
        self.updates: list[dict[str, Any]] = []

    def log_batch(self, run_id: str, *, metrics: Any, params: Any, tags: Any, **end: Any) -> None:
        self.calls += 1
        time.sleep(self.delay_s)
        if self.fail_with is not None:
            raise self.fail_with
        if end and self.fail_ending_with is not None:
            raise self.fail_ending_with
        self.batches.append(
            {
                "run": run_id,
                "steps": list(metrics.steps),
                "params": dict(params),
                "tags": dict(tags),
                **end,
            }
        )

    def update(self, run_id: str, **values: Any) -> None:
        self.updates.append({"run": run_id, **values})


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


def test_finish_sends_the_final_status_with_the_last_values_in_one_write() -> None:
    runs = SlowRuns()
    batcher = Batcher(runs)  # type: ignore[arg-type]
    batcher.params("r1", {"lr": "0.1"})
    batcher.metric("r1", "acc", 0.9, 0, 5)
    batcher.metric("r2", "acc", 0.8, 0, 5)  # another run's point, queued in between
    batcher.metric("r1", "loss", 0.3, 0, 5)
    batcher.finish("r1", "finished", 1_234)
    by_run = {b["run"]: b for b in runs.batches}
    assert runs.calls == 2  # one write per run: no separate status update
    assert by_run["r1"] == {
        "run": "r1",
        "steps": [0, 0],
        "params": {"lr": "0.1"},
        "tags": {},
        "status": "finished",
        "end_time": 1_234,
    }
    assert "status" not in by_run["r2"]  # only the run that ends is ended
    assert runs.updates == []


def test_finish_of_a_run_with_nothing_queued_still_ends_it() -> None:
    runs = SlowRuns()
    batcher = Batcher(runs)  # type: ignore[arg-type]
    batcher.finish("r1", "killed", 99)
    assert runs.batches == [
        {"run": "r1", "steps": [], "params": {}, "tags": {}, "status": "killed", "end_time": 99}
    ]


def test_a_refused_final_write_ends_the_run_failed_and_raises() -> None:
    runs = SlowRuns()
    runs.fail_ending_with = Conflict("param 'lr' of run r1 is already '0.2'")
    batcher = Batcher(runs)  # type: ignore[arg-type]
    batcher.params("r1", {"lr": "0.1"})
    with pytest.raises(Conflict, match="logging failed: param 'lr' of run r1 is already"):
        batcher.finish("r1", "finished", 1_234)
    assert runs.batches == []  # the final write was refused as a whole...
    assert runs.updates == [{"run": "r1", "status": "failed", "end_time": 1_234}]  # ...so


def test_an_earlier_failed_write_makes_the_final_write_end_the_run_failed() -> None:
    class FailsFirst(SlowRuns):
        def log_batch(self, run_id: str, **values: Any) -> None:
            self.fail_with = Conflict("run r1 is deleted; it cannot be changed")
            if self.calls:
                self.fail_with = None
            super().log_batch(run_id, **values)

    runs = FailsFirst()
    batcher = Batcher(runs, max_batch=2)  # type: ignore[arg-type]
    for step in range(3):  # the first two points make a batch of their own, which fails
        batcher.metric("r1", "loss", 1.0, step, 0)
    with pytest.raises(Conflict, match="logging failed: run r1 is deleted"):
        batcher.finish("r1", "finished", 7)
    assert [(b["steps"], b["status"]) for b in runs.batches] == [([2], "failed")]
    assert runs.updates == []  # the final write itself stored "failed"


def test_finish_after_close_ends_the_run_failed_and_says_the_client_is_closed() -> None:
    runs = SlowRuns()
    batcher = Batcher(runs)  # type: ignore[arg-type]
    batcher.metric("r1", "loss", 1.0, 0, 0)
    batcher.close()  # writes what was queued
    with pytest.raises(InvalidInput, match="this client is closed"):
        batcher.finish("r1", "finished", 5)
    assert [b["steps"] for b in runs.batches] == [[0]]
    assert runs.updates == [{"run": "r1", "status": "failed", "end_time": 5}]
