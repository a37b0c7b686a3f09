"""`pipeline_chain`: a chain of 20 trivial steps, each taking the previous one's output,
`slipway pipeline run` vs `dvc repro`.

Each round makes a fresh `slipway init` workspace holding `chain.py` (the `@pipeline` below)
and a fresh `git init` + `dvc init` repository whose `dvc.yaml` has the same chain as 20
stages (stage i runs `python -c` reading the previous stage's output file and writing its
own; `deps` on that file, `outs` its own). Then, in the round: the first run of each tool
(timed), no-op re-runs through the CLI (timed, the order alternating), a forced run of the
Slipway CLI on the process executor (timed, a note), and one fresh child process per tool
that times in-process no-op re-runs (Slipway: `chain.run()`, DVC: `Repo().reproduce()`),
and for Slipway forced runs (`cache=False`) on the local and the process executor. Every run
is checked: exit code, which steps ran or were cache hits, the last output (190).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cases._common import (
    ANCHORS_BIN,
    SLIPWAY_BIN,
    Anchor,
    BenchError,
    Case,
    Options,
    Row,
    Skip,
    Target,
    fmt,
    median,
    spread,
)
from cases._data_tree import (
    GIT_IDENTITY,
    HOW,
    Step,
    Timed,
    both,
    dvc_env,
    floor_anchor,
    helper,
    import_floor,
    load_note,
    runs,
    slipway_env,
    timed,
)
from cases._tracking import SLIPWAY, Tool, measure, sig3

STAGES = 20
EXPECTED = sum(range(STAGES))  # what the last step returns: 0 + 0 + 1 + ... + 19
REF = "chain:chain"
CHAIN_PY = """from slipway import pipeline, step


@step
def stage(previous: int, index: int) -> int:
    return previous + index


@pipeline
def chain(stages: int = 20):
    value = 0
    for index in range(stages):
        value = stage(value, index)
"""
START = "start.txt"  # the chain's starting value for DVC, committed to git

SLIPWAY_CLI = SLIPWAY_BIN / "slipway"
DVC = ANCHORS_BIN / "dvc"
STAGE_PYTHON = ANCHORS_BIN / "python"  # what DVC's stage commands run
SLIPWAY_CHILD = Tool("slipway", SLIPWAY.python, "slipway_pipeline.py")
DVC_CHILD = Tool("dvc", ANCHORS_BIN / "python", "dvc_pipeline.py")

SLIPWAY_WHERE = (
    "in a fresh `slipway init` workspace holding chain.py (embedded: SQLite + local object store)"
)
DVC_WHERE = (
    f"in a fresh `git init` + `dvc init` repository whose dvc.yaml holds the {STAGES} stages"
)
IN_PROCESS = "timed in a fresh child process after 1 untimed call (all cache hits)"
FORCED = "timed in the same child, after its no-op calls"


@dataclass(frozen=True)
class Sizes:
    rounds: int  # fresh folders, each with a first run per tool
    noop_cli: int  # CLI no-op re-runs per tool and round
    noop_calls: int  # in-process no-op calls per child
    local_runs: int  # forced runs on the local executor per child
    process_runs: int  # forced runs on the process executor per child


FULL = Sizes(rounds=3, noop_cli=3, noop_calls=5, local_runs=3, process_runs=2)
QUICK = Sizes(rounds=1, noop_cli=2, noop_calls=5, local_runs=3, process_runs=2)


@dataclass
class Results:
    first: Step = field(default_factory=Step)
    noop: Step = field(default_factory=Step)
    cli_process: list[float] = field(default_factory=list)  # forced CLI runs, process executor
    slipway_noop: list[float] = field(default_factory=list)  # in-process, seconds per call
    dvc_noop: list[float] = field(default_factory=list)
    local: list[float] = field(default_factory=list)  # forced in-process runs, seconds
    process: list[list[float]] = field(default_factory=list)  # per child, in call order
    stage_cmd: list[float] = field(default_factory=list)  # one DVC stage command on its own
    floor: list[float] = field(default_factory=list)  # import_floor()
    notes: list[str] = field(default_factory=list)


# -- the two tools -----------------------------------------------------------------------------


def step_lines(stdout: str, what: str) -> int:
    """How many of the CLI's progress lines (`  stage_3: cached`) say `what`."""
    return len(re.findall(rf"^  stage(?:_\d+)?: {what}", stdout, flags=re.MULTILINE))


class Slipway:
    def __init__(self, root: Path) -> None:
        self.root, self.env = root, slipway_env()

    def setup(self) -> None:
        self.root.mkdir(parents=True)
        helper([SLIPWAY_CLI, "init"], self.root, self.env)
        (self.root / "chain.py").write_text(CHAIN_PY)

    def pipeline_run(self, *args: str, ran: int) -> Timed:
        """`slipway pipeline run chain:chain ARGS`; checks that `ran` steps ran, the rest were
        cache hits."""
        cmd = ["pipeline", "run", REF, *args]
        result = timed([SLIPWAY_CLI, *cmd], self.root, self.env)
        finished, cached = (
            step_lines(result.stdout, "finished in"),
            step_lines(result.stdout, "cached"),
        )
        if (finished, cached) != (ran, STAGES - ran):
            raise BenchError(
                f"`slipway {' '.join(cmd)}` ran {finished} and reused {cached} steps, expected "
                f"{ran} and {STAGES - ran}: {result.stdout.strip()[:500]}"
            )
        return result

    def first_run(self) -> Timed:
        return self.pipeline_run(ran=STAGES)

    def noop(self) -> Timed:
        return self.pipeline_run(ran=0)


def stage_command(index: int) -> tuple[str, str, str]:
    """(dependency, output, the python code) of DVC stage `index` (0-based)."""
    previous = START if index == 0 else f"s{index:02d}.txt"
    output = f"s{index + 1:02d}.txt"
    code = (
        f"from pathlib import Path as P; "
        f"P('{output}').write_text(str(int(P('{previous}').read_text()) + {index}))"
    )
    return previous, output, code


def dvc_yaml() -> str:
    lines = ["stages:"]
    for index in range(STAGES):
        previous, output, code = stage_command(index)
        cmd = f'{STAGE_PYTHON} -c "{code}"'
        lines += [
            f"  stage{index + 1:02d}:",
            f"    cmd: {json.dumps(cmd)}",  # a JSON string is a YAML double-quoted scalar
            f"    deps: [{previous}]",
            f"    outs: [{output}]",
        ]
    return "\n".join(lines) + "\n"


class Dvc:
    def __init__(self, root: Path) -> None:
        self.root, self.env = root, dvc_env(root.parent)

    def setup(self) -> None:
        self.root.mkdir(parents=True)
        helper(["git", "init", "-q"], self.root, self.env)
        helper([DVC, "init", "-q"], self.root, self.env)
        self.commit("dvc init", ".dvc", ".dvcignore")
        (self.root / START).write_text("0")
        (self.root / "dvc.yaml").write_text(dvc_yaml())
        self.commit("the chain", START, "dvc.yaml")

    def commit(self, message: str, *paths: str) -> None:
        if not (self.root / ".git").is_dir():  # never reach the repository around bench/.work
            raise BenchError(f"{self.root} is not a git repository")
        git = ["git", "-C", str(self.root)]
        helper([*git, "add", "--", *paths], self.root, self.env)
        helper([*git, *GIT_IDENTITY, "commit", "-q", "-m", message], self.root, self.env)

    def first_run(self) -> Timed:
        result = timed([DVC, "repro"], self.root, self.env)
        ran = result.stdout.count("Running stage '")
        last = self.root / f"s{STAGES:02d}.txt"
        value = last.read_text() if last.is_file() else "(missing)"
        if ran != STAGES or value != str(EXPECTED):
            raise BenchError(
                f"`dvc repro` ran {ran} stages, expected {STAGES}; {last.name} holds {value!r}, "
                f"expected {EXPECTED}"
            )
        self.commit("dvc repro", "dvc.lock", ".gitignore")  # as dvc repro suggests, untimed
        return result

    def noop(self) -> Timed:
        result = timed([DVC, "repro"], self.root, self.env)
        if "Running stage" in result.stdout or "up to date" not in result.stdout:
            raise BenchError(f"the no-op `dvc repro` printed {result.stdout.strip()[-500:]!r}")
        return result


# -- the sequence ------------------------------------------------------------------------------


def run_round(work: Path, sizes: Sizes, number: int, results: Results) -> None:
    slipway, dvc = Slipway(work / "slipway"), Dvc(work / "dvc")
    slipway.setup()
    dvc.setup()
    both(results.first, slipway.first_run, dvc.first_run, slipway_first=number % 2 == 1)
    for i in range(sizes.noop_cli):
        both(results.noop, slipway.noop, dvc.noop, slipway_first=(number + i) % 2 == 0)
    results.cli_process.append(
        slipway.pipeline_run("--executor", "process", "--no-cache", ran=STAGES).seconds
    )
    children: list[tuple[Tool, list[str], Path]] = [
        (
            SLIPWAY_CHILD,
            [
                *("--noop", str(sizes.noop_calls), "--local", str(sizes.local_runs)),
                *("--process", str(sizes.process_runs), "--stages", str(STAGES)),
                *("--expected", str(EXPECTED)),
            ],
            slipway.root,
        ),
        (
            DVC_CHILD,
            ["--noop", str(sizes.noop_calls), "--site-cache", dvc.env["DVC_SITE_CACHE_DIR"]],
            dvc.root,
        ),
    ]
    if number % 2 == 1:
        children.reverse()
    for tool, args, cwd in children:
        found: dict[str, Any] = measure(tool, "measure", *args, cwd=cwd)
        if tool is SLIPWAY_CHILD:
            results.slipway_noop += found["noop_s"]
            results.local += found["local_s"]
            results.process.append(found["process_s"])
        else:
            results.dvc_noop += found["noop_s"]


def time_stage_command(work: Path, count: int) -> list[float]:
    """DVC's first stage command on its own (a fresh interpreter, one small file read and
    written), timed as the tools are: how much of DVC's time per stage is the command."""
    work.mkdir()
    (work / START).write_text("0")
    _, output, code = stage_command(0)
    seconds = [timed([STAGE_PYTHON, "-c", code], work, os.environ).seconds for _ in range(count)]
    if (work / output).read_text() != "0":
        raise BenchError(f"the stage command wrote {(work / output).read_text()!r}, expected 0")
    return seconds


def sequence(options: Options, sizes: Sizes) -> Results:
    if shutil.which("git") is None:
        raise Skip("git is not installed; DVC is measured in a git repository")
    start = load_note("at the start")
    results = Results()
    for number in range(sizes.rounds):
        run_round(options.work / f"round-{number + 1}", sizes, number, results)
    results.stage_cmd = time_stage_command(options.work / "stage-command", 5)
    results.floor = import_floor(options.work)
    results.notes = [f"machine: {start}; {load_note('at the end')}"]
    return results


# -- rows --------------------------------------------------------------------------------------


def ms(values: Sequence[float], per: int = 1) -> list[float]:
    """Seconds to milliseconds (divided by `per`), three significant digits."""
    return [sig3(v * 1000 / per) for v in values]


def no_op_target(dvc_noop: float) -> Target:
    """At least 3x faster than `dvc repro` in the same run (issue 15)."""
    limit = dvc_noop / 3
    label = f">= 3x dvc repro (slipway <= {fmt(limit, 's')})"
    return Target(limit, "s", inclusive=True, label=label)


def per_stage_anchor(results: Results) -> Anchor:
    values = ms(results.first.dvc, STAGES)
    return Anchor(
        "dvc repro, per stage",
        sig3(median(values)),
        f"the first `dvc repro` {DVC_WHERE}, divided by {STAGES}: {HOW}; "
        f"{'one run' if len(values) == 1 else f'median of {len(values)}'}, per stage: "
        f"{spread(values, 'ms')}",
    )


def rows(results: Results, sizes: Sizes) -> list[Row]:
    stage_cmd = ms(results.stage_cmd)
    common = (
        f"Slipway: `slipway pipeline run {REF}` of `@step stage(previous, index)` returning "
        f"previous + index, called {STAGES} times in the `@pipeline`; DVC: {STAGES} stages, "
        f"stage i running `python -c` (the anchors' venv Python) that reads the previous "
        f"stage's output file and writes its own, `deps` the previous output, `outs` its own",
        f"one DVC stage command on its own (a fresh interpreter reading and writing one small "
        f"file) takes {fmt(median(stage_cmd), 'ms')} here (median of {len(stage_cmd)}; "
        f"{spread(stage_cmd, 'ms')}): that much of DVC's time per stage is the command",
        *results.notes,
    )
    first, noop = results.first, results.noop
    local, process = ms(results.local, STAGES), [ms(found, STAGES) for found in results.process]
    process_all = [value for found in process for value in found]
    by_position = "; ".join(
        f"call {i + 1} in each child: {spread([found[i] for found in process], 'ms')}"
        for i in range(sizes.process_runs)
    )
    cli_process = results.cli_process
    return [
        Row(
            case="pipeline_chain",
            metric=f"first run of a {STAGES}-step chain (CLI, nothing cached): wall time",
            unit="s",
            slipway=median(first.slipway),
            source=f"`slipway pipeline run {REF}` {SLIPWAY_WHERE}: {HOW}; "
            f"{runs(first.slipway, first.first)}",
            anchors=(
                Anchor(
                    "dvc repro",
                    median(first.dvc),
                    f"`dvc repro` {DVC_WHERE}: {HOW}; {runs(first.dvc, first.first)}",
                ),
            ),
            notes=(
                "one fresh folder per tool and round; `dvc.lock` and `.gitignore` are "
                "committed after DVC's first run (untimed), as it suggests",
                *common,
            ),
        ),
        Row(
            case="pipeline_chain",
            metric=f"no-op re-run of the {STAGES}-step chain (CLI, every step cached): "
            f"wall time (median of {len(noop.slipway)})",
            unit="s",
            slipway=median(noop.slipway),
            source=f"`slipway pipeline run {REF}` again (every step a cache hit, checked) "
            f"{SLIPWAY_WHERE}: {HOW}; {runs(noop.slipway, noop.first)}",
            anchors=(
                Anchor(
                    "dvc repro",
                    median(noop.dvc),
                    f'`dvc repro` again ("Data and pipelines are up to date", checked) '
                    f"{DVC_WHERE}: {HOW}; {runs(noop.dvc, noop.first)}",
                ),
                floor_anchor(results.floor),
            ),
            target=no_op_target(median(noop.dvc)),
            notes=(
                f"{sizes.noop_cli} re-runs per tool in each of {sizes.rounds} round(s), right "
                "after the first runs",
                f"3x dvc repro means slipway <= {fmt(median(noop.dvc) / 3, 's')}; Python "
                "starting and importing click, pydantic and SQLAlchemy alone takes "
                f"{fmt(median(results.floor), 's')} here (the floor reference): a target "
                "below it is out of reach for a command that looks up its steps' cache in "
                "the database",
            ),
        ),
        Row(
            case="pipeline_chain",
            metric=f"no-op re-run of the {STAGES}-step chain in-process (every step cached): "
            f"wall time per call (median of {len(results.slipway_noop)})",
            unit="ms",
            slipway=sig3(median(ms(results.slipway_noop))),
            source=f"`chain.run()` (chain imported from chain.py, local executor) {IN_PROCESS}, "
            f"{sizes.noop_calls} calls per child, one child per round; "
            f"{spread(ms(results.slipway_noop), 'ms')}",
            anchors=(
                Anchor(
                    "dvc Repo.reproduce() in-process",
                    sig3(median(ms(results.dvc_noop))),
                    f"`repo.reproduce()` on one `dvc.repo.Repo('.')` (DVC's Python class "
                    f"behind `dvc repro`, not its documented `dvc.api`) {IN_PROCESS}, "
                    f"{sizes.noop_calls} calls per child, one child per round; "
                    f"{spread(ms(results.dvc_noop), 'ms')}",
                ),
            ),
            target=Target(20, "ms"),
        ),
        Row(
            case="pipeline_chain",
            metric="per-step overhead, local executor: a forced full run (`cache=False`) "
            f"in-process / {STAGES}",
            unit="ms",
            slipway=sig3(median(local)),
            source=f"`chain.run(executor='local', cache=False)` {FORCED}, "
            f"{sizes.local_runs} runs per child, one child per round, each divided by "
            f"{STAGES}; {spread(local, 'ms')}",
            anchors=(per_stage_anchor(results),),
            notes=(
                "a reference, no target: every step runs in the calling process, its output "
                "stored and its step run recorded",
            ),
        ),
        Row(
            case="pipeline_chain",
            metric="per-step overhead, process executor (pool start included): a forced full "
            f"run (`cache=False`) in-process / {STAGES}",
            unit="ms",
            slipway=sig3(median(process_all)),
            source=f"`chain.run(executor='process', cache=False)` {FORCED} and forced local runs, "
            f"{sizes.process_runs} runs per child, one child per round, each divided by "
            f"{STAGES}; {by_position}",
            anchors=(per_stage_anchor(results),),
            notes=(
                "a reference, no target: nothing is excluded; the pool of spawned worker "
                "processes starts with the first step and is shut down at the end of every "
                "run, so each run pays for its start (the later call in a child too)",
                f"through the CLI, `slipway pipeline run {REF} --executor process --no-cache` "
                f"took {fmt(median(cli_process), 's')} wall time, imports included "
                f"({runs(cli_process)})",
            ),
        ),
    ]


def run(options: Options) -> list[Row]:
    sizes = QUICK if options.quick else FULL
    return rows(sequence(options, sizes), sizes)


CASE = Case(
    name="pipeline_chain",
    summary=(
        f"a {STAGES}-step chain of trivial steps: first run and no-op re-run of "
        f"`slipway pipeline run` vs `dvc repro`, no-op in-process, per-step overhead"
    ),
    run=run,
    anchors_needed=("dvc",),
)
