"""What pipeline runs cost: recorded resources priced with the settings' price table.

CPU is charged for the CPU time a step used, memory for its peak resident memory held over its
duration, GPUs for the GPUs it declared held over its duration. Cache hits cost nothing.
"""

from __future__ import annotations

import json

from slipway.context import Context
from slipway.operations import operation
from slipway.services.pipeline_runs.schemas import CostLine, CostReport, RunCost
from slipway.services.projects.service import project_for
from slipway.store import pipelines as rows
from slipway.store.entities import StepRunEntity

GIB = 1024**3


@operation("GET /projects/{project}/cost", permission="cost:read", audit=None)
def cost_report(
    ctx: Context, project: str, run_id: str | None = None, since: int | None = None
) -> CostReport:
    """Cost per step, per pipeline run and for the project (optionally one run, or since a
    time in ms since the epoch)."""
    prices = ctx.settings.prices
    with ctx.store.read() as conn:
        owner = project_for(conn, ctx, project, create=False)
        found = rows.project_steps(conn, owner.id, since=since, run_id=run_id)
    lines: list[CostLine] = []
    runs: dict[str, RunCost] = {}
    for run, step in found:
        line = _price(run.id, run.name, step, prices)
        lines.append(line)
        if run.id not in runs:
            runs[run.id] = RunCost(
                pipeline_run_id=run.id,
                pipeline=run.name,
                status=run.status,
                start_time=run.start_time,
                cost=0.0,
            )
        total = runs[run.id].cost + line.cost
        runs[run.id] = runs[run.id].model_copy(update={"cost": total})
    return CostReport(
        project=owner.name,
        currency=ctx.settings.currency,
        prices=dict(prices),
        steps=lines,
        runs=list(runs.values()),
        total=sum(r.cost for r in runs.values()),
    )


def _price(run_id: str, pipeline: str, step: StepRunEntity, prices: dict[str, float]) -> CostLine:
    duration_h = 0.0
    if step.start_time is not None and step.end_time is not None and not step.cached:
        duration_h = max(step.end_time - step.start_time, 0) / 3_600_000
    cpu_hours = (step.cpu_seconds or 0.0) / 3600 if not step.cached else 0.0
    memory = (step.peak_memory_bytes or 0) / GIB * duration_h
    gpus = float(json.loads(step.resources).get("gpus", 0)) * duration_h
    cost = (
        cpu_hours * prices.get("cpu_hour", 0.0)
        + memory * prices.get("memory_gib_hour", 0.0)
        + gpus * prices.get("gpu_hour", 0.0)
    )
    return CostLine(
        pipeline_run_id=run_id,
        pipeline=pipeline,
        step=step.step,
        cached=step.cached,
        duration_s=duration_h * 3600,
        cpu_hours=cpu_hours,
        memory_gib_hours=memory,
        gpu_hours=gpus,
        cost=cost,
    )
