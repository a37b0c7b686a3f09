"""Repository for pipeline runs, their step runs, schedules and claimed occurrences."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from slipway.errors import AlreadyExists
from slipway.store.entities import PipelineRunEntity, ScheduleEntity, StepRunEntity
from slipway.store.schema import (
    dataset_versions,
    datasets,
    lineage_edges,
    model_versions,
    pipeline_runs,
    pipeline_schedules,
    registered_models,
    schedule_occurrences,
    step_runs,
)

# -- runs -------------------------------------------------------------------------------------


def insert_run(conn: Connection, run: PipelineRunEntity, steps: Sequence[StepRunEntity]) -> None:
    conn.execute(insert(pipeline_runs).values(**asdict(run)))
    if steps:
        conn.execute(insert(step_runs), [asdict(s) for s in steps])


def update_run(conn: Connection, run_id: str, /, **values: Any) -> None:
    conn.execute(update(pipeline_runs).where(pipeline_runs.c.id == run_id).values(**values))


def get_run(conn: Connection, run_id: str) -> PipelineRunEntity | None:
    row = conn.execute(select(pipeline_runs).where(pipeline_runs.c.id == run_id)).first()
    return PipelineRunEntity(**row._mapping) if row is not None else None


def runs_starting_with(conn: Connection, prefix: str) -> list[str]:
    """Ids of runs that start with `prefix` (at most two: enough to tell it is ambiguous)."""
    query = select(pipeline_runs.c.id).where(pipeline_runs.c.id.startswith(prefix)).limit(2)
    return [row[0] for row in conn.execute(query)]


def list_runs(
    conn: Connection,
    project_id: str,
    *,
    limit: int,
    pipeline: str | None = None,
    before: int | None = None,
) -> list[PipelineRunEntity]:
    """Newest first; `before` is the start time the previous page ended at (keyset paging)."""
    query = select(pipeline_runs).where(pipeline_runs.c.project_id == project_id)
    if pipeline is not None:
        query = query.where(
            (pipeline_runs.c.name == pipeline) | (pipeline_runs.c.pipeline == pipeline)
        )
    if before is not None:
        query = query.where(pipeline_runs.c.start_time < before)
    query = query.order_by(pipeline_runs.c.start_time.desc(), pipeline_runs.c.id).limit(limit)
    return [PipelineRunEntity(**row._mapping) for row in conn.execute(query)]


def steps_of(conn: Connection, run_ids: Sequence[str]) -> list[StepRunEntity]:
    query = (
        select(step_runs)
        .where(step_runs.c.pipeline_run_id.in_(list(run_ids)))
        .order_by(step_runs.c.pipeline_run_id, step_runs.c.position)
    )
    return [StepRunEntity(**row._mapping) for row in conn.execute(query)]


def update_step(conn: Connection, pipeline_run_id: str, step: str, /, **values: Any) -> int:
    result = conn.execute(
        update(step_runs)
        .where(step_runs.c.pipeline_run_id == pipeline_run_id, step_runs.c.step == step)
        .values(**values)
    )
    return int(result.rowcount)


# Built once: a run looks up one key per step, and building the statement costs more than
# SQLite's indexed search.
_CACHED_STEP = (
    select(step_runs)
    .join(pipeline_runs, pipeline_runs.c.id == step_runs.c.pipeline_run_id)
    .where(
        step_runs.c.cache_key == bindparam("cache_key"),
        step_runs.c.status == "finished",
        pipeline_runs.c.project_id == bindparam("project_id"),
    )
    .order_by(step_runs.c.end_time.desc())
    .limit(1)
)


def cached_step(conn: Connection, project_id: str, cache_key: str) -> StepRunEntity | None:
    """The latest step run of the project that finished with this cache key."""
    row = conn.execute(_CACHED_STEP, {"cache_key": cache_key, "project_id": project_id}).first()
    return StepRunEntity(**row._mapping) if row is not None else None


def project_steps(
    conn: Connection, project_id: str, *, since: int | None = None, run_id: str | None = None
) -> list[tuple[PipelineRunEntity, StepRunEntity]]:
    """Step runs with their pipeline run, oldest first: what a cost report adds up."""
    query = (
        select(pipeline_runs, step_runs)
        .join(step_runs, step_runs.c.pipeline_run_id == pipeline_runs.c.id)
        .where(pipeline_runs.c.project_id == project_id)
        .order_by(pipeline_runs.c.start_time, step_runs.c.position)
    )
    if since is not None:
        query = query.where(pipeline_runs.c.start_time >= since)
    if run_id is not None:
        query = query.where(pipeline_runs.c.id == run_id)
    run_columns = len(pipeline_runs.c)
    found = []
    for row in conn.execute(query):
        values = tuple(row)
        found.append(
            (PipelineRunEntity(*values[:run_columns]), StepRunEntity(*values[run_columns:]))
        )
    return found


def output_objects(conn: Connection) -> set[tuple[str, bool]]:
    """(hash, is a folder manifest) of every step output: what gc must keep for the cache."""
    query = select(step_runs.c.outputs).where(step_runs.c.outputs != "{}").distinct()
    found: set[tuple[str, bool]] = set()
    for (text,) in conn.execute(query):
        for artifact in json.loads(text).values():
            found.add((artifact["hash"], bool(artifact.get("folder"))))
    return found


# -- schedules --------------------------------------------------------------------------------


def insert_schedule(conn: Connection, schedule: ScheduleEntity) -> None:
    try:
        with conn.begin_nested():
            conn.execute(insert(pipeline_schedules).values(**asdict(schedule)))
    except SAIntegrityError:
        raise AlreadyExists(
            f"a schedule named {schedule.name!r} already exists; pass --name to add another"
        ) from None


def get_schedule(conn: Connection, project_id: str, name: str) -> ScheduleEntity | None:
    row = conn.execute(
        select(pipeline_schedules).where(
            pipeline_schedules.c.project_id == project_id, pipeline_schedules.c.name == name
        )
    ).first()
    return ScheduleEntity(**row._mapping) if row is not None else None


def list_schedules(conn: Connection, project_id: str | None) -> list[ScheduleEntity]:
    query = select(pipeline_schedules).order_by(pipeline_schedules.c.name)
    if project_id is not None:
        query = query.where(pipeline_schedules.c.project_id == project_id)
    return [ScheduleEntity(**row._mapping) for row in conn.execute(query)]


def set_paused(conn: Connection, schedule_id: str, paused: bool) -> None:
    conn.execute(
        update(pipeline_schedules)
        .where(pipeline_schedules.c.id == schedule_id)
        .values(paused=paused)
    )


def delete_schedule(conn: Connection, schedule_id: str) -> None:
    conn.execute(delete(pipeline_schedules).where(pipeline_schedules.c.id == schedule_id))


def last_occurrence(conn: Connection, schedule_id: str) -> int | None:
    query = select(schedule_occurrences.c.scheduled_at).where(
        schedule_occurrences.c.schedule_id == schedule_id
    )
    found = conn.execute(query.order_by(schedule_occurrences.c.scheduled_at.desc())).first()
    return int(found[0]) if found is not None else None


def claim_occurrence(
    conn: Connection,
    schedule_id: str,
    scheduled_at: int,
    *,
    claimer: str,
    lease_until: int,
    now: int,
    status: str = "claimed",
) -> bool:
    """Take an occurrence: True for exactly one caller, however many ask at once.

    The insert is the lock: the primary key lets one row in. A claim whose holder never
    started the run can be taken over once its lease has expired.
    """
    row = {
        "schedule_id": schedule_id,
        "scheduled_at": scheduled_at,
        "claimed_by": claimer,
        "lease_until": lease_until,
        "status": status,
        "pipeline_run_id": None,
    }
    try:
        with conn.begin_nested():
            conn.execute(insert(schedule_occurrences).values(**row))
        return True
    except SAIntegrityError:
        pass
    taken = conn.execute(
        update(schedule_occurrences)
        .where(
            schedule_occurrences.c.schedule_id == schedule_id,
            schedule_occurrences.c.scheduled_at == scheduled_at,
            schedule_occurrences.c.status == "claimed",
            schedule_occurrences.c.pipeline_run_id.is_(None),
            schedule_occurrences.c.lease_until < now,
        )
        .values(claimed_by=claimer, lease_until=lease_until)
    )
    return bool(taken.rowcount)


def start_occurrence(conn: Connection, schedule_id: str, scheduled_at: int, run_id: str) -> None:
    conn.execute(
        update(schedule_occurrences)
        .where(
            schedule_occurrences.c.schedule_id == schedule_id,
            schedule_occurrences.c.scheduled_at == scheduled_at,
        )
        .values(status="started", pipeline_run_id=run_id)
    )


# -- lineage ----------------------------------------------------------------------------------


def step_lineage(
    conn: Connection, run_ids: Sequence[str]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """For each tracking run a step opened: the dataset versions it read, the model versions
    it registered, as NAME@vN references."""
    read: dict[str, list[str]] = {}
    registered: dict[str, list[str]] = {}
    if not run_ids:
        return read, registered
    inputs = (
        select(lineage_edges.c.dst_id, datasets.c.name, dataset_versions.c.version)
        .join(dataset_versions, dataset_versions.c.id == lineage_edges.c.src_id)
        .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
        .where(
            lineage_edges.c.src_kind == "dataset_version",
            lineage_edges.c.dst_kind == "run",
            lineage_edges.c.dst_id.in_(list(run_ids)),
        )
        .order_by(datasets.c.name, dataset_versions.c.version)
    )
    for run_id, name, version in conn.execute(inputs):
        read.setdefault(run_id, []).append(f"{name}@v{version}")
    models = (
        select(model_versions.c.run_id, registered_models.c.name, model_versions.c.version)
        .join(registered_models, registered_models.c.id == model_versions.c.model_id)
        .where(model_versions.c.run_id.in_(list(run_ids)))
        .order_by(registered_models.c.name, model_versions.c.version)
    )
    for run_id, name, version in conn.execute(models):
        registered.setdefault(run_id, []).append(f"{name}@v{version}")
    return read, registered


def stale_claims(conn: Connection, now: int) -> list[tuple[str, int]]:
    """Occurrences claimed by a scheduler that never started them and whose lease ran out."""
    query = select(schedule_occurrences.c.schedule_id, schedule_occurrences.c.scheduled_at).where(
        schedule_occurrences.c.status == "claimed",
        schedule_occurrences.c.pipeline_run_id.is_(None),
        schedule_occurrences.c.lease_until < now,
    )
    return [(row[0], int(row[1])) for row in conn.execute(query)]
