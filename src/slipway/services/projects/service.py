"""Projects: the namespace that runs, datasets and models live in."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection

from slipway.context import Context
from slipway.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from slipway.operations import operation
from slipway.refs import check_name
from slipway.services.projects.schemas import Project, ProjectCreate, ProjectPage
from slipway.store import ProjectEntity
from slipway.store import projects as rows

MAX_PAGE = 1000


@operation("POST /projects", permission="project:write", audit="project.create")
def create_project(ctx: Context, body: ProjectCreate) -> Project:
    """Create a project."""
    now = ctx.clock()
    entity = ProjectEntity(
        id=uuid.uuid4().hex,
        name=body.name,
        description=body.description,
        created_by=ctx.principal.name,
        created_at=now,
        updated_at=now,
    )
    with ctx.store.write() as conn:
        rows.insert_project(conn, entity)
    return Project.model_validate(entity)


@operation("GET /projects", permission="project:read", audit=None)
def list_projects(
    ctx: Context, max_results: int = 100, page_token: str | None = None
) -> ProjectPage:
    """List projects by name, a page at a time."""
    if not 1 <= max_results <= MAX_PAGE:
        raise InvalidInput(f"max_results must be between 1 and {MAX_PAGE}, got {max_results}")
    with ctx.store.read() as conn:
        found = rows.list_projects(conn, limit=max_results + 1, after=page_token)
    page = found[:max_results]
    more = len(found) > max_results
    return ProjectPage(
        projects=[Project.model_validate(p) for p in page],
        next_page_token=page[-1].name if more else None,
    )


@operation("GET /projects/{project}", permission="project:read", audit=None)
def get_project(ctx: Context, project: str) -> Project:
    """Show one project."""
    with ctx.store.read() as conn:
        return Project.model_validate(_require(conn, project))


@operation("DELETE /projects/{project}", permission="project:admin", audit="project.delete")
def delete_project(ctx: Context, project: str, force: bool = False) -> None:
    """Delete a project; one holding runs, datasets or models needs `force`."""
    with ctx.store.write() as conn:
        entity = _require(conn, project)
        usage = rows.project_usage(conn, entity.id)
        if any(usage.values()) and not force:
            held = ", ".join(f"{n} {kind}" for kind, n in usage.items() if n)
            raise Conflict(
                f"project {project!r} still holds {held}; delete them first or pass force"
            )
        rows.delete_project(conn, entity.id)


def _require(conn: Connection, name: str) -> ProjectEntity:
    try:
        check_name(name)
    except ValueError as exc:
        raise InvalidInput(f"project: {exc}") from None
    entity = rows.get_project(conn, name)
    if entity is None:
        raise NotFound(f"project {name!r} does not exist; `slipway projects list` shows them")
    return entity


def project_for(conn: Connection, ctx: Context, name: str, *, create: bool) -> ProjectEntity:
    """The project named `name`, created on first use when `create` (race-safe)."""
    try:
        check_name(name)
    except ValueError as exc:
        raise InvalidInput(f"project: {exc}") from None
    found = rows.get_project(conn, name)
    if found is not None:
        return found
    if not create:
        raise NotFound(f"project {name!r} does not exist; `slipway projects list` shows them")
    now = ctx.clock()
    entity = ProjectEntity(uuid.uuid4().hex, name, "", ctx.principal.name, now, now)
    try:
        return rows.insert_project(conn, entity)
    except AlreadyExists:
        # Another writer created it a moment ago (first runs of a grid search start together).
        raced = rows.get_project(conn, name)
        if raced is None:
            raise
        return raced
