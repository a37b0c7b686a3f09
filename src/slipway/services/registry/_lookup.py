"""Finding registered models and versions by name and reference, and presenting them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from slipway.context import Context
from slipway.errors import Conflict, InvalidInput, NotFound
from slipway.refs import check_name, parse_model_ref
from slipway.services.projects.service import project_for
from slipway.services.registry.schemas import AliasChange, ModelVersion
from slipway.store import model_registry as rows
from slipway.store import projects as project_rows
from slipway.store import runs as run_rows
from slipway.store.entities import (
    AliasChangeEntity,
    DatasetInputEntity,
    ModelVersionEntity,
    ProjectEntity,
    RegisteredModelEntity,
)


def check_model_name(name: str) -> str:
    try:
        return check_name(name)
    except ValueError as exc:
        raise InvalidInput(f"model: {exc}") from None


def find_model(
    conn: Connection, ctx: Context, project: str, name: str, *, lock: bool = False
) -> tuple[ProjectEntity, RegisteredModelEntity]:
    owner = project_for(conn, ctx, project, create=False)
    model = rows.get_model(conn, owner.id, check_model_name(name), lock=lock)
    if model is None:
        raise NotFound(
            f"model {name!r} does not exist in project {project!r}; "
            "registering its first version creates it"
        )
    return owner, model


def find_version(
    conn: Connection, ctx: Context, project: str, name: str, version: int
) -> tuple[ProjectEntity, RegisteredModelEntity, ModelVersionEntity]:
    """A version to change: its model's row stays locked until the transaction ends."""
    owner, model = find_model(conn, ctx, project, name, lock=True)
    found = rows.get_version(conn, model.id, version)
    if found is None:
        raise NotFound(f"model {name!r} has no version v{version}; {versions_hint(conn, model)}")
    return owner, model, found


def resolve(
    conn: Connection, ctx: Context, project: str, ref: str
) -> tuple[ProjectEntity, RegisteredModelEntity, ModelVersionEntity]:
    try:
        name, number, alias = parse_model_ref(ref)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    owner, model = find_model(conn, ctx, project, name)
    if alias is not None:
        number = rows.aliases(conn, model.id).get(alias)
        if number is None:
            raise NotFound(f"model {name!r} has no alias {alias!r}; {aliases_hint(conn, model)}")
    found = (
        rows.latest_version(conn, model.id, active_only=True)
        if number is None
        else rows.get_version(conn, model.id, number)
    )
    if found is None:
        wanted = f"version v{number}" if number is not None else "active version"
        raise NotFound(f"model {name!r} has no {wanted}; {versions_hint(conn, model)}")
    return owner, model, found


def versions_hint(conn: Connection, model: RegisteredModelEntity) -> str:
    versions = rows.list_versions(conn, model.id)
    if not versions:
        return "it has no versions"
    shown = ", ".join(
        f"v{v.version}" + (" (archived)" if v.status != "active" else "") for v in versions[:10]
    )
    return f"it has {shown}" + (", ..." if len(versions) > 10 else "")


def aliases_hint(conn: Connection, model: RegisteredModelEntity) -> str:
    aliases = rows.aliases(conn, model.id)
    if not aliases:
        return "it has no aliases (set_model_alias creates one)"
    return "its aliases are " + ", ".join(f"{a} (v{n})" for a, n in aliases.items())


def refuse_if_aliased(
    conn: Connection, model: RegisteredModelEntity, version: ModelVersionEntity, doing: str
) -> None:
    held = [a for a, n in rows.aliases(conn, model.id).items() if n == version.version]
    if held:
        names = ", ".join(repr(a) for a in held)
        raise Conflict(
            f"{model.name}@v{version.version} is what alias {names} points at; move the alias to "
            f"another version first (set_model_alias) or delete it, then {doing}"
        )


def alias_change_view(c: AliasChangeEntity) -> AliasChange:
    return AliasChange(
        alias=c.alias,
        version=c.version,
        previous_version=c.previous_version,
        changed_by=c.changed_by,
        changed_at=c.changed_at,  # ms: the body makes it a datetime
        reason=c.reason,
    )


def run_summary(conn: Connection, run_id: str) -> dict[str, Any] | None:
    run = run_rows.get_run(conn, run_id)
    if run is None:
        return None
    return {
        "id": run.id,
        "name": run.name,
        "status": run.status,
        "project": project_rows.names_by_id(conn, {run.project_id})[run.project_id],
        "start_time": _iso(run.start_time),
        "end_time": _iso(run.end_time) if run.end_time is not None else None,
        "deleted": run.deleted_at is not None,
        "params": run_rows.key_values(conn, "params", [run.id])[run.id],
    }


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


def version_view(
    conn: Connection,
    owner: ProjectEntity,
    model: RegisteredModelEntity,
    v: ModelVersionEntity,
    *,
    created: bool = True,
) -> ModelVersion:
    inputs = rows.version_datasets(conn, [v.id])[v.id]
    return build_version(owner, model, v, rows.aliases(conn, model.id), inputs, created=created)


def build_version(
    owner: ProjectEntity,
    model: RegisteredModelEntity,
    v: ModelVersionEntity,
    aliases: dict[str, int],
    inputs: list[DatasetInputEntity],
    *,
    created: bool = True,
) -> ModelVersion:
    return ModelVersion(
        project=owner.name,
        name=model.name,
        version=v.version,
        package_hash=v.package_hash,
        flavor=v.flavor,
        signature=None if v.signature is None else json.loads(v.signature),
        description=v.description,
        tags=json.loads(v.tags),
        aliases=[alias for alias, number in aliases.items() if number == v.version],
        status=v.status,
        run_id=v.run_id,
        datasets=[f"{d.dataset}@v{d.version}" for d in inputs],
        code_commit=v.code_commit,
        pipeline_run=v.pipeline_run,
        created_by=v.created_by,
        created_at=v.created_at,  # ms: the body makes it a datetime
        created=created,
    )
