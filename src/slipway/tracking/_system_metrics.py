"""Opt-in system metrics for a run: process CPU and memory, machine memory, NVIDIA GPUs.

psutil and pynvml are used when importable and never required: without psutil, CPU comes
from `os.times()` and memory from `/proc` (Linux); without pynvml, GPU metrics are left out.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from slipway.errors import InvalidInput

logger = logging.getLogger("slipway.tracking")

MIB = float(1 << 20)

LogFn = Callable[[dict[str, float], int], None]


def _optional(module: str) -> Any | None:
    """Import an optional dependency; None when it is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


class _Gpus:
    """NVIDIA GPUs through NVML. Indexes are NVML's, which ignore CUDA_VISIBLE_DEVICES."""

    def __init__(self, nvml: Any, handles: list[Any]) -> None:
        self._nvml = nvml
        self._handles = handles

    @classmethod
    def open(cls) -> _Gpus | None:
        nvml = _optional("pynvml")
        if nvml is None:
            return None
        try:
            nvml.nvmlInit()
            count = nvml.nvmlDeviceGetCount()
            handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except Exception:  # NVMLError and friends: no driver, no GPU, or a broken install
            logger.debug("NVML is unavailable; GPU metrics are off", exc_info=True)
            return None
        return cls(nvml, handles)

    def read(self) -> dict[str, float]:
        metrics: dict[str, float] = {}
        for i, handle in enumerate(self._handles):
            try:
                util = self._nvml.nvmlDeviceGetUtilizationRates(handle).gpu
                used = self._nvml.nvmlDeviceGetMemoryInfo(handle).used
            except Exception:  # one GPU falling off the bus must not hide the others
                logger.debug("reading GPU %d through NVML failed", i, exc_info=True)
                continue
            metrics[f"system.gpu{i}.utilization_percent"] = float(util)
            metrics[f"system.gpu{i}.memory_mib"] = used / MIB
        return metrics

    def close(self) -> None:
        try:
            self._nvml.nvmlShutdown()
        except Exception:  # shutting down a half-dead driver is best effort
            logger.debug("nvmlShutdown failed", exc_info=True)


class _Probe:
    """Reads one sample; CPU % is measured since the previous read (or since creation)."""

    def __init__(self) -> None:
        psutil = _optional("psutil")
        self._psutil = psutil
        self._process = psutil.Process() if psutil is not None else None
        self._gpus = _Gpus.open()
        self._last = (self._cpu_seconds(), time.monotonic())

    def read(self) -> dict[str, float]:
        metrics = {"system.cpu_percent": self._cpu_percent()}
        rss, machine = self._rss_bytes(), self._memory_percent()
        if rss is not None:
            metrics["system.rss_mib"] = rss / MIB
        if machine is not None:
            metrics["system.memory_percent"] = machine
        if self._gpus is not None:
            metrics.update(self._gpus.read())
        return metrics

    def close(self) -> None:
        if self._gpus is not None:
            self._gpus.close()

    def _cpu_seconds(self) -> float:
        if self._process is not None:
            times = self._process.cpu_times()
            return float(times.user + times.system)
        times = os.times()
        return times.user + times.system

    def _cpu_percent(self) -> float:
        """Like psutil's process CPU %: 100 per fully busy core, so it can exceed 100."""
        cpu, wall = self._cpu_seconds(), time.monotonic()
        last_cpu, last_wall = self._last
        self._last = (cpu, wall)
        elapsed = wall - last_wall
        return 100.0 * (cpu - last_cpu) / elapsed if elapsed > 0 else 0.0

    def _rss_bytes(self) -> float | None:
        if self._process is not None:
            return float(self._process.memory_info().rss)
        try:  # Linux without psutil: resident pages are statm's second field
            resident = int(Path("/proc/self/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            return None
        return float(resident * os.sysconf("SC_PAGE_SIZE"))

    def _memory_percent(self) -> float | None:
        if self._psutil is not None:
            return float(self._psutil.virtual_memory().percent)
        try:
            fields = dict(
                line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines()
            )
            total = int(fields["MemTotal"].split()[0])
            available = int(fields["MemAvailable"].split()[0])
        except (OSError, KeyError, ValueError):
            return None
        return 100.0 * (total - available) / total if total else None


def sample_system_metrics(interval_s: float = 0.1) -> dict[str, float]:
    """One sample; blocks `interval_s` so the CPU % has a window to measure over."""
    probe = _Probe()
    try:
        time.sleep(interval_s)
        return probe.read()
    finally:
        probe.close()


class SystemMetricsSampler:
    """Calls `log(metrics, step)` every `interval_s` from a daemon thread, step = sample index.

    Keys: `system.cpu_percent` (this process), `system.rss_mib`, `system.memory_percent`
    (the machine) and, with pynvml and a GPU, `system.gpu{i}.utilization_percent` and
    `system.gpu{i}.memory_mib`. A failing `log` is reported once and sampling goes on.
    """

    def __init__(self, log: LogFn, interval_s: float = 10.0) -> None:
        if not interval_s > 0:
            raise InvalidInput(f"interval_s must be a positive number of seconds, not {interval_s}")
        self.interval_s = interval_s
        self._log = log
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._step = 0
        self._reported = False

    def start(self) -> SystemMetricsSampler:
        """Start sampling; a no-op while running. After `stop()`, steps continue counting."""
        with self._lock:
            if self._thread is not None:
                return self
            # A fresh event per start: a thread still winding down keeps its own, already set.
            self._stopping = threading.Event()
            self._thread = threading.Thread(
                target=self._run,
                args=(self._stopping,),
                name="slipway-system-metrics",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop and wait for the thread, at most one interval; safe to call twice."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stopping.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.interval_s)

    def __enter__(self) -> SystemMetricsSampler:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, stopping: threading.Event) -> None:
        probe = _Probe()  # built here so NVML's slow init never delays the caller's start()
        try:
            while not stopping.wait(self.interval_s):
                self._sample(probe)
        finally:
            probe.close()

    def _sample(self, probe: _Probe) -> None:
        step, self._step = self._step, self._step + 1
        try:
            self._log(probe.read(), step)
        except Exception:  # the run matters more than its metrics: report once, keep going
            if not self._reported:
                self._reported = True
                logger.exception("logging system metrics failed; further failures are silent")
