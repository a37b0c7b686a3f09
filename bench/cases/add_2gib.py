"""`add_2gib`: put one large file under version control: `slipway data add` vs `dvc add`,
with a plain `cp` of the file as the reference."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cases._common import (
    ANCHORS_BIN,
    GIB,
    MIB,
    SLIPWAY_BIN,
    Anchor,
    BenchError,
    Case,
    Options,
    ProcessRun,
    Row,
    Target,
    check_output,
    fmt,
    measure_process,
    median,
    spread,
    sync_disks,
)
from cases._data_tree import FLOOR_CODE, dvc_env, import_floor, reflink_note, slipway_env

FULL_SIZE = 2 * GIB
QUICK_SIZE = 256 * MIB
CHUNK = 64 * MIB
REPETITIONS = 3
RSS_TARGET = Target(200, "MiB")
DVC_FACTOR = 4  # Slipway at least this many times faster than `dvc add`
CP_FACTOR = 1.0  # and at most this many times slower than `cp` followed by `sync`
NAME = "big.bin"
TOOLS = ("slipway", "dvc", "cp")


@dataclass(frozen=True)
class Measured:
    process: ProcessRun
    sync_s: float  # the `sync` right after it: what the command left to write back


def size_for(options: Options) -> int:
    return QUICK_SIZE if options.quick else FULL_SIZE


def min_free_bytes(options: Options) -> int:
    # Data file + Slipway's copy + DVC's cache copy + cp's copy, with room to spare.
    return 2 * GIB if options.quick else 10 * GIB


def run(options: Options) -> list[Row]:
    size = size_for(options)
    data = options.work / "data" / NAME
    generate(data, size)
    # Untimed warm-up: the first 2 GiB written after boot ran twice as slow on a VM (guest
    # memory first touched), and would have penalised whichever tool went first.
    one_round(options.work / "warmup", data, size, TOOLS)
    measured: dict[str, list[Measured]] = {tool: [] for tool in TOOLS}
    for i in range(REPETITIONS):  # each into an empty store; the order reverses each round
        order = TOOLS if i % 2 == 0 else TOOLS[::-1]
        for tool, result in one_round(options.work / f"run-{i}", data, size, order).items():
            measured[tool].append(result)
    return rows(size, measured, reflink_note(options.work), import_floor(options.work))


def one_round(workdir: Path, data: Path, size: int, order: tuple[str, ...]) -> dict[str, Measured]:
    steps: dict[str, Callable[[], ProcessRun]] = {
        "slipway": lambda: slipway_add(workdir / "slipway", data, size),
        "dvc": lambda: dvc_add(workdir / "dvc", data),
        "cp": lambda: plain_cp(workdir / "cp", data, size),
    }
    results = {}
    for tool in order:
        sync_disks()
        process = steps[tool]()
        start = time.perf_counter()
        sync_disks()
        results[tool] = Measured(process, time.perf_counter() - start)
        shutil.rmtree(workdir / tool)
    return results


def generate(path: Path, size: int) -> None:
    """Pseudo-random bytes (SHAKE-128 stream per 64 MiB chunk): incompressible, no repeats."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        for i in range(size // CHUNK):
            f.write(hashlib.shake_128(b"slipway-bench-%d" % i).digest(CHUNK))


def slipway_add(workdir: Path, data: Path, size: int) -> ProcessRun:
    """`slipway data add big.bin` in a fresh `slipway init` workspace; the file is moved in
    and back out."""
    workdir.mkdir(parents=True)
    env = slipway_env()
    check_output([SLIPWAY_BIN / "slipway", "init"], cwd=workdir, env=env)
    inside = workdir / data.name
    os.replace(data, inside)
    try:
        process = measure_process(
            [SLIPWAY_BIN / "slipway", "data", "add", data.name], cwd=workdir, env=env
        )
    finally:
        os.replace(inside, data)
    if not re.fullmatch(rf"{re.escape(data.name)}@v1 [0-9a-f]{{64}}\s*", process.stdout):
        raise BenchError(f"`slipway data add {data.name}` printed {process.stdout.strip()!r}")
    pointer = (workdir / f"{data.name}.slipway").read_text()
    if f"size: {size}\n" not in pointer or "kind: file\n" not in pointer:
        raise BenchError(f"{data.name}.slipway does not record a {size}-byte file: {pointer}")
    stored = sum(p.stat().st_size for p in (workdir / ".slipway" / "objects").rglob("*"))
    if stored < size:
        raise BenchError(f"slipway's object store holds {stored:,} bytes, less than {size:,}")
    return process


def dvc_add(workdir: Path, data: Path) -> ProcessRun:
    """`dvc add` in a fresh `dvc init --no-scm` repo; the file is moved in and back out."""
    workdir.mkdir(parents=True)
    dvc, env = ANCHORS_BIN / "dvc", dvc_env(workdir)
    check_output([dvc, "init", "--no-scm", "-q"], cwd=workdir, env=env)
    inside = workdir / data.name
    os.replace(data, inside)
    try:
        process = measure_process([dvc, "add", "-q", data.name], cwd=workdir, env=env)
    finally:
        os.replace(inside, data)
    if not (workdir / f"{data.name}.dvc").is_file():
        raise BenchError(f"`dvc add` wrote no {data.name}.dvc in {workdir}")
    return process


def plain_cp(workdir: Path, data: Path, size: int) -> ProcessRun:
    """`cp big.bin copy.bin`: the least any tool storing a copy of the file has to do."""
    workdir.mkdir(parents=True)
    process = measure_process(["cp", data, workdir / "copy.bin"], cwd=workdir)
    if (workdir / "copy.bin").stat().st_size != size:
        raise BenchError(f"`cp` wrote a copy of a different size than {size:,}")
    return process


def rows(
    size: int, measured: dict[str, list[Measured]], reflinks: str, floor: list[float]
) -> list[Row]:
    slipway, dvc = measured["slipway"], measured["dvc"]
    n, label = len(slipway), fmt(size / MIB, "MiB")
    times = {tool: [m.process.wall_s for m in measured[tool]] for tool in TOOLS}
    s_rss = [m.process.peak_rss_mib for m in slipway]
    d_rss = [m.process.peak_rss_mib for m in dvc]
    slipway_cmd = "`slipway data add big.bin` in a fresh `slipway init` workspace"
    dvc_cmd = "`dvc add -q big.bin` in a fresh `dvc init --no-scm` repo"
    cp_cmd = "`cp big.bin copy.bin` on the same disk"
    how_time = (
        f"wall time of the whole process, median of {n} after 1 warm-up, empty store each, "
        "`sync` before each"
    )
    how_rss = f"peak RSS (RUSAGE_CHILDREN ru_maxrss in a fresh wrapper process), max of {n}"
    order = f"order by round: {', '.join(TOOLS)}, reversed every other round"
    syncs = "; ".join(
        f"{tool} {spread([m.sync_s for m in measured[tool]], 's').removeprefix('runs: ')}"
        for tool in TOOLS
    )
    time_notes = (
        "slipway fsyncs each object before publishing it; dvc and cp do not, so the `sync` "
        f"right after each command (timed apart from it) shows what it left to write back: {syncs}",
        reflinks,
    )
    s_time, d_time, cp_time = (median(times[tool]) for tool in TOOLS)
    anchor_dvc = Anchor("dvc add", d_time, f"{dvc_cmd}: {how_time}; {spread(times['dvc'], 's')}")
    anchor_cp = Anchor(
        "cp (reference)", cp_time, f"{cp_cmd}: {how_time}; {spread(times['cp'], 's')}"
    )
    # What a copy costs once it is on the disk, as Slipway's is when its command returns.
    durable = [m.process.wall_s + m.sync_s for m in measured["cp"]]
    anchor_durable = Anchor(
        "cp + sync (reference)",
        median(durable),
        f"{cp_cmd}, then `sync`: the two timed one after the other, {how_time}; "
        f"{spread(durable, 's')}",
    )
    slipway_time = f"{slipway_cmd}: {how_time}; {spread(times['slipway'], 's')} ({order})"
    within_cp = CP_FACTOR * median(durable)
    # The least a Python command that makes a durable copy and records it can take.
    anchor_floor = Anchor(
        "cp + sync + python floor (reference)",
        median(durable) + median(floor),
        f'the cp + sync reference plus `.venv/bin/python -c "{FLOOR_CODE}"` (Python '
        "starting and importing the CLI's, the schemas' and the store's libraries, as "
        "`slipway data add` must before it records the version), timed like the tools: "
        f"median of {len(floor)}; {spread(floor, 's')}",
    )
    return [
        Row(
            case="add_2gib",
            metric=f"store a {label} file: wall time (median of {n})",
            unit="s",
            slipway=s_time,
            source=slipway_time,
            anchors=(anchor_dvc, anchor_cp, anchor_durable),
            target=Target(
                d_time / DVC_FACTOR, "s", inclusive=True, label=f">= {DVC_FACTOR}x dvc add"
            ),
            notes=time_notes,
        ),
        Row(
            case="add_2gib",
            metric=f"store a {label} file, against a durable copy: wall time (median of {n})",
            unit="s",
            slipway=s_time,
            source=slipway_time,
            anchors=(anchor_durable, anchor_floor),
            target=Target(
                within_cp,
                "s",
                inclusive=True,
                label=f"<= {CP_FACTOR:g}x cp + sync ({fmt(within_cp, 's')})",
            ),
        ),
        Row(
            case="add_2gib",
            metric=f"store a {label} file: peak RSS (max of {n})",
            unit="MiB",
            slipway=max(s_rss),
            source=f"{slipway_cmd}: {how_rss}; {spread(s_rss, 'MiB')}",
            anchors=(
                Anchor("dvc add", max(d_rss), f"{dvc_cmd}: {how_rss}; {spread(d_rss, 'MiB')}"),
            ),
            target=RSS_TARGET,
        ),
    ]


CASE = Case(
    name="add_2gib",
    summary=(
        "store one 2 GiB pseudo-random file (256 MiB with --quick): `slipway data add` vs "
        "`dvc add`, and a plain `cp` as the reference; wall time and peak RSS"
    ),
    run=run,
    min_free_bytes=min_free_bytes,
    anchors_needed=("dvc",),
)
