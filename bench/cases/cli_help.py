"""`cli_help`: how long a user waits for `--help`, and what the CLI imports to get there."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from cases._common import (
    ANCHORS_BIN,
    SLIPWAY_BIN,
    Anchor,
    Case,
    Options,
    Row,
    Target,
    check_output,
    fmt,
    median,
    shell_line,
    spread,
    wall_time,
)

HEAVY = ("pandas", "sqlalchemy", "fastapi")  # must stay out of the CLI's import path
ANCHOR_TOOLS = ("mlflow", "dvc")
TARGET = Target(0.2, "s")


def run(options: Options) -> list[Row]:
    return [help_row(options), import_row()]


def help_row(options: Options) -> Row:
    runs = 3 if options.quick else 7
    commands: dict[str, list[str | Path]] = {"slipway": [SLIPWAY_BIN / "slipway", "--help"]}
    for tool in ANCHOR_TOOLS:
        commands[tool] = [ANCHORS_BIN / tool, "--help"]
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    for cmd in commands.values():
        wall_time(cmd, env)  # warm-up: page cache and .pyc files, not counted
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):  # interleaved, so drift on the machine hits every tool alike
        for name, cmd in commands.items():
            times[name].append(wall_time(cmd, env))

    def source(name: str) -> str:
        return (
            f"`{shell_line(commands[name])}`: wall time of the subprocess (spawn to exit), "
            f"median of {runs} after 1 warm-up; {spread(times[name], 's')}"
        )

    return Row(
        case="cli_help",
        metric=f"`--help` wall time (median of {runs})",
        unit="s",
        slipway=median(times["slipway"]),
        source=source("slipway"),
        anchors=tuple(
            Anchor(f"{tool} --help", median(times[tool]), source(tool)) for tool in ANCHOR_TOOLS
        ),
        target=TARGET,
    )


def import_row() -> Row:
    python = SLIPWAY_BIN / "python"
    cmd: list[str | Path] = [python, "-X", "importtime", "-c", "import slipway.cli.main"]
    modules = import_times(cmd)
    found = sorted({m.split(".")[0] for m in modules} & set(HEAVY))
    notes = [
        f"`import slipway.cli.main` took {fmt(modules['slipway.cli.main'][1] / 1e6, 's')} "
        "(cumulative, one -X importtime run, an indication only)",
        "heaviest packages by own import time: " + heaviest(modules),
    ]
    if found:
        notes.append(
            "imported: "
            + ", ".join(f"{m} ({fmt(modules[m][1] / 1e6, 's')} cumulative)" for m in found)
        )
    return Row(
        case="cli_help",
        metric=f"heavy packages imported by the CLI ({', '.join(HEAVY)})",
        unit="",
        slipway=float(len(found)),
        source=f"`{shell_line(cmd)}`: top-level packages named in its import list",
        target=Target(0, "", inclusive=True, label="none"),
        notes=tuple(notes),
    )


def import_times(cmd: list[str | Path]) -> dict[str, tuple[int, int]]:
    """Module -> (self, cumulative) import time in microseconds, from -X importtime's stderr."""
    stderr = check_output(cmd, stderr_only=True)
    modules: dict[str, tuple[int, int]] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        modules[name.strip()] = (int(own), int(cumulative))
    return modules


def heaviest(modules: dict[str, tuple[int, int]], count: int = 5) -> str:
    per_package: dict[str, int] = defaultdict(int)
    for name, (own, _) in modules.items():
        per_package[name.split(".")[0]] += own
    top = sorted(per_package.items(), key=lambda item: item[1], reverse=True)[:count]
    return ", ".join(f"{name} {us / 1000:.1f} ms" for name, us in top)


CASE = Case(
    name="cli_help",
    summary=(
        "wall time of `slipway --help` against `mlflow --help` and `dvc --help` "
        "(subprocess, median), and whether the CLI's import path pulls in " + ", ".join(HEAVY)
    ),
    run=run,
    anchors_needed=ANCHOR_TOOLS,
)
