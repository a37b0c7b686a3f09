"""One attempt of one step, wherever an executor runs it: read the inputs, call the function
inside a tracking run, store the output, measure CPU time and peak memory."""

from __future__ import annotations

import contextlib
import importlib
import json
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from slipway.pipelines._materializers import for_kind, for_value

if TYPE_CHECKING:
    from slipway.client import Client, DataObjects
    from slipway.config import Settings
    from slipway.pipelines._dsl import Step

OUTPUT = "output"  # a step has one output; a tuple or dict of values is one JSON output
_SAMPLE_S = 0.02


class StepTimeout(Exception):
    """An attempt ran past the step's timeout_s."""


@dataclass(frozen=True)
class StepTask:
    """Everything a worker needs to run one attempt; plain data, so any executor can ship it."""

    pipeline_run_id: str
    pipeline: str
    project: str
    node: str
    step_module: str
    step_qualname: str
    literals: dict[str, Any]
    inputs: dict[str, tuple[str, str]]  # param -> (hash, materializer kind)
    datasets: dict[str, tuple[str, str, str]]  # param -> (NAME@vN, project, content hash)
    timeout_s: float | None
    attempt: int
    settings: Settings | None = None  # set for workers in other processes


@dataclass
class StepResult:
    node: str
    attempt: int
    start_ms: int
    end_ms: int
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    peak_memory_bytes: int = 0
    run_id: str | None = None
    error: str = ""  # the traceback of a failed attempt

    @property
    def ok(self) -> bool:
        return not self.error


class DatasetInput(str):
    """A step's dataset argument, resolved to one version (`raw@v3`); reading it from the step
    records the version as an input of the step's tracking run."""

    project: str
    object_hash: str

    def __new__(cls, ref: str, project: str, object_hash: str) -> DatasetInput:
        value = super().__new__(cls, ref)
        value.project = project
        value.object_hash = object_hash
        return value

    def __reduce__(self) -> Any:
        return (DatasetInput, (str(self), self.project, self.object_hash))

    @property
    def ref(self) -> str:
        return str(self)

    def path(self) -> Path:
        """A local read-only copy of the version's files."""
        from slipway import data

        local: Path = data.get_path(self.ref, project=self.project)
        return local

    def load_table(self, table: str | None = None) -> Any:
        """The version's table as a pyarrow Table."""
        from slipway import data

        return data.load_table(self.ref, table=table, project=self.project)


def resolve_step(task: StepTask) -> Step:
    """The step object the task names, imported in this process."""
    from slipway.pipelines._dsl import Step

    target: Any = importlib.import_module(task.step_module)
    for part in task.step_qualname.split("."):
        target = getattr(target, part, None)
    if not isinstance(target, Step):
        raise LookupError(
            f"{task.step_module}:{task.step_qualname} is not a step importable by name; "
            "the process executor needs steps defined at module level"
        )
    return target


def execute(task: StepTask, step: Step, client: Client) -> StepResult:
    """Run one attempt. Failures come back in the result, never raised: executors differ in
    how exceptions travel, a traceback string travels everywhere."""
    from slipway import active_run, start_run
    from slipway.client import using

    start = time.time_ns() // 1_000_000
    result = StepResult(task.node, task.attempt, start, start)
    meter = _Meter()
    with using(client):
        try:
            run = start_run(
                task.project,
                name=f"{task.pipeline}.{task.node}",
                tags={
                    "slipway.pipeline_run": task.pipeline_run_id,
                    "slipway.pipeline": task.pipeline,
                    "slipway.step": task.node,
                    "slipway.attempt": task.attempt,
                },
                nested=active_run() is not None,
                capture=False,
            )
        except Exception:
            result.error = traceback.format_exc()
            result.end_ms = time.time_ns() // 1_000_000
            return result
        result.run_id = run.id
        status = "failed"
        try:
            from slipway.client import data_objects

            objects = data_objects(client.backend, client.objects)
            # CPU and memory cover reading the inputs and storing the output too: they are
            # the step's cost as much as its function is.
            with meter, tempfile.TemporaryDirectory(prefix="slipway-step-") as scratch:
                arguments = dict(task.literals)
                arguments.update(_load_inputs(task, objects, Path(scratch)))
                for param, (ref, project, digest) in task.datasets.items():
                    arguments[param] = DatasetInput(ref, project, digest)
                run.log_params({k: _param_text(v) for k, v in task.literals.items()})
                with _deadline(task.timeout_s, task.node):
                    value = step.func(**arguments)
                if value is not None:
                    result.outputs[OUTPUT] = _store(value, step.name, objects, Path(scratch))
            status = "finished"
        except BaseException as exc:
            result.error = traceback.format_exc()
            if not isinstance(exc, Exception):
                run.end("killed")
                raise
        finally:
            result.cpu_seconds = meter.cpu_seconds
            result.peak_memory_bytes = meter.peak
            result.end_ms = time.time_ns() // 1_000_000
            run.end(status)
    return result


def _load_inputs(task: StepTask, objects: DataObjects, scratch: Path) -> dict[str, Any]:
    return {
        param: read_value(objects, digest, kind, scratch / f"in-{param}")
        for param, (digest, kind) in task.inputs.items()
    }


def read_value(objects: DataObjects, digest: str, kind: str, target: Path) -> Any:
    """Materialize stored output `digest` at `target` and load it with its materializer."""
    from slipway.client import write_tree

    materializer = for_kind(kind)
    if materializer.folder:
        target.mkdir()
        write_tree(objects, objects.manifest(digest), target)
    else:
        objects.materialize([(digest, target, False)])
    return materializer.load(target)


def _store(value: Any, step: str, objects: DataObjects, scratch: Path) -> dict[str, Any]:
    from slipway.models import store_package

    materializer = for_value(value, step)
    target = scratch / "out"
    materializer.save(value, target)
    if materializer.folder:
        digest = store_package(objects, target)
        size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    else:
        size = target.stat().st_size
        digest = objects.store_files([str(target)], [size])[0][0]
    return {
        "hash": digest,
        "kind": materializer.kind,
        "type": _type_name(value),
        "size": size,
        "folder": materializer.folder,
    }


def _type_name(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def _param_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 6000 else f"{text[:5980]}... (cut)"


@contextlib.contextmanager
def _deadline(timeout_s: float | None, node: str) -> Iterator[None]:
    """Raise StepTimeout in the step when it runs past `timeout_s`.

    A real-time alarm interrupts Python code and blocking calls (sleep, I/O); it needs the
    main thread, which is where every executor's worker runs a step.
    """
    if timeout_s is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise StepTimeout(f"step {node} ran past its timeout of {timeout_s:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _Meter:
    """CPU seconds of this process and its peak resident memory while the block runs."""

    def __init__(self) -> None:
        self.cpu_seconds = 0.0
        self.peak = 0
        self._stop = threading.Event()
        self._process = psutil.Process()

    def _sample(self) -> None:
        while not self._stop.wait(_SAMPLE_S):
            self._observe()

    def _observe(self) -> None:
        with contextlib.suppress(psutil.Error):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> _Meter:
        self._observe()
        self._cpu = time.process_time()
        self._thread = threading.Thread(target=self._sample, name="slipway-step-meter", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu_seconds = time.process_time() - self._cpu
        self._stop.set()
        self._thread.join()
        self._observe()
