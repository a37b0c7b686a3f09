"""Schedules: a pipeline started on a cron; any number of schedulers, each occurrence once."""

from __future__ import annotations

import json
import uuid
from collections import deque
from dataclasses import replace

from sqlalchemy import Connection

from slipway.context import Context
from slipway.errors import NotFound
from slipway.operations import operation
from slipway.services.pipeline_runs._cron import Cron
from slipway.services.pipeline_runs.schemas import (
    ClaimRequest,
    ClaimResult,
    DueList,
    DueOccurrence,
    Schedule,
    ScheduleCreate,
    ScheduleList,
    ScheduleUpdate,
)
from slipway.services.projects.service import project_for
from slipway.store import pipelines as rows
from slipway.store import projects as project_rows
from slipway.store.entities import ScheduleEntity

# A scheduler down for longer than this looks back no further (policy "all" included).
MAX_CATCH_UP = 1000
# Policy "skip": an occurrence this recent still runs; older ones were missed and are dropped.
SKIP_GRACE_MS = 120_000


@operation(
    "POST /projects/{project}/schedules", permission="pipeline:write", audit="schedule.create"
)
def create_schedule(ctx: Context, project: str, body: ScheduleCreate) -> Schedule:
    """Run a pipeline on a cron (UTC); its first occurrence is the first one after now."""
    Cron.parse(body.cron)
    entity = ScheduleEntity(
        id=uuid.uuid4().hex,
        project_id="",
        name=body.name,
        pipeline=body.pipeline,
        cron=body.cron.strip(),
        params=json.dumps(body.params, sort_keys=True),
        executor=body.executor,
        missed=body.missed,
        paused=False,
        created_by=ctx.principal.name,
        created_at=ctx.clock(),
    )
    with ctx.store.write() as conn:
        owner = project_for(conn, ctx, project, create=True)
        entity = replace(entity, project_id=owner.id)
        rows.insert_schedule(conn, entity)
        return _view(conn, entity, owner.name, ctx.clock())


@operation("GET /projects/{project}/schedules", permission="pipeline:read", audit=None)
def list_schedules(ctx: Context, project: str) -> ScheduleList:
    """A project's schedules with their last and next occurrence."""
    with ctx.store.read() as conn:
        owner = project_for(conn, ctx, project, create=False)
        found = rows.list_schedules(conn, owner.id)
        now = ctx.clock()
        return ScheduleList(schedules=[_view(conn, s, owner.name, now) for s in found])


@operation(
    "PATCH /projects/{project}/schedules/{name}",
    permission="pipeline:write",
    audit="schedule.update",
)
def update_schedule(ctx: Context, project: str, name: str, body: ScheduleUpdate) -> Schedule:
    """Pause or resume a schedule; occurrences that fall while paused are not run later."""
    with ctx.store.write() as conn:
        owner = project_for(conn, ctx, project, create=False)
        schedule = _require(conn, owner.id, name)
        rows.set_paused(conn, schedule.id, body.paused)
        if not body.paused and schedule.paused:
            # Resuming starts from now: what fell due while paused is marked skipped.
            _skip_until(conn, ctx, schedule)
        entity = replace(schedule, paused=body.paused)
        return _view(conn, entity, owner.name, ctx.clock())


@operation(
    "DELETE /projects/{project}/schedules/{name}",
    permission="pipeline:write",
    audit="schedule.delete",
)
def delete_schedule(ctx: Context, project: str, name: str) -> None:
    """Remove a schedule; runs it started stay."""
    with ctx.store.write() as conn:
        owner = project_for(conn, ctx, project, create=False)
        rows.delete_schedule(conn, _require(conn, owner.id, name).id)


@operation("GET /schedules/due", permission="pipeline:read", audit=None)
def list_due_occurrences(ctx: Context) -> DueList:
    """Occurrences due now across projects, after each schedule's missed policy; unclaimed."""
    now = ctx.clock()
    found: list[tuple[ScheduleEntity, int]] = []
    skipped = 0
    with ctx.store.read() as conn:
        active = {s.id: s for s in rows.list_schedules(conn, None) if not s.paused}
        for schedule in active.values():
            times = _fallen_due(conn, schedule, now)
            chosen = _apply_policy(schedule.missed, times, now)
            skipped += len(times) - len(chosen)
            found.extend((schedule, at) for at in chosen)
        # Claims whose scheduler never started them, now that their lease has run out.
        found.extend(
            (active[schedule_id], at)
            for schedule_id, at in rows.stale_claims(conn, now)
            if schedule_id in active
        )
        names = project_rows.names_by_id(conn, {s.project_id for s, _ in found}) if found else {}
    due = [_due(schedule, names.get(schedule.project_id, ""), at) for schedule, at in found]
    return DueList(due=sorted(due, key=lambda d: d.scheduled_at), skipped=skipped)


@operation(
    "POST /projects/{project}/schedules/{name}/occurrences/{scheduled_at}",
    permission="pipeline:write",
    audit="schedule.claim",
)
def claim_occurrence(
    ctx: Context, project: str, name: str, scheduled_at: int, body: ClaimRequest
) -> ClaimResult:
    """Claim one occurrence for this scheduler: of all that ask, exactly one gets it."""
    now = ctx.clock()
    with ctx.store.write() as conn:
        owner = project_for(conn, ctx, project, create=False)
        schedule = _require(conn, owner.id, name)
        claimed = rows.claim_occurrence(
            conn,
            schedule.id,
            scheduled_at,
            claimer=body.claimer,
            lease_until=now + int(body.lease_s * 1000),
            now=now,
        )
    return ClaimResult(claimed=claimed)


def _fallen_due(conn: Connection, schedule: ScheduleEntity, now: int) -> list[int]:
    """Occurrences since the last one taken (or since the schedule was made), up to now;
    at most the latest MAX_CATCH_UP."""
    last = rows.last_occurrence(conn, schedule.id) or schedule.created_at
    return list(deque(Cron.parse(schedule.cron).between(last, now), maxlen=MAX_CATCH_UP))


def _apply_policy(policy: str, times: list[int], now: int) -> list[int]:
    if not times:
        return []
    if policy == "all":
        return times
    if policy == "skip":
        return [times[-1]] if now - times[-1] <= SKIP_GRACE_MS else []
    return [times[-1]]  # "latest": one run catches up for everything missed


def _skip_until(conn: Connection, ctx: Context, schedule: ScheduleEntity) -> None:
    now = ctx.clock()
    if times := _fallen_due(conn, schedule, now):
        rows.claim_occurrence(
            conn,
            schedule.id,
            times[-1],
            claimer="paused",
            lease_until=now,
            now=now,
            status="skipped",
        )


def _due(schedule: ScheduleEntity, project: str, at: int) -> DueOccurrence:
    return DueOccurrence(
        project=project,
        schedule=schedule.name,
        schedule_id=schedule.id,
        pipeline=schedule.pipeline,
        params=json.loads(schedule.params),
        executor=schedule.executor,
        scheduled_at=at,
    )


def _require(conn: Connection, project_id: str, name: str) -> ScheduleEntity:
    found = rows.get_schedule(conn, project_id, name)
    if found is None:
        raise NotFound(f"schedule {name!r} does not exist; `slipway schedule list` shows them")
    return found


def _view(conn: Connection, entity: ScheduleEntity, project: str, now: int) -> Schedule:
    last = rows.last_occurrence(conn, entity.id)
    cron = Cron.parse(entity.cron)
    return Schedule(
        id=entity.id,
        project=project,
        name=entity.name,
        pipeline=entity.pipeline,
        cron=entity.cron,
        params=json.loads(entity.params),
        executor=entity.executor,
        missed=entity.missed,
        paused=entity.paused,
        created_by=entity.created_by,
        created_at=entity.created_at,
        last_occurrence=last,
        next_occurrence=None if entity.paused else cron.next_after(now),
    )
