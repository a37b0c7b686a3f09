"""The opt-in system metrics sampler: what it logs, and that it never takes a run down."""

from __future__ import annotations

import logging
import sys
import threading
import time
import types
from collections.abc import Callable
from typing import Any

import pytest

from slipway.errors import InvalidInput
from slipway.tracking import SystemMetricsSampler, sample_system_metrics

BASE_KEYS = {"system.cpu_percent", "system.rss_mib", "system.memory_percent"}
TICK = 0.05


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[dict[str, float], int]] = []
        self.fail = fail
        self._lock = threading.Lock()

    def __call__(self, metrics: dict[str, float], step: int) -> None:
        with self._lock:
            self.calls.append((metrics, step))
        if self.fail:
            raise RuntimeError("metrics backend is down")


def wait_until(condition: Callable[[], bool], limit_s: float = 10.0) -> None:
    """Poll until `condition` holds; fail (never hang) if it does not within `limit_s`."""
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def sampler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "slipway-system-metrics"]


def test_sampler_logs_documented_keys_with_increasing_steps() -> None:
    record = Recorder()

    with SystemMetricsSampler(record, interval_s=TICK):
        wait_until(lambda: len(record.calls) >= 3)

    steps = [step for _, step in record.calls]
    assert steps == list(range(len(steps)))
    for metrics, _ in record.calls:
        assert metrics.keys() >= BASE_KEYS
        assert all(isinstance(v, float) and v >= 0 for v in metrics.values())
        assert metrics["system.rss_mib"] > 0
        assert 0 < metrics["system.memory_percent"] <= 100


def test_failing_log_is_reported_once_and_sampling_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = Recorder(fail=True)
    caplog.set_level(logging.ERROR, logger="slipway.tracking")

    sampler = SystemMetricsSampler(record, interval_s=TICK).start()
    wait_until(lambda: len(record.calls) >= 3)
    sampler.stop()

    errors = [r for r in caplog.records if r.name == "slipway.tracking"]
    assert len(errors) == 1
    assert "metrics backend is down" in (errors[0].exc_text or "")


def test_stop_is_idempotent_and_leaves_no_thread() -> None:
    sampler = SystemMetricsSampler(Recorder(), interval_s=TICK)
    sampler.stop()  # before start: nothing to do

    sampler.start()
    sampler.start()  # already running: still one thread
    assert len(sampler_threads()) == 1
    sampler.stop()
    sampler.stop()

    for thread in sampler_threads():
        thread.join(timeout=5)
    assert sampler_threads() == []


def test_restart_continues_the_step_count() -> None:
    record = Recorder()
    sampler = SystemMetricsSampler(record, interval_s=TICK)

    with sampler:
        wait_until(lambda: len(record.calls) >= 1)
    for thread in sampler_threads():
        thread.join(timeout=5)
    seen = len(record.calls)
    with sampler:
        wait_until(lambda: len(record.calls) > seen)

    assert [step for _, step in record.calls] == list(range(len(record.calls)))


def test_stop_from_inside_the_callback_does_not_deadlock() -> None:
    done = threading.Event()
    holder: dict[str, SystemMetricsSampler] = {}

    def log(metrics: dict[str, float], step: int) -> None:
        holder["sampler"].stop()
        done.set()

    holder["sampler"] = SystemMetricsSampler(log, interval_s=TICK).start()

    assert done.wait(timeout=10)


@pytest.mark.parametrize("interval", [0, -1.0, float("nan")])
def test_interval_must_be_positive(interval: float) -> None:
    with pytest.raises(InvalidInput, match="interval_s"):
        SystemMetricsSampler(Recorder(), interval_s=interval)


def test_one_sample_has_the_documented_keys() -> None:
    assert sample_system_metrics(0.0).keys() >= BASE_KEYS


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fallback reads /proc")
def test_without_psutil_the_same_keys_come_from_the_os(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psutil", None)  # makes `import psutil` fail

    metrics = sample_system_metrics(0.0)

    assert metrics.keys() >= BASE_KEYS
    assert metrics["system.rss_mib"] > 0


def fake_nvml(count: int, fail_init: bool = False) -> tuple[types.ModuleType, list[str]]:
    events: list[str] = []
    nvml: Any = types.ModuleType("pynvml")

    def init() -> None:
        if fail_init:
            raise RuntimeError("NVML Shared Library Not Found")
        events.append("init")

    nvml.nvmlInit = init
    nvml.nvmlShutdown = lambda: events.append("shutdown")
    nvml.nvmlDeviceGetCount = lambda: count
    nvml.nvmlDeviceGetHandleByIndex = lambda i: i
    nvml.nvmlDeviceGetUtilizationRates = lambda h: types.SimpleNamespace(gpu=40 + h)
    nvml.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(used=(h + 1) * 1024 << 20)
    return nvml, events


def test_gpu_metrics_come_from_nvml_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    nvml, events = fake_nvml(count=2)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)

    metrics = sample_system_metrics(0.0)

    assert metrics["system.gpu0.utilization_percent"] == 40.0
    assert metrics["system.gpu1.utilization_percent"] == 41.0
    assert metrics["system.gpu0.memory_mib"] == 1024.0
    assert metrics["system.gpu1.memory_mib"] == 2048.0
    assert events == ["init", "shutdown"]


def test_broken_nvml_only_drops_gpu_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    nvml, _ = fake_nvml(count=1, fail_init=True)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)

    metrics = sample_system_metrics(0.0)

    assert metrics.keys() >= BASE_KEYS
    assert not any(key.startswith("system.gpu") for key in metrics)
