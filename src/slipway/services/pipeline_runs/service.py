"""Pipeline runs and step runs: recorded as a run goes, read back with their lineage."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

from sqlalchemy import Connection

from slipway.context import Context
from slipway.errors import Conflict, InvalidInput, NotFound
from slipway.operations import operation
from slipway.services.pipeline_runs.keys import step_key
from slipway.services.pipeline_runs.schemas import (
    CachedStep,
    CacheHits,
    CacheLookup,
    OutputArtifact,
    PipelineRun,
    PipelineRunCreate,
    PipelineRunPage,
    PipelineRunUpdate,
    StepPlan,
    StepRun,
    StepRunBatch,
)
from slipway.services.projects.service import project_for
from slipway.store import pipelines as rows
from slipway.store import projects as project_rows
from slipway.store.entities import PipelineRunEntity, StepRunEntity

MAX_PAGE = 1000


@operation(
    "POST /projects/{project}/pipeline-runs", permission="pipeline:write", audit="pipeline.start"
)
def create_pipeline_run(ctx: Context, project: str, body: PipelineRunCreate) -> PipelineRun:
    """Record a pipeline run that starts now: steps the cache holds are recorded as reused
    (all of them: the run is finished), the others pending."""
    _check_order(body)
    now = ctx.clock()
    run = PipelineRunEntity(
        id=uuid.uuid4().hex,
        project_id="",
        pipeline=body.pipeline,
        name=body.name,
        status="running",
        executor=body.executor,
        params=json.dumps(body.params, sort_keys=True),
        driver=body.driver,
        schedule_id=None,
        scheduled_at=body.scheduled_at,
        error="",
        created_by=ctx.principal.name,
        start_time=now,
        end_time=None,
    )
    with ctx.store.write() as conn:
        owner = project_for(conn, ctx, project, create=True)
        schedule_id = None
        if body.schedule is not None:
            schedule = rows.get_schedule(conn, owner.id, body.schedule)
            if schedule is None:
                raise NotFound(f"schedule {body.schedule!r} does not exist in {project!r}")
            schedule_id = schedule.id
        hits = _cache_hits(conn, ctx, owner.id, body)
        all_cached = len(hits) == len(body.steps)
        run = replace(
            run,
            project_id=owner.id,
            schedule_id=schedule_id,
            status="finished" if all_cached else "running",
            end_time=now if all_cached else None,
        )
        steps = [
            _step_row(run.id, position, plan, hits.get(plan.step), now)
            for position, plan in enumerate(body.steps)
        ]
        rows.insert_run(conn, run, steps)
        if schedule_id is not None and body.scheduled_at is not None:
            rows.start_occurrence(conn, schedule_id, body.scheduled_at, run.id)
        return _view(conn, run, owner.name, steps)


def _step_row(
    run_id: str, position: int, plan: StepPlan, hit: tuple[str, StepRunEntity] | None, now: int
) -> StepRunEntity:
    """A step run as the run starts: pending, or finished if the cache holds its result."""
    return StepRunEntity(
        id=uuid.uuid4().hex,
        pipeline_run_id=run_id,
        step=plan.step,
        position=position,
        status="finished" if hit else "pending",
        upstream=json.dumps(plan.upstream),
        cache_key=hit[0] if hit else None,
        cached=hit is not None,
        cached_from=hit[1].id if hit else None,
        attempts=0,
        start_time=now if hit else None,
        end_time=now if hit else None,
        cpu_seconds=None,
        peak_memory_bytes=None,
        resources=json.dumps(plan.resources, sort_keys=True),
        outputs=hit[1].outputs if hit else "{}",
        run_id=None,
        error="",
    )


def _check_order(body: PipelineRunCreate) -> None:
    """Step names unique; each step after the steps it depends on (a topological order)."""
    seen: set[str] = set()
    for plan in body.steps:
        if plan.step in seen:
            raise InvalidInput(f"step {plan.step!r} appears twice; step names must be unique")
        later = [u for u in [*plan.upstream, *plan.inputs.values()] if u not in seen]
        if later:
            raise InvalidInput(
                f"step {plan.step!r} depends on {sorted(set(later))}, which are not steps "
                "listed before it"
            )
        seen.add(plan.step)


def _cache_hits(
    conn: Connection, ctx: Context, project_id: str, body: PipelineRunCreate
) -> dict[str, tuple[str, StepRunEntity]]:
    """Step -> (cache key, the finished step run it matches), following the chain of hits
    while upstream outputs are known; the step runs whose outputs are still stored."""
    hits: dict[str, tuple[str, StepRunEntity]] = {}
    outputs: dict[str, dict[str, dict[str, object]]] = {}
    for plan in body.steps:
        if plan.static_key is None or any(u not in outputs for u in plan.upstream):
            continue
        inputs = {p: _output_hash(outputs[step]) for p, step in plan.inputs.items()}
        key = step_key(plan.static_key, inputs)
        hit = rows.cached_step(conn, project_id, key)
        if hit is None:
            continue
        found = json.loads(hit.outputs)
        if not all(ctx.objects.exists(a["hash"]) for a in found.values()):
            continue  # collected since: the step runs again
        outputs[plan.step] = found
        hits[plan.step] = (key, hit)
    return hits


def _output_hash(outputs: dict[str, dict[str, object]]) -> str | None:
    found = outputs.get("output")
    return None if found is None else str(found["hash"])


@operation("POST /pipeline-runs/{run_id}/steps", permission="pipeline:write", audit="pipeline.step")
def record_step_runs(ctx: Context, run_id: str, body: StepRunBatch) -> None:
    """Record what changed in some step runs (status, timings, cache hit, outputs, resources)."""
    with ctx.store.write() as conn:
        run = _require(conn, run_id)
        if run.status != "running":
            raise Conflict(f"pipeline run {run_id} is {run.status}; resume it to change its steps")
        for update in body.steps:
            values = update.model_dump(exclude_unset=True, exclude={"step", "outputs"})
            if update.outputs is not None:
                values["outputs"] = json.dumps(
                    {k: v.model_dump() for k, v in update.outputs.items()}, sort_keys=True
                )
            if values.get("error") is None:
                values.pop("error", None)
            if not rows.update_step(conn, run.id, update.step, **values):
                raise NotFound(f"pipeline run {run_id} has no step {update.step!r}")


@operation("PATCH /pipeline-runs/{run_id}", permission="pipeline:write", audit="pipeline.update")
def update_pipeline_run(ctx: Context, run_id: str, body: PipelineRunUpdate) -> PipelineRun:
    """Finish a pipeline run, or mark it running again to resume it."""
    with ctx.store.write() as conn:
        run = _require(conn, run_id)
        values: dict[str, object] = {"status": body.status, "error": body.error}
        if body.status == "running":
            if run.status == "finished":
                raise Conflict(f"pipeline run {run_id} finished; there is nothing to resume")
            values["end_time"] = None
        else:
            values["end_time"] = ctx.clock()
        if body.driver is not None:
            values["driver"] = body.driver
        rows.update_run(conn, run.id, **values)
        return _load(conn, run.id)


@operation("GET /pipeline-runs/{run_id}", permission="pipeline:read", audit=None)
def get_pipeline_run(ctx: Context, run_id: str) -> PipelineRun:
    """Show a pipeline run: its steps with status, timings, cache hits, outputs, lineage."""
    with ctx.store.read() as conn:
        return _load(conn, run_id)


@operation("GET /projects/{project}/pipeline-runs", permission="pipeline:read", audit=None)
def list_pipeline_runs(
    ctx: Context,
    project: str,
    pipeline: str | None = None,
    max_results: int = 50,
    page_token: str | None = None,
) -> PipelineRunPage:
    """Pipeline runs of a project, newest first; `pipeline` filters by name or module:name."""
    if not 1 <= max_results <= MAX_PAGE:
        raise InvalidInput(f"max_results must be between 1 and {MAX_PAGE}, got {max_results}")
    before = None
    if page_token is not None:
        if not page_token.isdigit():
            raise InvalidInput("page_token is not one this server gave out")
        before = int(page_token)
    with ctx.store.read() as conn:
        owner = project_for(conn, ctx, project, create=False)
        found = rows.list_runs(
            conn, owner.id, limit=max_results + 1, pipeline=pipeline, before=before
        )
        page = found[:max_results]
        steps = rows.steps_of(conn, [r.id for r in page])
        by_run: dict[str, list[StepRunEntity]] = {}
        for step in steps:
            by_run.setdefault(step.pipeline_run_id, []).append(step)
        views = [_view(conn, r, owner.name, by_run.get(r.id, [])) for r in page]
    more = len(found) > max_results
    return PipelineRunPage(
        runs=views, next_page_token=str(page[-1].start_time) if more and page else None
    )


@operation(
    "POST /projects/{project}/step-cache",
    permission="pipeline:read",
    audit=None,
    read_only=True,
)
def lookup_step_cache(ctx: Context, project: str, body: CacheLookup) -> CacheHits:
    """The finished step runs that match these cache keys (latest first wins)."""
    hits: dict[str, CachedStep] = {}
    with ctx.store.read() as conn:
        owner = project_for(conn, ctx, project, create=False)
        for key in body.keys:
            found = rows.cached_step(conn, owner.id, key)
            if found is not None:
                hits[key] = CachedStep(
                    step_run_id=found.id,
                    pipeline_run_id=found.pipeline_run_id,
                    step=found.step,
                    outputs={k: OutputArtifact(**v) for k, v in json.loads(found.outputs).items()},
                )
    return CacheHits(hits=hits)


def _require(conn: Connection, run_id: str) -> PipelineRunEntity:
    """The run with this id, or the one run whose id starts with it (6 characters or more)."""
    run = rows.get_run(conn, run_id)
    if run is None and 6 <= len(run_id) < 32 and run_id.isalnum():
        found = rows.runs_starting_with(conn, run_id.lower())
        if len(found) > 1:
            raise InvalidInput(f"more than one pipeline run starts with {run_id!r}; give more")
        run = rows.get_run(conn, found[0]) if found else None
    if run is None:
        raise NotFound(
            f"pipeline run {run_id!r} does not exist; `slipway pipeline runs` lists them"
        )
    return run


def _load(conn: Connection, run_id: str) -> PipelineRun:
    run = _require(conn, run_id)
    project = project_rows.names_by_id(conn, {run.project_id}).get(run.project_id, "")
    return _view(conn, run, project, rows.steps_of(conn, [run.id]))


def _view(
    conn: Connection, run: PipelineRunEntity, project: str, steps: list[StepRunEntity]
) -> PipelineRun:
    tracked = [s.run_id for s in steps if s.run_id]
    read, registered = rows.step_lineage(conn, tracked)
    return PipelineRun(
        id=run.id,
        project=project,
        pipeline=run.pipeline,
        name=run.name,
        status=run.status,
        executor=run.executor,
        params=json.loads(run.params),
        driver=run.driver,
        schedule_id=run.schedule_id,
        scheduled_at=run.scheduled_at,
        error=run.error,
        created_by=run.created_by,
        start_time=run.start_time,
        end_time=run.end_time,
        duration_s=_seconds(run.start_time, run.end_time),
        steps={s.step: _step_view(s, read, registered) for s in steps},
    )


def _step_view(
    step: StepRunEntity, read: dict[str, list[str]], registered: dict[str, list[str]]
) -> StepRun:
    return StepRun(
        id=step.id,
        step=step.step,
        status=step.status,
        upstream=json.loads(step.upstream),
        cached=step.cached,
        cached_from=step.cached_from,
        cache_key=step.cache_key,
        attempts=step.attempts,
        start_time=step.start_time,
        end_time=step.end_time,
        duration_s=_seconds(step.start_time, step.end_time),
        cpu_seconds=step.cpu_seconds,
        peak_memory_bytes=step.peak_memory_bytes,
        resources=json.loads(step.resources),
        outputs={k: OutputArtifact(**v) for k, v in json.loads(step.outputs).items()},
        run_id=step.run_id,
        error=step.error,
        datasets=read.get(step.run_id or "", []),
        models=registered.get(step.run_id or "", []),
    )


def _seconds(start: int | None, end: int | None) -> float | None:
    return None if start is None or end is None else (end - start) / 1000
