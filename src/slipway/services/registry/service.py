"""The model registry: versions of a package, aliases that move between them, lineage.

Packages never pass through here: the client stores the package folder (its manifest) in the
object store first, then records the version by that hash. Versions are numbered 1, 2, ... per
model, never reused (a deleted version's number stays taken: history and audit name it).
`NAME` and `NAME@latest` mean the newest active version; archived versions are still
reachable by number.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

from sqlalchemy import Connection

from slipway.context import Context
from slipway.errors import Conflict, IntegrityError, InvalidInput, NotFound
from slipway.operations import operation
from slipway.refs import check_alias, parse_dataset_ref
from slipway.services.projects.service import project_for
from slipway.services.registry._lookup import (
    alias_change_view,
    aliases_hint,
    build_version,
    check_model_name,
    find_model,
    find_version,
    refuse_if_aliased,
    resolve,
    run_summary,
    version_view,
)
from slipway.services.registry.schemas import (
    AliasChange,
    AliasHistory,
    AliasSet,
    ModelLineage,
    ModelVersion,
    ModelVersionCreate,
    ModelVersionList,
    ModelVersionUpdate,
    RegisteredModel,
    RegisteredModelList,
)
from slipway.store import datasets as dataset_rows
from slipway.store import model_registry as rows
from slipway.store import runs as run_rows
from slipway.store.entities import (
    AliasChangeEntity,
    ModelVersionEntity,
    ProjectEntity,
    RegisteredModelEntity,
)

VERSIONS = "/projects/{project}/models/{name}/versions"
GIT_COMMIT_TAG = "slipway.git.commit"  # set by the run's capture (tracking/capture.py)
_DATASET = "dataset_version"  # the lineage edge kind of a run's inputs


@operation(f"POST {VERSIONS}", permission="model:write", audit="model.version.create")
def create_model_version(
    ctx: Context, project: str, name: str, body: ModelVersionCreate
) -> ModelVersion:
    """Record a stored package as the model's next version (the model is created on first use).

    Repeating the latest version exactly (a retried request) returns it with `created` false.
    """
    check_model_name(name)
    _check_package(ctx, body.package_hash)
    with ctx.store.write() as conn:
        owner = project_for(conn, ctx, project, create=True)
        if body.run_id is not None:
            run = run_rows.get_run(conn, body.run_id)
            if run is None:
                raise NotFound(f"run {body.run_id} does not exist; pass the id of a logged run")
            if run.project_id != owner.id:
                raise InvalidInput(
                    f"run {body.run_id} belongs to another project; a model version of project "
                    f"{project!r} can only name a run of that project"
                )
        inputs = [_dataset_version(conn, owner, ref) for ref in body.datasets]
        code_commit = body.code_commit
        if body.run_id is not None:
            inputs = inputs or _run_inputs(conn, body.run_id)
            code_commit = code_commit or _run_commit(conn, body.run_id)
        now = ctx.clock()
        model = rows.get_model(conn, owner.id, name, lock=True) or rows.insert_model(
            conn, RegisteredModelEntity(uuid.uuid4().hex, owner.id, name, "", _who(ctx), now, 0)
        )
        entity = ModelVersionEntity(
            id=uuid.uuid4().hex,
            model_id=model.id,
            version=0,  # numbered below, unless it repeats the latest version
            package_hash=body.package_hash,
            flavor=body.flavor,
            signature=None if body.signature is None else json.dumps(body.signature),
            description=body.description,
            tags=json.dumps(body.tags, sort_keys=True),
            status="active",
            run_id=body.run_id,
            code_commit=code_commit,
            pipeline_run=body.pipeline_run,
            created_by=_who(ctx),
            created_at=now,
        )
        latest = rows.latest_version(conn, model.id, active_only=False)
        if latest is not None and _repeats(conn, latest, entity, {(n, v) for n, v, _ in inputs}):
            return version_view(conn, owner, model, latest, created=False)
        entity = replace(entity, version=rows.next_version(conn, model.id))
        rows.insert_version(conn, entity, [version_id for _, _, version_id in inputs])
        return version_view(conn, owner, model, entity)


@operation("GET /projects/{project}/models", permission="model:read", audit=None)
def list_registered_models(ctx: Context, project: str) -> RegisteredModelList:
    """The project's models by name, with their newest active version and their aliases."""
    with ctx.store.read() as conn:
        owner = project_for(conn, ctx, project, create=False)
        aliases = rows.project_aliases(conn, owner.id)
        return RegisteredModelList(
            models=[
                RegisteredModel(
                    project=owner.name,
                    name=m.name,
                    description=m.description,
                    created_by=m.created_by,
                    created_at=m.created_at,  # ms: the body makes it a datetime
                    latest_version=latest,
                    aliases=aliases.get(m.id, {}),
                )
                for m, latest in rows.list_models(conn, owner.id)
            ]
        )


@operation(f"GET {VERSIONS}", permission="model:read", audit=None)
def list_model_versions(ctx: Context, project: str, name: str) -> ModelVersionList:
    """Every version of a model, newest first, archived ones included."""
    with ctx.store.read() as conn:
        owner, model = find_model(conn, ctx, project, name)
        versions = rows.list_versions(conn, model.id)
        inputs = rows.version_datasets(conn, [v.id for v in versions])
        aliases = rows.aliases(conn, model.id)
        return ModelVersionList(
            versions=[build_version(owner, model, v, aliases, inputs[v.id]) for v in versions]
        )


@operation("GET /projects/{project}/models/{ref}", permission="model:read", audit=None)
def get_model_version(ctx: Context, project: str, ref: str) -> ModelVersion:
    """Resolve NAME, NAME@latest, NAME@vN, NAME@N or NAME@ALIAS to a version."""
    with ctx.store.read() as conn:
        owner, model, version = resolve(conn, ctx, project, ref)
        return version_view(conn, owner, model, version)


@operation(f"PATCH {VERSIONS}/{{version}}", permission="model:write", audit="model.version.update")
def update_model_version(
    ctx: Context, project: str, name: str, version: int, body: ModelVersionUpdate
) -> ModelVersion:
    """Change a version's description or tags (its package and lineage never change)."""
    with ctx.store.write() as conn:
        owner, model, found = find_version(conn, ctx, project, name, version)
        tags: dict[str, str] = json.loads(found.tags)
        tags.update(body.set_tags)
        for key in body.remove_tags:
            tags.pop(key, None)
        values = {"tags": json.dumps(tags, sort_keys=True)}
        if body.description is not None:
            values["description"] = body.description
        rows.update_version(conn, found.id, **values)
        return version_view(conn, owner, model, rows.get_version(conn, model.id, version) or found)


@operation(
    f"POST {VERSIONS}/{{version}}/archive", permission="model:write", audit="model.version.archive"
)
def archive_model_version(ctx: Context, project: str, name: str, version: int) -> ModelVersion:
    """Take a version out of use: NAME and NAME@latest skip it, aliases cannot point at it."""
    return _set_status(ctx, project, name, version, "archived")


@operation(
    f"POST {VERSIONS}/{{version}}/restore", permission="model:write", audit="model.version.restore"
)
def restore_model_version(ctx: Context, project: str, name: str, version: int) -> ModelVersion:
    """Bring an archived version back into use."""
    return _set_status(ctx, project, name, version, "active")


@operation(f"DELETE {VERSIONS}/{{version}}", permission="model:write", audit="model.version.delete")
def delete_model_version(ctx: Context, project: str, name: str, version: int) -> None:
    """Delete a version's record and lineage (its number is never given again)."""
    with ctx.store.write() as conn:
        _, model, found = find_version(conn, ctx, project, name, version)
        refuse_if_aliased(conn, model, found, "delete it")
        # Deployments will guard here too: a version a deployment serves must not disappear.
        rows.delete_version(conn, found.id)


@operation(
    "DELETE /projects/{project}/models/{name}", permission="model:write", audit="model.delete"
)
def delete_registered_model(ctx: Context, project: str, name: str) -> None:
    """Delete a model with all its versions, lineage and alias history; refused while it has
    aliases (something may be using them)."""
    with ctx.store.write() as conn:
        _, model = find_model(conn, ctx, project, name, lock=True)
        if aliases := rows.aliases(conn, model.id):
            held = ", ".join(f"{alias} (v{number})" for alias, number in aliases.items())
            raise Conflict(
                f"model {name!r} still has aliases {held}; delete them first "
                "(delete_model_alias), then delete the model"
            )
        rows.delete_model(conn, model.id)


ALIAS = "/projects/{project}/models/{name}/aliases/{alias}"


@operation(f"PUT {ALIAS}", permission="model:promote", audit="model.alias.set")
def set_model_alias(
    ctx: Context, project: str, name: str, alias: str, body: AliasSet
) -> AliasChange:
    """Point an alias at a version (creating or moving it) and record the move in its history.

    Every call is recorded, one naming the version the alias already points at too: a
    promotion confirmed again, with its reason.
    """
    _check_alias(alias)
    with ctx.store.write() as conn:
        _, model, target = find_version(conn, ctx, project, name, body.version)
        if target.status != "active":
            raise Conflict(
                f"{name}@v{body.version} is archived; restore it before pointing {alias!r} at it"
            )
        previous = rows.aliases(conn, model.id).get(alias)
        change = _change(ctx, model, alias, body.version, previous, body.reason)
        rows.move_alias(conn, change, target.id, existed=previous is not None)
        return alias_change_view(change)


@operation(f"DELETE {ALIAS}", permission="model:promote", audit="model.alias.delete")
def delete_model_alias(ctx: Context, project: str, name: str, alias: str) -> AliasChange:
    """Remove an alias; its history keeps the removal."""
    _check_alias(alias)
    with ctx.store.write() as conn:
        _, model = find_model(conn, ctx, project, name, lock=True)
        previous = rows.aliases(conn, model.id).get(alias)
        if previous is None:
            raise NotFound(f"model {name!r} has no alias {alias!r}; {aliases_hint(conn, model)}")
        change = _change(ctx, model, alias, None, previous, "")
        rows.move_alias(conn, change, None, existed=True)
        return alias_change_view(change)


@operation("GET /projects/{project}/models/{name}/aliases", permission="model:read", audit=None)
def list_alias_history(ctx: Context, project: str, name: str) -> AliasHistory:
    """Every alias move of a model, oldest first: who pointed what where, when and why."""
    with ctx.store.read() as conn:
        _, model = find_model(conn, ctx, project, name)
        return AliasHistory(
            changes=[alias_change_view(c) for c in rows.alias_history(conn, model.id)]
        )


@operation("GET /projects/{project}/models/{ref}/lineage", permission="model:read", audit=None)
def get_model_lineage(ctx: Context, project: str, ref: str) -> ModelLineage:
    """What a version came from: its run (with params), dataset versions, commit, pipeline run."""
    with ctx.store.read() as conn:
        owner, model, found = resolve(conn, ctx, project, ref)
        inputs = rows.version_datasets(conn, [found.id])[found.id]
        view = build_version(owner, model, found, rows.aliases(conn, model.id), inputs)
        run = run_summary(conn, found.run_id) if found.run_id else None
    return ModelLineage(
        version=view,
        run=run,
        datasets=[
            {"ref": f"{d.dataset}@v{d.version}", "object_hash": d.object_hash, "path": d.path}
            for d in inputs
        ],
        code_commit=found.code_commit,
        pipeline_run=found.pipeline_run,
    )


# -- helpers -----------------------------------------------------------------------------


def _who(ctx: Context) -> str:
    return ctx.principal.name


def _check_alias(alias: str) -> str:
    try:
        return check_alias(alias)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _check_package(ctx: Context, digest: str) -> None:
    """The package must be stored, as a folder manifest: gc keeps its files, load reads them."""
    if not ctx.objects.exists(digest):
        raise NotFound(f"package object {digest} is not in the store; store the package first")
    try:
        ctx.objects.read_manifest(digest)
    except IntegrityError as exc:
        raise InvalidInput(
            f"package object {digest} is not a folder manifest ({exc.detail}); "
            "store the package folder and pass the hash of its manifest"
        ) from None


def _dataset_version(conn: Connection, owner: ProjectEntity, ref: str) -> tuple[str, int, str]:
    """(dataset name, version number, dataset version id) of a NAME@vN in `owner`."""
    name, number = parse_dataset_ref(ref)  # already checked by the request body
    dataset = dataset_rows.get_dataset(conn, owner.id, name)
    found = None
    if dataset is not None:
        found = (
            dataset_rows.latest_version(conn, dataset.id)
            if number is None
            else dataset_rows.get_version(conn, dataset.id, number)
        )
    if found is None:
        raise NotFound(
            f"dataset version {ref!r} does not exist in project {owner.name!r}; "
            "add the data first (slipway data add) and name a version it has"
        )
    return name, found.version, found.id


def _run_inputs(conn: Connection, run_id: str) -> list[tuple[str, int, str]]:
    """The dataset versions the run read (`sw.data.get_path`/`load_table` inside it): what
    a model it produced was trained on, unless the request names them."""
    read = [i for kind, i, _ in dataset_rows.edges_to(conn, ("run", run_id)) if kind == _DATASET]
    return dataset_rows.versions_by_id(conn, read)


def _run_commit(conn: Connection, run_id: str) -> str | None:
    """The git commit the run captured when it started, if it ran in a repository."""
    tags = run_rows.key_values(conn, "tags", [run_id]).get(run_id, {})
    return tags.get(GIT_COMMIT_TAG)


# What a retried request repeats; the id, number, author and time are new on every call.
_SAME = (
    "package_hash",
    "flavor",
    "signature",
    "description",
    "tags",
    "run_id",
    "code_commit",
    "pipeline_run",
)


def _repeats(
    conn: Connection,
    latest: ModelVersionEntity,
    asked: ModelVersionEntity,
    inputs: set[tuple[str, int]],
) -> bool:
    """Whether `asked` repeats the active `latest` version field for field (a retried call)."""
    if latest.status != "active" or any(getattr(latest, f) != getattr(asked, f) for f in _SAME):
        return False
    had = rows.version_datasets(conn, [latest.id])[latest.id]
    return {(d.dataset, d.version) for d in had} == inputs


def _set_status(ctx: Context, project: str, name: str, version: int, status: str) -> ModelVersion:
    with ctx.store.write() as conn:
        owner, model, found = find_version(conn, ctx, project, name, version)
        if found.status != status:
            if status == "archived":
                refuse_if_aliased(conn, model, found, "archive it")
            rows.update_version(conn, found.id, status=status)
            found = rows.get_version(conn, model.id, version) or found
        return version_view(conn, owner, model, found)


def _change(
    ctx: Context,
    model: RegisteredModelEntity,
    alias: str,
    version: int | None,
    previous: int | None,
    reason: str,
) -> AliasChangeEntity:
    return AliasChangeEntity(0, model.id, alias, version, previous, _who(ctx), ctx.clock(), reason)
