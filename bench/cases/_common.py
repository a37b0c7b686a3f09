"""What every case shares: paths, options, result rows and the ways of measuring a process."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
SLIPWAY_BIN = REPO / ".venv" / "bin"
ANCHORS_BIN = REPO / ".venv-anchors" / "bin"
RUSAGE_SCRIPT = Path(__file__).with_name("_rusage.py")
MIB = 1 << 20
GIB = 1 << 30


class BenchError(Exception):
    """A measurement could not be taken: the run exits non-zero."""


class Skip(Exception):
    """A case cannot run on this machine; the reason is printed and the run goes on."""


@dataclass(frozen=True)
class Options:
    quick: bool
    work: Path  # a fresh folder for this case, removed afterwards


@dataclass(frozen=True)
class Target:
    """A limit on the Slipway number: `value < limit` (or `<=` when `inclusive`)."""

    limit: float
    unit: str
    inclusive: bool = False
    label: str | None = None  # how the table shows it, when the default reads badly

    def met(self, value: float) -> bool:
        return value <= self.limit if self.inclusive else value < self.limit

    def __str__(self) -> str:
        if self.label:
            return self.label
        op = "<=" if self.inclusive else "<"
        return f"slipway {op} {fmt(self.limit, self.unit)}"


@dataclass(frozen=True)
class Anchor:
    name: str  # what a user would run instead, e.g. "mlflow --help"
    value: float
    source: str


@dataclass(frozen=True)
class Row:
    """One metric: the Slipway number, the same number for each anchor tool, a target."""

    case: str
    metric: str
    unit: str
    slipway: float
    source: str
    anchors: tuple[Anchor, ...] = ()
    target: Target | None = None
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Case:
    name: str
    summary: str
    run: Callable[[Options], list[Row]]
    min_free_bytes: Callable[[Options], int] = lambda _options: 0
    anchors_needed: tuple[str, ...] = ()  # executables under .venv-anchors/bin


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    return f"{value:g}{' ' + unit if unit else ''}"


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def spread(values: Sequence[float], unit: str) -> str:
    return "runs: " + ", ".join(fmt(v, unit) for v in values)


def shell_line(cmd: Sequence[str | Path]) -> str:
    """The command as a user would type it, with repo paths made relative."""
    parts = []
    for part in map(str, cmd):
        rel = part.removeprefix(str(REPO) + "/")
        parts.append(rel if " " not in rel and "\n" not in rel else repr(rel))
    return " ".join(parts)


def check_output(
    cmd: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stderr_only: bool = False,
) -> str:
    """Run a helper command (not timed) and return its stdout (or stderr); failing is an error."""
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise BenchError(f"`{shell_line(cmd)}` failed ({proc.returncode}): {tail(proc.stderr)}")
    return proc.stderr if stderr_only else proc.stdout


def wall_time(cmd: Sequence[str | Path], env: Mapping[str, str] | None = None) -> float:
    """Seconds from spawn to exit of `cmd`, output discarded; a non-zero exit is an error."""
    start = time.perf_counter()
    proc = subprocess.run(
        [str(c) for c in cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=None if env is None else dict(env),
        check=False,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace")
        raise BenchError(f"`{shell_line(cmd)}` failed ({proc.returncode}): {tail(err)}")
    return elapsed


@dataclass(frozen=True)
class ProcessRun:
    wall_s: float
    peak_rss_mib: float
    stdout: str


def measure_process(
    cmd: Sequence[str | Path], cwd: Path, env: Mapping[str, str] | None = None
) -> ProcessRun:
    """Wall time and peak RSS of `cmd`, taken by a fresh wrapper process so that the
    RUSAGE_CHILDREN figure covers that command (and its children) alone."""
    result = cwd / f".rusage-{os.getpid()}-{time.monotonic_ns()}.json"
    wrapper = [sys.executable, str(RUSAGE_SCRIPT), str(result), "--", *map(str, cmd)]
    proc = subprocess.run(
        wrapper,
        cwd=cwd,
        capture_output=True,
        text=True,
        env=None if env is None else dict(env),
        check=False,
    )
    try:
        data = json.loads(result.read_text())
    except FileNotFoundError:
        raise BenchError(f"the rusage wrapper failed: {tail(proc.stderr)}") from None
    finally:
        result.unlink(missing_ok=True)
    if data["returncode"] != 0:
        raise BenchError(
            f"`{shell_line(cmd)}` failed ({data['returncode']}): {tail(proc.stderr or proc.stdout)}"
        )
    return ProcessRun(data["wall_s"], data["maxrss_kib"] / 1024, proc.stdout)


def sync_disks() -> None:
    """Flush dirty pages so one measurement's writeback does not land in the next one."""
    os.sync()


def tail(text: str, lines: int = 8) -> str:
    return "\n".join(text.strip().splitlines()[-lines:]) or "(no output)"
