"""Run a pipeline, or resume a run: record its start (the service reuses what the cache has),
then let the driver execute what is left. A run whose every step is cached ends there."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from slipway.config import load_settings
from slipway.errors import Conflict, InvalidInput
from slipway.pipelines._link import Link, alive, driver_id, static_key
from slipway.pipelines._result import PipelineRun

if TYPE_CHECKING:
    from slipway.client import Client
    from slipway.pipelines._graph import Graph
    from slipway.services.pipeline_runs.schemas import PipelineRun as RunRecord

Echo = Callable[[str], None]


def run_graph(
    graph: Graph,
    *,
    executor: str = "local",
    cache: bool = True,
    project: str | None = None,
    client: Client | None = None,
    echo: Echo | None = None,
    schedule: tuple[str, int] | None = None,
    connect: Callable[[], Client] | None = None,
) -> PipelineRun:
    """Run `graph` and return the recorded run (a failed step fails the run, it does not
    raise). `schedule` is (schedule name, occurrence) when a scheduler starts the run.

    Without `client`, `connect` makes one when first needed.
    """
    from slipway.services.pipeline_runs.schemas import PipelineRunCreate, StepPlan

    if executor not in ("local", "process", "ray"):
        raise InvalidInput(f"executor {executor!r} is not one of local, process, ray")
    link = Link(client, connect or _current_client)
    if project is None:
        project = (client.settings if client is not None else load_settings()).project
    statics = {n.name: static_key(n, link, project) for n in graph.nodes}
    body = PipelineRunCreate(
        pipeline=graph.ref,
        name=graph.pipeline,
        executor=executor,
        params=graph.params,
        steps=[
            StepPlan(
                step=n.name,
                upstream=list(n.after),
                resources=n.step.resources,
                static_key=statics[n.name] if cache and n.step.cache else None,
                inputs={param: ref.node for param, ref in n.inputs.items()},
            )
            for n in graph.nodes
        ],
        driver=driver_id(),
        schedule=schedule[0] if schedule else None,
        scheduled_at=schedule[1] if schedule else None,
    )
    record: RunRecord = link.call("create_pipeline_run", project=project, body=body)
    return _drive(graph, link, record, executor, cache, echo, statics, resuming=False)


def resume_run(
    run_id: str,
    *,
    client: Client | None = None,
    executor: str | None = None,
    cache: bool = True,
    echo: Echo | None = None,
) -> PipelineRun:
    """Run again what a failed or killed run did not finish; finished steps are kept."""
    from slipway.pipelines._loader import load_pipeline
    from slipway.services.pipeline_runs.schemas import PipelineRunUpdate

    client = client or _current_client()
    link = Link(client, _current_client)
    record: RunRecord = client.call("get_pipeline_run", run_id=run_id)
    if record.status == "finished":
        raise Conflict(f"pipeline run {run_id} finished; there is nothing to resume")
    if record.status == "running" and alive(record.driver):
        raise Conflict(
            f"pipeline run {run_id} is still running in process {record.driver}; "
            "stop it first, or wait for it to end"
        )
    graph = load_pipeline(record.pipeline).build(**record.params)
    if {n.name for n in graph.nodes} != set(record.steps):
        raise Conflict(
            f"pipeline {record.pipeline} no longer has the steps run {run_id} recorded "
            f"({', '.join(record.steps)}); start a new run instead"
        )
    record = client.call(
        "update_pipeline_run",
        run_id=run_id,
        body=PipelineRunUpdate(status="running", driver=driver_id()),
    )
    chosen = executor or record.executor
    statics = {n.name: static_key(n, link, record.project) for n in graph.nodes}
    return _drive(graph, link, record, chosen, cache, echo, statics, resuming=True)


def _drive(
    graph: Graph,
    link: Link,
    record: RunRecord,
    executor: str,
    cache: bool,
    echo: Echo | None,
    statics: dict[str, str],
    *,
    resuming: bool,
) -> PipelineRun:
    """Execute what the run's record does not hold as finished; it holds every step when the
    service found them all in the cache (then nothing of the driver or the executors loads)."""
    say = echo or (lambda _line: None)
    for name, step in record.steps.items():
        if step.status == "finished":
            say(f"{name}: finished before, kept" if resuming else f"{name}: cached")
    if record.status == "finished":
        return PipelineRun(record, link.connect)
    from slipway.pipelines._driver import Driver

    return Driver(graph, link, record, executor, cache, say, statics, resuming=resuming).run()


def _current_client() -> Client:
    from slipway.client import current_client

    return current_client()
