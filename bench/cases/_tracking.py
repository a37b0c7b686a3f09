"""What the experiment-tracking cases share: the child scripts, running them, and row helpers.

Every measurement runs in a fresh child process with its own tool's venv (`.venv` for Slipway,
`.venv-anchors` for MLflow), so imports and caches never leak between tools; the child times
only the measured work and prints its result as JSON (see `_children/`).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cases._common import ANCHORS_BIN, SLIPWAY_BIN, BenchError, Skip, Target, median, tail

CHILDREN = Path(__file__).with_name("_children")
CHILD_TIMEOUT_S = 900
INSTALL_ANCHORS = (
    "python3 -m venv .venv-anchors && .venv-anchors/bin/pip install -r "
    "bench/requirements-anchors.txt"
)


@dataclass(frozen=True)
class Tool:
    name: str
    python: Path
    script: str  # file name in _children/

    def command(self, target: str, *args: str, children: Path = CHILDREN) -> list[str]:
        return [str(self.python), str(children / self.script), target, *args]


SLIPWAY = Tool("slipway", SLIPWAY_BIN / "python", "slipway_track.py")
MLFLOW = Tool("mlflow", ANCHORS_BIN / "python", "mlflow_track.py")


def require_mlflow() -> None:
    """Skip the case (with the way to fix it) when the anchors' venv or MLflow is missing."""
    for needed in (ANCHORS_BIN / "python", ANCHORS_BIN / "mlflow"):
        if not needed.exists():
            raise Skip(
                f"{needed} not found (MLflow is the anchor here); install it with: "
                + INSTALL_ANCHORS
            )


def child_env() -> dict[str, str]:
    """The environment without settings that would point a tool elsewhere; no telemetry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLIPWAY_", "MLFLOW_TRACKING"))}
    # MLflow 3 sends usage telemetry from a background thread; not part of what is measured.
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    return env


@dataclass(frozen=True)
class Child:
    process: subprocess.Popen[str]
    label: str  # "slipway_track.py runs --n 1000", for errors


def measure(
    tool: Tool, target: str, *args: str, cwd: Path, children: Path = CHILDREN
) -> dict[str, Any]:
    """Run one child measurement and return the JSON it printed; a failure is an error."""
    return collect(spawn(tool, target, *args, cwd=cwd, children=children))


def spawn(tool: Tool, target: str, *args: str, cwd: Path, children: Path = CHILDREN) -> Child:
    """Start a child measurement; `collect` waits for it, `stop` ends it early."""
    process = subprocess.Popen(
        tool.command(target, *args, children=children),
        cwd=cwd,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return Child(process, " ".join([tool.script, *args]))


def collect(child: Child) -> dict[str, Any]:
    try:
        stdout, stderr = child.process.communicate(timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        stop(child)
        raise BenchError(f"`{child.label}` ran over {CHILD_TIMEOUT_S} s") from None
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if child.process.returncode != 0 or not lines:
        raise BenchError(
            f"`{child.label}` failed ({child.process.returncode}): {tail(stderr or stdout)}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def stop(child: Child) -> None:
    """Kill the child if it still runs (a sibling measurement failed) and reap it."""
    if child.process.poll() is None:
        child.process.kill()
    child.process.communicate()


def sig3(value: float) -> float:
    """Three significant digits, so the table prints 13.7 rather than 13.7351."""
    return float(f"{value:.3g}")


def per_item(results: Sequence[dict[str, Any]], scale: float) -> list[float]:
    """Seconds per item of each result, times `scale` (1e6 for microseconds)."""
    return [r["seconds"] / r["count"] * scale for r in results]


def median_per_item(results: Sequence[dict[str, Any]], scale: float) -> float:
    return sig3(median(per_item(results, scale)))


def rates(results: Sequence[dict[str, Any]], what: str) -> str:
    """'43,700 calls/s (10,000 in 0.229 s), …' for the report."""
    return ", ".join(
        f"{sig3(r['count'] / r['seconds']):,.0f} {what}/s ({r['count']:,} in {r['seconds']:.3g} s)"
        for r in results
    )


def at_least(factor: float, anchor_value: float, anchor: str) -> Target:
    """Slipway must be `factor` times faster than the anchor's time per item."""
    return Target(anchor_value / factor, "", inclusive=True, label=f">= {factor:g}x {anchor}")


def children(count: int) -> str:
    return "one child" if count == 1 else f"median of {count} children"


def duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"
