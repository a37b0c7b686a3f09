"""The driver's loop: walks the graph, skips what the cache has, submits the rest to an
executor, retries with backoff, skips what a failure leaves unreachable, and records it all as
it goes. Loaded only for a run with a step to execute: a fully cached run never needs it."""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import TYPE_CHECKING

from slipway.client import data_objects
from slipway.pipelines._execute import OUTPUT, StepResult, StepTask
from slipway.pipelines._executors import Executor, make_executor
from slipway.pipelines._result import PipelineRun
from slipway.services.pipeline_runs.keys import step_key

if TYPE_CHECKING:
    from slipway.pipelines._graph import Graph, Node
    from slipway.pipelines._link import Link
    from slipway.services.pipeline_runs.schemas import OutputArtifact, StepRunUpdate
    from slipway.services.pipeline_runs.schemas import PipelineRun as RunRecord

MAX_BACKOFF_S = 300.0
Echo = Callable[[str], None]


class Driver:
    """One run's walk over its graph, from the record the service made of its start; the
    steps that record holds as finished (cache hits, or kept by a resume) are not run."""

    def __init__(
        self,
        graph: Graph,
        link: Link,
        record: RunRecord,
        executor: str,
        cache: bool,
        echo: Echo,
        statics: dict[str, str],
        *,
        resuming: bool = False,
    ) -> None:
        self.graph = graph
        self.link = link
        self.record = record
        self.executor_name = executor
        self.cache = cache
        self.echo = echo
        self.statics = statics
        self.outputs: dict[str, dict[str, OutputArtifact]] = {}
        self.state: dict[str, str] = {n.name: "pending" for n in graph.nodes}
        self.keys: dict[str, str] = {}
        self.attempts: dict[str, int] = {}
        self.first_start: dict[str, int] = {}
        self.retry_at: dict[str, float] = {}
        self.running: dict[Future[StepResult], str] = {}
        self.updates: list[StepRunUpdate] = []
        self._executor: Executor | None = None
        for name, step in record.steps.items():
            if step.status == "finished" and name in self.state:
                self.state[name] = "finished"
                self.outputs[name] = dict(step.outputs)
        # Steps the service already looked up when it recorded the run (their upstream steps
        # were all reused there): asking again would find the same miss.
        self.looked_up = (
            set()
            if resuming
            else {n.name for n in graph.nodes if all(self.state[u] == "finished" for u in n.after)}
        )

    # -- the loop -------------------------------------------------------------------------------

    def run(self) -> PipelineRun:
        error = ""
        try:
            while True:
                self._launch_ready()
                self._flush()
                if not self.running and not self.retry_at:
                    break
                timeout = None
                if self.retry_at:
                    timeout = max(0.0, min(self.retry_at.values()) - time.monotonic())
                done, _ = wait(list(self.running), timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    name = self.running.pop(future)
                    self._complete(name, _result_of(future, name, self.attempts[name]))
        except BaseException as exc:
            error = f"the driver stopped: {type(exc).__name__}: {exc}"
            self._abandon(error)
            with contextlib.suppress(Exception):  # what stopped the driver is what is raised
                self._finish("failed", error)
            raise
        finally:
            if self._executor is not None:
                self._executor.close()
        failed = [n for n, s in self.state.items() if s != "finished"]
        if failed:
            first = next(n for n, s in self.state.items() if s == "failed")
            error = f"step {first} failed" + (
                f"; {len(failed) - 1} step(s) after it were skipped" if len(failed) > 1 else ""
            )
        return self._finish("failed" if failed else "finished", error)

    def _launch_ready(self) -> None:
        progressed = True
        while progressed:
            progressed = False
            now = time.monotonic()
            for node in self.graph.nodes:
                name = node.name
                if self.state[name] == "retrying" and self.retry_at.get(name, now + 1) <= now:
                    del self.retry_at[name]
                    self._submit(node)
                if self.state[name] != "pending":
                    continue
                upstream = [self.state[u] for u in node.after]
                if any(s in ("failed", "skipped") for s in upstream):
                    self._skip(name, f"upstream step {_first_bad(node, self.state)} did not finish")
                    progressed = True
                elif all(s == "finished" for s in upstream):
                    self.keys[name] = self._cache_key(node)
                    if (
                        self.cache
                        and node.step.cache
                        and name not in self.looked_up
                        and self._reuse(node)
                    ):
                        progressed = True
                    else:
                        self._submit(node)

    def _submit(self, node: Node) -> None:
        from slipway.services.pipeline_runs.schemas import StepRunUpdate

        attempt = self.attempts.get(node.name, 0) + 1
        self.attempts[node.name] = attempt
        self.state[node.name] = "running"
        self.updates.append(
            StepRunUpdate(
                step=node.name,
                status="running",
                attempts=attempt,
                cache_key=self.keys[node.name],
                cached=False,
                start_time=_now_ms() if attempt == 1 else None,
            )
        )
        self.echo(f"{node.name}: running" + (f" (attempt {attempt})" if attempt > 1 else ""))
        self._flush()  # a local step runs inside submit: show it running first
        task = StepTask(
            pipeline_run_id=self.record.id,
            pipeline=self.graph.pipeline,
            project=self.record.project,
            node=node.name,
            step_module=node.step.module,
            step_qualname=node.step.qualname,
            literals=node.literals,
            inputs={
                param: (artifact.hash, artifact.kind)
                for param, ref in node.inputs.items()
                if (artifact := self.outputs[ref.node].get(OUTPUT)) is not None
            },
            datasets={p: self._dataset(d.ref) for p, d in node.datasets.items()},
            timeout_s=node.step.timeout_s,
            attempt=attempt,
        )
        future = self.executor.submit(task, node.step)
        self.running[future] = node.name

    def _complete(self, name: str, result: StepResult) -> None:
        from slipway.services.pipeline_runs.schemas import OutputArtifact, StepRunUpdate

        node = self.graph.node(name)
        self.first_start.setdefault(name, result.start_ms)  # when the step itself began
        if result.ok:
            outputs = {k: OutputArtifact(**v) for k, v in result.outputs.items()}
            self.outputs[name] = outputs
            self.state[name] = "finished"
            status = "finished"
            self.echo(f"{name}: finished in {(result.end_ms - result.start_ms) / 1000:.2f} s")
        elif result.attempt <= node.step.retries:
            delay = min(node.step.retry_delay_s * 2 ** (result.attempt - 1), MAX_BACKOFF_S)
            self.retry_at[name] = time.monotonic() + delay
            self.state[name] = "retrying"
            status = "running"
            self.echo(f"{name}: attempt {result.attempt} failed, retrying in {delay:g} s")
        else:
            self.state[name] = "failed"
            status = "failed"
            self.echo(f"{name}: failed\n{result.error.rstrip()}")
        self.updates.append(
            StepRunUpdate(
                step=name,
                status=status,
                end_time=result.end_ms if status != "running" else None,
                cpu_seconds=result.cpu_seconds,
                peak_memory_bytes=result.peak_memory_bytes,
                outputs=self.outputs.get(name) if status == "finished" else None,
                run_id=result.run_id,
                error=result.error,
            )
        )

    def _reuse(self, node: Node) -> bool:
        from slipway.services.pipeline_runs.schemas import CacheLookup, StepRunUpdate

        key = self.keys[node.name]
        hits = self.link.call(
            "lookup_step_cache", project=self.record.project, body=CacheLookup(keys=[key])
        ).hits
        hit = hits.get(key)
        if hit is None:
            return False
        wanted = {a.hash for a in hit.outputs.values()}
        client = self.link.client
        if wanted and data_objects(client.backend, client.objects).present(wanted) != wanted:
            return False  # the outputs were collected since: run the step again
        now = _now_ms()
        self.outputs[node.name] = dict(hit.outputs)
        self.state[node.name] = "finished"
        self.updates.append(
            StepRunUpdate(
                step=node.name,
                status="finished",
                cache_key=key,
                cached=True,
                cached_from=hit.step_run_id,
                start_time=now,
                end_time=now,
                outputs=dict(hit.outputs),
            )
        )
        self.echo(f"{node.name}: cached (from run {hit.pipeline_run_id[:8]})")
        return True

    def _skip(self, name: str, why: str) -> None:
        from slipway.services.pipeline_runs.schemas import StepRunUpdate

        self.state[name] = "skipped"
        self.updates.append(StepRunUpdate(step=name, status="skipped", error=why))
        self.echo(f"{name}: skipped, {why}")

    def _abandon(self, why: str) -> None:
        from slipway.services.pipeline_runs.schemas import StepRunUpdate

        for name, state in self.state.items():
            if state in ("running", "retrying"):
                self.updates.append(
                    StepRunUpdate(step=name, status="failed", end_time=_now_ms(), error=why)
                )
        with contextlib.suppress(Exception):  # the original failure is what gets raised
            self._flush()

    def _flush(self) -> None:
        from slipway.services.pipeline_runs.schemas import StepRunBatch

        if self.updates:
            batch, self.updates = self.updates, []
            self.link.call(
                "record_step_runs", run_id=self.record.id, body=StepRunBatch(steps=batch)
            )

    def _finish(self, status: str, error: str) -> PipelineRun:
        from slipway.services.pipeline_runs.schemas import PipelineRunUpdate

        self._flush()
        record = self.link.call(
            "update_pipeline_run",
            run_id=self.record.id,
            body=PipelineRunUpdate(status=status, error=error),
        )
        return PipelineRun(record, self.link.connect)

    # -- helpers --------------------------------------------------------------------------------

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = make_executor(
                self.executor_name, self.link.client, parallel=len(self.graph.nodes)
            )
        return self._executor

    def _cache_key(self, node: Node) -> str:
        inputs = {}
        for param, ref in node.inputs.items():
            artifact = self.outputs[ref.node].get(OUTPUT)
            inputs[param] = artifact.hash if artifact is not None else None
        return step_key(self.statics[node.name], inputs)

    def _dataset(self, ref: str) -> tuple[str, str, str]:
        return self.link.dataset(ref, self.record.project)


def _result_of(future: Future[StepResult], name: str, attempt: int) -> StepResult:
    """The attempt's result; a worker that could not even start the step (it cannot import
    it, the process died) is a failed attempt like any other, retried if the step allows."""
    try:
        return future.result()
    except Exception as exc:
        now = _now_ms()
        detail = "".join(traceback.format_exception_only(exc)).strip()
        return StepResult(name, attempt, now, now, error=f"the worker failed: {detail}")


def _first_bad(node: Node, state: dict[str, str]) -> str:
    return next(u for u in node.after if state[u] in ("failed", "skipped"))


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
