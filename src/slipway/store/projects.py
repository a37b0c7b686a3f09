"""Repository for projects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import Connection, bindparam, delete, func, insert, select
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from slipway.errors import AlreadyExists
from slipway.store.entities import ProjectEntity
from slipway.store.schema import datasets, projects, registered_models, runs


def insert_project(conn: Connection, project: ProjectEntity) -> ProjectEntity:
    try:
        with conn.begin_nested():
            conn.execute(insert(projects).values(**asdict(project)))
    except SAIntegrityError:
        raise AlreadyExists(f"project {project.name!r} already exists") from None
    return project


_BY_NAME = select(projects).where(projects.c.name == bindparam("name"))


def get_project(conn: Connection, name: str) -> ProjectEntity | None:
    found = conn.execute(_BY_NAME, {"name": name}).first()
    return None if found is None else ProjectEntity(*found)


def list_projects(
    conn: Connection, *, limit: int, after: str | None = None
) -> Sequence[ProjectEntity]:
    """Projects ordered by name; `after` is the last name of the previous page (keyset paging)."""
    query = select(projects).order_by(projects.c.name).limit(limit)
    if after is not None:
        query = query.where(projects.c.name > after)
    return [ProjectEntity(**row._mapping) for row in conn.execute(query)]


def count_projects(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(projects)).scalar_one())


def delete_project(conn: Connection, project_id: str) -> None:
    conn.execute(delete(projects).where(projects.c.id == project_id))


def project_usage(conn: Connection, project_id: str) -> dict[str, int]:
    """How many runs, datasets and models a project holds (what a delete would take with it)."""
    counts = {}
    for label, table in (("runs", runs), ("datasets", datasets), ("models", registered_models)):
        query = select(func.count()).select_from(table).where(table.c.project_id == project_id)
        counts[label] = int(conn.execute(query).scalar_one())
    return counts


_NAMES = select(projects.c.id, projects.c.name).where(
    projects.c.id.in_(bindparam("ids", expanding=True))
)


def names_by_id(conn: Connection, project_ids: set[str]) -> dict[str, str]:
    if not project_ids:
        return {}
    return {id_: name for id_, name in conn.execute(_NAMES, {"ids": list(project_ids)})}
