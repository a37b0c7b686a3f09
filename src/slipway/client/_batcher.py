"""Background batching of metrics, params and tags: calls return at once, one thread writes.

Everything goes through one FIFO queue, so `flush()` only has to drop a marker in it and wait
until the writer reaches the marker: all that was logged before is then durable. The queue is
bounded: a flood of points blocks the producer (back-pressure) instead of growing memory or
dropping data. A failed write is logged at once and raised by the next `flush()`.

`finish()` is a flush marker that also ends a run: the writer sends the run's final status
with its last batch, so ending a run costs one write instead of a flush and an update.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slipway.errors import InvalidInput, SlipwayError, Unavailable
from slipway.services.runs.schemas import MetricColumns

if TYPE_CHECKING:
    from slipway.client._runs import RunsClient

log = logging.getLogger("slipway.tracking")

MetricItem = tuple[str, str, float, int, int]  # run_id, key, value, step, timestamp


@dataclass
class _KeyValues:
    kind: str  # "params" or "tags"
    run_id: str
    values: dict[str, str]


@dataclass
class _Marker:
    done: threading.Event = field(default_factory=threading.Event)
    errors: list[SlipwayError] = field(default_factory=list)


@dataclass
class _End(_Marker):
    """A flush marker that ends `run_id`: its status travels with the run's last batch."""

    run_id: str = ""
    status: str = "finished"
    end_time: int = 0
    stored: str | None = None  # the status the final write stored; None if it failed


@dataclass
class _RunBatch:
    metrics: MetricColumns = field(default_factory=MetricColumns)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    end: _End | None = None


class Batcher:
    def __init__(
        self,
        runs: RunsClient,
        *,
        max_batch: int = 10_000,
        max_pending: int = 100_000,
        interval_s: float = 0.5,
        retries: int = 3,
    ) -> None:
        self._runs = runs
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._interval_s = interval_s
        self._retries = retries
        self._queue: deque[MetricItem | _KeyValues | _Marker] = deque()
        self._wake = threading.Event()
        self._space = threading.Condition()
        self._errors: list[SlipwayError] = []
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._draining = threading.Lock()  # held by whichever thread is taking items
        self._closed = False

    # -- producers -------------------------------------------------------------------------

    def metric(self, run_id: str, key: str, value: float, step: int, timestamp: int) -> None:
        self._put((run_id, key, value, step, timestamp))

    def params(self, run_id: str, values: Mapping[str, str]) -> None:
        self._put(_KeyValues("params", run_id, dict(values)))

    def tags(self, run_id: str, values: Mapping[str, str]) -> None:
        self._put(_KeyValues("tags", run_id, dict(values)))

    def flush(self, timeout_s: float | None = None) -> None:
        """Return once everything logged before this call is written; raise what failed."""
        marker = _Marker()
        self._put(marker)
        self._drain_until(marker)
        if not marker.done.wait(timeout_s):
            raise Unavailable(f"metrics were not written within {timeout_s} s; still trying")
        _raise_errors(marker)

    def finish(self, run_id: str, status: str, end_time: int) -> None:
        """Flush, ending run `run_id` with `status` at `end_time` in the same write.

        Raises what failed since the last flush, as `flush()` does, and then the run ends
        "failed" instead: in the final write when only earlier writes failed, else by a
        separate update (unless the server cannot be reached at all).
        """
        end = _End(run_id=run_id, status=status, end_time=end_time)
        try:
            self._put(end)
        except InvalidInput as exc:  # this client is closed (it flushed everything then)
            end.errors = [exc]
        else:
            self._drain_until(end)
            end.done.wait()
            if not end.errors:
                return
        if end.stored is None:
            try:
                self._runs.update(run_id, status="failed", end_time=end_time)
            except SlipwayError as exc:
                log.error("slipway: could not mark run %s failed: %s", run_id, exc.detail)
        _raise_errors(end)

    def close(self) -> None:
        if self._thread is not None and not self._closed:
            try:
                self.flush(timeout_s=60)
            except SlipwayError as exc:
                log.error("slipway: %s", exc.detail)
        self._closed = True
        self._wake.set()

    def _put(self, item: MetricItem | _KeyValues | _Marker) -> None:
        if self._closed:
            raise InvalidInput("this client is closed: nothing more can be logged through it")
        if self._thread is None:
            self._start()
        if len(self._queue) >= self._max_pending:
            self._wake.set()
            with self._space:
                self._space.wait_for(lambda: len(self._queue) < self._max_pending)
        self._queue.append(item)
        if len(self._queue) >= self._max_batch:
            self._wake.set()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="slipway-logger", daemon=True
                )
                self._thread.start()

    # -- the writer thread -----------------------------------------------------------------

    def _drain_until(self, marker: _Marker) -> None:
        """Write up to `marker` in this thread if the writer is idle, else wake the writer.

        A run's end waits for its last write anyway: writing it here saves handing it to the
        writer thread and back (a wake-up and a switch each way, about a quarter of the time
        a small run takes to end). Whoever holds `_draining` is the only one taking items.
        """
        if not self._draining.acquire(blocking=False):
            self._wake.set()
            return
        try:
            while self._queue and not marker.done.is_set():
                self._drain_once()
        finally:
            self._draining.release()
        if not marker.done.is_set():  # taken by the writer before this thread got the lock
            self._wake.set()

    def _loop(self) -> None:
        while not (self._closed and not self._queue):
            self._wake.wait(self._interval_s)
            self._wake.clear()
            with self._draining:
                while self._queue:
                    self._drain_once()

    def _drain_once(self) -> None:
        batches: dict[str, _RunBatch] = {}
        markers: list[_Marker] = []
        taken = 0
        while self._queue and taken < self._max_batch:
            item = self._queue.popleft()
            taken += 1
            if isinstance(item, _Marker):
                markers.append(item)
                if isinstance(item, _End):
                    _batch(batches, item.run_id).end = item
                break  # write what came before, then release the waiter
            if isinstance(item, _KeyValues):
                getattr(_batch(batches, item.run_id), item.kind).update(item.values)
                continue
            run_id, key, value, step, timestamp = item
            columns = _batch(batches, run_id).metrics
            columns.keys.append(key)
            columns.values.append(value)
            columns.steps.append(step)
            columns.timestamps.append(timestamp)
        with self._space:
            self._space.notify_all()
        # A run ends after every other write of this drain: a failure among them is one the
        # ending run's flush would have reported, and it fails the run (see `finish`).
        for run_id, batch in sorted(batches.items(), key=lambda item: item[1].end is not None):
            self._write(run_id, batch)
        for marker in markers:
            marker.errors, self._errors = self._errors, []
            marker.done.set()

    def _write(self, run_id: str, batch: _RunBatch) -> None:
        end: dict[str, Any] = {}
        if batch.end is not None:
            status = "failed" if self._errors else batch.end.status
            end = {"status": status, "end_time": batch.end.end_time}
        for attempt in range(self._retries + 1):
            try:
                self._runs.log_batch(
                    run_id, metrics=batch.metrics, params=batch.params, tags=batch.tags, **end
                )
                if batch.end is not None:
                    batch.end.stored = end["status"]
                return
            except Unavailable as exc:
                if attempt == self._retries:
                    self._fail(run_id, batch, exc)
                    return
                time.sleep(0.2 * 2**attempt)
            except SlipwayError as exc:
                self._fail(run_id, batch, exc)
                return
            except Exception as exc:
                self._fail(run_id, batch, SlipwayError(f"{type(exc).__name__}: {exc}"))
                return

    def _fail(self, run_id: str, batch: _RunBatch, exc: SlipwayError) -> None:
        lost = len(batch.metrics)
        log.error(
            "slipway: could not write %d metric points, %d params, %d tags%s of run %s: %s",
            lost,
            len(batch.params),
            len(batch.tags),
            " and the final status" if batch.end is not None else "",
            run_id,
            exc.detail,
        )
        self._errors.append(exc)


def _batch(batches: dict[str, _RunBatch], run_id: str) -> _RunBatch:
    # Not `setdefault(run_id, _RunBatch())`: that builds (and validates) a batch per item.
    batch = batches.get(run_id)
    if batch is None:
        batch = batches[run_id] = _RunBatch()
    return batch


def _raise_errors(marker: _Marker) -> None:
    if marker.errors:
        first = marker.errors[0]
        more = len(marker.errors) - 1
        extra = f" (and {more} more failed writes)" if more else ""
        raise type(first)(f"logging failed: {first.detail}{extra}")
