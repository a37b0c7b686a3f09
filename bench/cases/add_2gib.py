"""`add_2gib`: put one large file under version control; Slipway's object store vs `dvc add`."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
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

FULL_SIZE = 2 * GIB
QUICK_SIZE = 256 * MIB
CHUNK = 64 * MIB
REPETITIONS = 2
RSS_TARGET = Target(200, "MiB")

# Runs in a child `.venv/bin/python -c`: argv = [objects url, file to store].
SLIPWAY_PUT = """
import json, resource, sys, time
from pathlib import Path
from slipway.objects import ObjectStore
store = ObjectStore.from_url(sys.argv[1])
start = time.perf_counter()
info = store.put_file(Path(sys.argv[2]))
elapsed = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = {"size": info.size, "created": info.created, "put_file_s": elapsed, "rss_kib": rss}
print(json.dumps(result))
"""


@dataclass(frozen=True)
class SlipwayRun:
    process: ProcessRun
    put_file_s: float  # the call alone, timed inside the child
    self_rss_mib: float  # the child's own RUSAGE_SELF figure, a cross-check of the wrapper's


def size_for(options: Options) -> int:
    return QUICK_SIZE if options.quick else FULL_SIZE


def min_free_bytes(options: Options) -> int:
    # Data file + Slipway's copy + DVC's cache copy, with room to spare.
    return 2 * GIB if options.quick else 10 * GIB


def run(options: Options) -> list[Row]:
    size = size_for(options)
    data = options.work / "data" / "big.bin"
    generate(data, size)
    # Untimed warm-up: the first 2 GiB written after boot ran twice as slow on a VM (guest
    # memory first touched), and would have penalised whichever tool went first.
    pair(options.work / "warmup", data, size, slipway_first=True)
    slipway_runs: list[SlipwayRun] = []
    dvc_runs: list[ProcessRun] = []
    for i in range(REPETITIONS):  # each into an empty store; who goes first alternates
        s_run, d_run = pair(options.work / f"run-{i}", data, size, slipway_first=i % 2 == 0)
        slipway_runs.append(s_run)
        dvc_runs.append(d_run)
    return rows(size, slipway_runs, dvc_runs)


def pair(
    workdir: Path, data: Path, size: int, slipway_first: bool
) -> tuple[SlipwayRun, ProcessRun]:
    def slipway() -> SlipwayRun:
        sync_disks()
        return slipway_put(workdir / "slipway", data, size)

    def dvc() -> ProcessRun:
        sync_disks()
        return dvc_add(workdir / "dvc", data)

    if slipway_first:
        s_run = slipway()
        return s_run, dvc()
    d_run = dvc()
    return slipway(), d_run


def generate(path: Path, size: int) -> None:
    """Pseudo-random bytes (SHAKE-128 stream per 64 MiB chunk): incompressible, no repeats."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        for i in range(size // CHUNK):
            f.write(hashlib.shake_128(b"slipway-bench-%d" % i).digest(CHUNK))


def slipway_put(workdir: Path, data: Path, size: int) -> SlipwayRun:
    workdir.mkdir(parents=True)
    cmd: list[str | Path] = [
        SLIPWAY_BIN / "python",
        "-c",
        SLIPWAY_PUT,
        f"file://{workdir / 'objects'}",
        data,
    ]
    process = measure_process(cmd, cwd=workdir)
    result = json.loads(process.stdout)
    if result["size"] != size or not result["created"]:
        raise BenchError(f"slipway stored {result} for a new {size}-byte file")
    shutil.rmtree(workdir)
    return SlipwayRun(process, result["put_file_s"], result["rss_kib"] / 1024)


def dvc_env(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(workdir / ".dvc-site-cache"),
    }


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
    shutil.rmtree(workdir)
    return process


def rows(size: int, slipway: list[SlipwayRun], dvc: list[ProcessRun]) -> list[Row]:
    n, label = len(slipway), fmt(size / MIB, "MiB")
    s_times = [r.process.wall_s for r in slipway]
    d_times = [r.wall_s for r in dvc]
    s_rss = [r.process.peak_rss_mib for r in slipway]
    d_rss = [r.peak_rss_mib for r in dvc]
    slipway_cmd = "`.venv/bin/python -c 'ObjectStore.from_url(file://…/objects).put_file(big)'`"
    dvc_cmd = "`dvc add -q big.bin` in a fresh `dvc init --no-scm` repo"
    how_time = f"wall time of the whole process, median of {n} after 1 warm-up, empty store each"
    how_rss = f"peak RSS (RUSAGE_CHILDREN ru_maxrss in a fresh wrapper process), max of {n}"
    put_only = [r.put_file_s for r in slipway]
    return [
        Row(
            case="add_2gib",
            metric=f"store a {label} file: wall time (median of {n})",
            unit="s",
            slipway=median(s_times),
            source=f"{slipway_cmd}: {how_time}; {spread(s_times, 's')}",
            anchors=(
                Anchor(
                    "dvc add", median(d_times), f"{dvc_cmd}: {how_time}; {spread(d_times, 's')}"
                ),
            ),
            notes=(
                f"slipway put_file() alone, timed in the child: {spread(put_only, 's')} "
                "(the rest is interpreter start and imports)",
                "slipway fsyncs each object before publishing it; dvc does not fsync",
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
            notes=(
                "the child's own RUSAGE_SELF ru_maxrss, as a cross-check: "
                + spread([r.self_rss_mib for r in slipway], "MiB"),
            ),
        ),
    ]


CASE = Case(
    name="add_2gib",
    summary=(
        "store one 2 GiB pseudo-random file (256 MiB with --quick): Slipway's "
        "`ObjectStore.put_file` in a child process vs `dvc add`; wall time and peak RSS"
    ),
    run=run,
    min_free_bytes=min_free_bytes,
    anchors_needed=("dvc",),
)
