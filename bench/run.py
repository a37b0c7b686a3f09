"""Measure Slipway side by side with the tools users would pick instead, in one run.

    .venv/bin/python bench/run.py [--quick] [--cases a,b] [--write-readme]

Exits non-zero only when a measurement could not be taken; a missed target is reported,
not an error. Work files live in a folder of this run's own under bench/.work/ (two runs never
share or remove each other's files) and are removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cases import CASES
from cases._common import (
    ANCHORS_BIN,
    BENCH,
    GIB,
    REPO,
    SLIPWAY_BIN,
    BenchError,
    Case,
    Options,
    Row,
    Skip,
    check_output,
    fmt,
)

WORK = BENCH / ".work"
README = BENCH / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
SLIPWAY_PACKAGES = ("slipway",)
ANCHOR_PACKAGES = ("mlflow", "dvc", "evidently", "pandas")
INSTALL_ANCHORS = (
    "python3 -m venv .venv-anchors && "
    ".venv-anchors/bin/pip install -r bench/requirements-anchors.txt"
)


@dataclass
class Outcome:
    rows: list[Row] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data, fewer runs")
    parser.add_argument("--cases", help=f"comma-separated subset of: {', '.join(CASES)}")
    parser.add_argument(
        "--write-readme", action="store_true", help=f"put the results into {README.name}"
    )
    args = parser.parse_args(argv)
    args.selected = select(parser, args.cases)
    return args


def select(parser: argparse.ArgumentParser, names: str | None) -> list[Case]:
    if not names:
        return list(CASES.values())
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
    return [CASES[n] for n in wanted]


def run_cases(cases: list[Case], quick: bool, work: Path) -> Outcome:
    outcome = Outcome()
    for case in cases:
        print(f"== {case.name}: {case.summary}", flush=True)
        options = Options(quick=quick, work=work / case.name)
        start = time.perf_counter()
        try:
            preflight(case, options)
            options.work.mkdir(parents=True)
            outcome.rows.extend(case.run(options))
        except Skip as exc:
            outcome.skipped[case.name] = str(exc)
            print(f"   skipped: {exc}")
        except BenchError as exc:
            outcome.errors[case.name] = str(exc)
            print(f"   ERROR: {exc}")
        except Exception:  # a bug in the case itself: report it, run the others
            outcome.errors[case.name] = traceback.format_exc()
            print(f"   ERROR:\n{outcome.errors[case.name]}")
        finally:
            shutil.rmtree(options.work, ignore_errors=True)
        outcome.seconds[case.name] = time.perf_counter() - start
        print(f"   done in {outcome.seconds[case.name]:.1f} s", flush=True)
    return outcome


def remove_leftovers() -> None:
    """Remove the folders of interrupted runs (their process is gone); others' stay."""
    if not WORK.is_dir():
        return
    for folder in WORK.glob("run-*"):
        pid = folder.name.removeprefix("run-")
        if not pid.isdigit() or not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


def preflight(case: Case, options: Options) -> None:
    missing = [tool for tool in case.anchors_needed if not (ANCHORS_BIN / tool).exists()]
    if missing:
        raise BenchError(
            f"anchor tool(s) {', '.join(missing)} not found in {ANCHORS_BIN}; "
            f"install them with: {INSTALL_ANCHORS}"
        )
    WORK.mkdir(exist_ok=True)
    free, needed = shutil.disk_usage(WORK).free, case.min_free_bytes(options)
    if free < needed:
        raise Skip(
            f"only {free / GIB:.1f} GiB free on the disk holding {WORK}, "
            f"this case needs {needed / GIB:.0f} GiB"
        )


# -- reporting ---------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    header = [
        "case",
        "metric",
        "slipway",
        "anchor",
        "anchor value",
        "ratio anchor/slipway",
        "target",
        "result",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        target = str(row.target) if row.target else "-"
        result = "-" if not row.target else "pass" if row.target.met(row.slipway) else "MISS"
        first = [row.case, row.metric, fmt(row.slipway, row.unit)]
        if not row.anchors:
            lines.append("| " + " | ".join([*first, "-", "-", "-", target, result]) + " |")
        for i, anchor in enumerate(row.anchors):
            ratio = f"{anchor.value / row.slipway:.1f}x" if row.slipway else "-"
            cells = [*first, anchor.name, fmt(anchor.value, row.unit), ratio]
            cells += [target, result] if i == 0 else ["", ""]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sources(rows: list[Row]) -> str:
    lines = []
    for row in rows:
        lines.append(f"- **{row.case}, {row.metric}**")
        lines.append(f"  - slipway: {row.source}")
        lines.extend(f"  - {anchor.name}: {anchor.source}" for anchor in row.anchors)
        lines.extend(f"  - note: {note}" for note in row.notes)
    return "\n".join(lines)


def problems(outcome: Outcome) -> str:
    lines = [f"- {name} skipped: {why}" for name, why in outcome.skipped.items()]
    lines += [f"- {name} FAILED: {why.strip()}" for name, why in outcome.errors.items()]
    return "\n".join(lines)


def versions(python: Path, packages: tuple[str, ...]) -> str:
    if not python.exists():
        return ", ".join(f"{p} (not installed)" for p in packages)
    code = (
        "import importlib.metadata as m, json, sys\n"
        "def v(p):\n"
        "    try: return m.version(p)\n"
        "    except m.PackageNotFoundError: return 'not installed'\n"
        "print(json.dumps({p: v(p) for p in sys.argv[1:]}))"
    )
    found = json.loads(check_output([python, "-c", code, *packages]))
    return ", ".join(f"{name} {version}" for name, version in found.items())


def machine() -> str:
    mem = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
    ram = f"{int(mem.group(1)) / (1 << 20):.1f} GiB RAM" if mem else "RAM unknown"
    cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    return (
        f"{len(os.sched_getaffinity(0))} CPUs ({cpu.group(1).strip() if cpu else 'unknown'}), "
        f"{ram}, {filesystem(BENCH)} filesystem, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def filesystem(path: Path) -> str:
    """The type of the mount holding `path` (the longest matching mount point)."""
    best, kind = "", "unknown"
    for line in Path("/proc/mounts").read_text().splitlines():
        _, mount, fstype, *_ = line.split()
        if str(path.resolve()).startswith(mount) and len(mount) > len(best):
            best, kind = mount, fstype
    return kind


def report(outcome: Outcome, args: argparse.Namespace, total_s: float) -> str:
    mode = "quick (--quick)" if args.quick else "full"
    names = ", ".join(case.name for case in args.selected)
    parts = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {mode} run of {names}, "
        f"took {total_s:.0f} s.",
        "",
        f"- Machine: {machine()}",
        f"- Slipway: {versions(SLIPWAY_BIN / 'python', SLIPWAY_PACKAGES)}",
        f"- Anchors (.venv-anchors): {versions(ANCHORS_BIN / 'python', ANCHOR_PACKAGES)}",
        "",
    ]
    if outcome.rows:
        parts += [
            "Ratio = anchor / slipway: above 1 means Slipway is faster or uses less memory.",
            "",
            table(outcome.rows),
            "",
            "Where the numbers come from:",
            "",
            sources(outcome.rows),
        ]
    if extra := problems(outcome):
        parts += ["", extra]
    return "\n".join(parts)


def write_readme(text: str) -> None:
    content = README.read_text()
    if START not in content or END not in content:
        raise BenchError(f"{README} lacks the {START} ... {END} markers")
    before, rest = content.split(START, 1)
    _, after = rest.split(END, 1)
    README.write_text(f"{before}{START}\n{text}\n{END}{after}")


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    work = WORK / f"run-{os.getpid()}"
    remove_leftovers()
    # Slipway is installed editable: compile its modules once, as a wheel install does (the
    # anchors' wheels come compiled), or with PYTHONDONTWRITEBYTECODE set every command
    # compiles them again.
    subprocess.run([SLIPWAY_BIN / "python", "-m", "compileall", "-q", REPO / "src"], check=True)
    try:
        outcome = run_cases(args.selected, args.quick, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = report(outcome, args, time.perf_counter() - start)
    print("\n" + text)
    if args.write_readme:
        if outcome.errors:
            print(f"\n{README} not updated: a case failed")
        else:
            write_readme(text)
            print(f"\nresults written to {README}")
    return 1 if outcome.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
