"""Runs: create, log params/metrics/tags in batches, search, artifacts."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from sqlalchemy import Connection

from slipway.context import Context
from slipway.errors import Conflict, InvalidInput, NotFound
from slipway.objects import Manifest, check_hash, safe_relpath
from slipway.operations import operation
from slipway.services.projects.service import project_for
from slipway.services.runs.schemas import (
    TERMINAL,
    Artifact,
    ArtifactRecord,
    LogBatch,
    MetricValue,
    Run,
    RunCreate,
    RunPage,
    RunSearch,
    RunUpdate,
)
from slipway.store import projects as project_rows
from slipway.store import runs as rows
from slipway.store.entities import ArtifactEntity, RunEntity
from slipway.store.run_search import compile_search


@operation("POST /projects/{project}/runs", permission="run:write", audit="run.create")
def create_run(ctx: Context, project: str, body: RunCreate) -> Run:
    """Start a run in a project (created on first use unless create_project is false).

    `artifacts` are recorded with the run in the same transaction: a run never exists without
    the environment captured for it. Each is checked as `log_artifact` checks it, first.
    """
    now = ctx.clock()
    run_id = uuid.uuid4().hex
    # Checked before the transaction opens: reading the object store must not hold the lock.
    artifacts = [_artifact(ctx, run_id, record, now) for record in body.artifacts]
    paths: set[str] = set()
    for artifact in artifacts:
        if artifact.path in paths:
            raise InvalidInput(f"artifact path {artifact.path!r} is given twice")
        paths.add(artifact.path)
    with ctx.store.write() as conn:
        owner = project_for(conn, ctx, project, create=body.create_project)
        if body.parent_run_id is not None:
            parent = _require(conn, body.parent_run_id)
            if parent.project_id != owner.id:
                raise InvalidInput(f"parent run {parent.id} belongs to another project")
        entity = RunEntity(
            id=run_id,
            project_id=owner.id,
            parent_run_id=body.parent_run_id,
            name=body.name or f"run-{run_id[:8]}",
            status="running",
            created_by=ctx.principal.name,
            start_time=body.start_time or now,
            end_time=None,
            deleted_at=None,
        )
        rows.insert_run(conn, entity)
        rows.set_tags(conn, run_id, body.tags)
        for artifact in artifacts:
            rows.put_artifact(conn, artifact)
    # A new run has exactly what was just written: no need to read it back.
    return Run.model_validate(_fields(entity, owner.name, params={}, tags=body.tags, metrics={}))


@operation("GET /runs/{run_id}", permission="run:read", audit=None)
def get_run(ctx: Context, run_id: str) -> Run:
    """Show a run with its params, tags and latest metrics."""
    with ctx.store.read() as conn:
        entity = _require(conn, run_id, deleted_ok=True)
        return _views(conn, [entity])[0]


@operation("PATCH /runs/{run_id}", permission="run:write", audit="run.update")
def update_run(ctx: Context, run_id: str, body: RunUpdate) -> Run:
    """Rename a run or set its status; a final status stamps the end time."""
    values: dict[str, object] = {}
    if body.name is not None:
        values["name"] = body.name
    if body.status is not None:
        values["status"] = body.status
        if body.status in TERMINAL:
            values["end_time"] = body.end_time or ctx.clock()
    elif body.end_time is not None:
        values["end_time"] = body.end_time
    with ctx.store.write() as conn:
        entity = _require(conn, run_id)
        if values:
            rows.update_run(conn, run_id, **values)
        return _views(conn, [_require(conn, entity.id)])[0]


@operation("DELETE /runs/{run_id}", permission="run:write", audit="run.delete")
def delete_run(ctx: Context, run_id: str) -> None:
    """Mark a run deleted: search hides it, its data stays until purged."""
    with ctx.store.write() as conn:
        _require(conn, run_id)
        rows.update_run(conn, run_id, deleted_at=ctx.clock())


@operation("POST /runs/{run_id}/batch", permission="run:write", audit="run.log")
def log_batch(ctx: Context, run_id: str, body: LogBatch) -> None:
    """Log metrics, params and tags of a run in one transaction; `status` then ends the run.

    The values and the final status commit together: if any value is refused, the run is
    not ended either, and the caller decides what status it gets instead.
    """
    m = body.metrics
    with ctx.store.write() as conn:
        _require(conn, run_id)
        rows.log_params(conn, run_id, body.params)
        rows.set_tags(conn, run_id, body.tags)
        rows.log_metrics(conn, run_id, m.keys, m.values, m.steps, m.timestamps)
        if body.status is not None:
            rows.end_run(conn, run_id, body.status, body.end_time or ctx.clock())


@operation("GET /runs/{run_id}/metric-history", permission="run:read", audit=None)
def get_metric_history(ctx: Context, run_id: str, key: str) -> list[MetricValue]:
    """Every logged point of one metric, by step then time."""
    with ctx.store.read() as conn:
        _require(conn, run_id, deleted_ok=True)
        return [
            MetricValue(key=p.key, value=p.value, step=p.step, timestamp=p.timestamp)
            for p in rows.metric_history(conn, run_id, key)
        ]


@operation("POST /runs/search", permission="run:read", audit=None, read_only=True)
def search_runs(ctx: Context, body: RunSearch) -> RunPage:
    """Find runs with a filter such as "metrics.acc > 0.9 and params.lr = '0.1'"."""
    offset = _decode_token(body.page_token)
    with ctx.store.read() as conn:
        project_ids, names = None, {}
        if body.projects is not None:
            owners = [project_for(conn, ctx, name, create=False) for name in body.projects]
            project_ids, names = [p.id for p in owners], {p.id: p.name for p in owners}
        query = compile_search(
            body.filter or None,
            body.order_by,
            project_ids=project_ids,
            include_deleted=body.include_deleted,
        )
        found = rows.search(conn, query, limit=body.max_results + 1, offset=offset)
        page = found[: body.max_results]
        more = len(found) > body.max_results
        # Validated as one page: one call into pydantic's core for 100 runs, not 100.
        return RunPage.model_validate(
            {
                "runs": _view_fields(conn, page, names),
                "next_page_token": _encode_token(offset + len(page)) if more else None,
            }
        )


@operation("GET /runs/{run_id}/artifacts", permission="run:read", audit=None)
def list_artifacts(ctx: Context, run_id: str) -> list[Artifact]:
    """The files and folders logged with a run."""
    with ctx.store.read() as conn:
        _require(conn, run_id, deleted_ok=True)
        return [Artifact.model_validate(a) for a in rows.list_artifacts(conn, run_id)]


@operation("POST /runs/{run_id}/artifacts", permission="run:write", audit="run.log_artifact")
def log_artifact(ctx: Context, run_id: str, body: ArtifactRecord) -> Artifact:
    """Record an uploaded object (or folder manifest) as an artifact of a run."""
    entity = _artifact(ctx, run_id, body, ctx.clock())
    with ctx.store.write() as conn:
        _require(conn, run_id)
        rows.put_artifact(conn, entity)
    return Artifact.model_validate(entity)


# -- helpers -----------------------------------------------------------------------------


def _artifact(ctx: Context, run_id: str, body: ArtifactRecord, now: int) -> ArtifactEntity:
    """The artifact row for an uploaded object, once its path and object are checked."""
    try:
        path = safe_relpath(body.path)
    except InvalidInput:
        raise InvalidInput(f"artifact path {body.path!r} must be relative, without '..'") from None
    digest = check_hash(body.object_hash)
    if not ctx.objects.exists(digest):
        raise NotFound(
            f"artifact {path!r}: object {digest} is not in the store; upload it before recording it"
        )
    if body.is_dir:
        Manifest.from_bytes(ctx.objects.read_bytes(digest), digest)  # must be a real manifest
    return ArtifactEntity(run_id, path, digest, body.size, body.is_dir, now)


def _require(conn: Connection, run_id: str, *, deleted_ok: bool = False) -> RunEntity:
    if not isinstance(run_id, str) or len(run_id) != 32 or not run_id.isalnum():
        raise InvalidInput(f"{run_id!r} is not a run id (32 hex characters)")
    entity = rows.get_run(conn, run_id)
    if entity is None:
        raise NotFound(f"run {run_id} does not exist")
    if entity.deleted_at is not None and not deleted_ok:
        raise Conflict(f"run {run_id} is deleted; it cannot be changed")
    return entity


def _views(conn: Connection, entities: list[RunEntity]) -> list[Run]:
    return [Run.model_validate(fields) for fields in _view_fields(conn, entities)]


def _view_fields(
    conn: Connection, entities: list[RunEntity], names: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The fields of each run's view, with its params, tags and latest metrics; `names`: the
    names of projects already known, by id."""
    if not entities:
        return []
    ids = [e.id for e in entities]
    params = rows.key_values(conn, "params", ids)
    tags = rows.key_values(conn, "tags", ids)
    latest = rows.latest_values(conn, ids)
    names = dict(names or {})
    if unknown := {e.project_id for e in entities} - names.keys():
        names |= project_rows.names_by_id(conn, unknown)
    return [
        _fields(e, names[e.project_id], params=params[e.id], tags=tags[e.id], metrics=latest[e.id])
        for e in entities
    ]


def _fields(
    e: RunEntity,
    project: str,
    *,
    params: dict[str, str],
    tags: dict[str, str],
    metrics: dict[str, float],
) -> dict[str, Any]:
    return {
        "id": e.id,
        "project": project,
        "name": e.name,
        "status": e.status,
        "parent_run_id": e.parent_run_id,
        "created_by": e.created_by,
        "start_time": e.start_time,  # milliseconds: the model makes them datetimes
        "end_time": e.end_time,
        "deleted": e.deleted_at is not None,
        "params": params,
        "tags": tags,
        "metrics": metrics,
    }


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError
        return offset
    except (ValueError, KeyError, TypeError):
        raise InvalidInput(f"page_token {token!r} is not one this server issued") from None
