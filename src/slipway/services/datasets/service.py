"""Datasets and their immutable versions: record, list, resolve `name@vN`, profiles, lineage.

Files never pass through here: the client stores the content (a file, or a folder's manifest)
in the object store first, then records the version by its hash. Recording the same content
as the latest version again creates nothing and returns that version.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from slipway.context import Context
from slipway.errors import InvalidInput, NotFound
from slipway.operations import operation
from slipway.refs import check_name
from slipway.refs import parse_dataset_ref as parse_ref
from slipway.services.datasets.diff import DatasetDiff, FileChanges, diff_manifests, diff_table
from slipway.services.datasets.schemas import (
    Dataset,
    DatasetList,
    DatasetProfile,
    DatasetVersion,
    DatasetVersionCreate,
    PiiColumn,
    RunInput,
    VersionFile,
    VersionFiles,
    VersionList,
)
from slipway.services.projects.service import project_for
from slipway.store import datasets as rows
from slipway.store import runs as run_rows
from slipway.store.entities import DatasetEntity, DatasetVersionEntity, ProjectEntity


@operation(
    "POST /projects/{project}/datasets/{name}/versions",
    permission="data:write",
    audit="data.version.create",
)
def create_dataset_version(
    ctx: Context, project: str, name: str, body: DatasetVersionCreate
) -> DatasetVersion:
    """Record stored content as the dataset's next version (unless it equals the latest)."""
    _check_dataset_name(name)
    # Fresh: the client may have written the packs a moment ago, from another process.
    if not ctx.objects.exists(body.object_hash, fresh=True):
        raise NotFound(f"object {body.object_hash} is not in the store; store the data first")
    if body.kind == "dir":
        size, files = ctx.objects.manifest_totals(body.object_hash)
        if (size, files) != (body.size, body.file_count):
            raise InvalidInput(
                f"size {body.size} and file_count {body.file_count} do not match the manifest "
                f"({size} bytes in {files} files)"
            )
    if body.profile_hash is not None and not ctx.objects.exists(body.profile_hash, fresh=True):
        raise NotFound(f"profile object {body.profile_hash} is not in the store")
    now = ctx.clock()
    with ctx.store.write() as conn:
        owner = project_for(conn, ctx, project, create=True)
        dataset = rows.get_dataset(conn, owner.id, name) or rows.insert_dataset(
            conn, DatasetEntity(uuid.uuid4().hex, owner.id, name, "", ctx.principal.name, now)
        )
        latest = rows.latest_version(conn, dataset.id)
        if latest is not None and (latest.object_hash, latest.kind) == (
            body.object_hash,
            body.kind,
        ):
            return _view(owner, dataset, latest, created=False)
        entity = DatasetVersionEntity(
            id=uuid.uuid4().hex,
            dataset_id=dataset.id,
            version=(latest.version if latest else 0) + 1,
            object_hash=body.object_hash,
            size=body.size,
            file_count=body.file_count,
            message=body.message,
            created_by=ctx.principal.name,
            created_at=now,
            kind=body.kind,
            path=body.path,
            profile_hash=body.profile_hash,
            pii=json.dumps([flag.model_dump() for flag in body.pii]),
        )
        rows.insert_version(conn, entity)
        return _view(owner, dataset, entity)


@operation("GET /projects/{project}/datasets", permission="data:read", audit=None)
def list_datasets(ctx: Context, project: str) -> DatasetList:
    """The project's datasets with their number of versions."""
    with ctx.store.read() as conn:
        owner = project_for(conn, ctx, project, create=False)
        return DatasetList(
            datasets=[
                Dataset(
                    project=owner.name,
                    name=d.name,
                    description=d.description,
                    created_by=d.created_by,
                    created_at=d.created_at,
                    versions=count,
                )
                for d, count in rows.list_datasets(conn, owner.id)
            ]
        )


@operation("GET /projects/{project}/datasets/{name}/versions", permission="data:read", audit=None)
def list_dataset_versions(ctx: Context, project: str, name: str) -> VersionList:
    """Every version of a dataset, newest first (`slipway data log`)."""
    with ctx.store.read() as conn:
        owner, dataset = _dataset(conn, ctx, project, name)
        return VersionList(
            versions=[_view(owner, dataset, v) for v in rows.list_versions(conn, dataset.id)]
        )


@operation("GET /projects/{project}/datasets/{ref}", permission="data:read", audit=None)
def get_dataset_version(ctx: Context, project: str, ref: str) -> DatasetVersion:
    """Resolve NAME@vN, NAME@latest or NAME to a version."""
    with ctx.store.read() as conn:
        owner, dataset, version = _resolve(conn, ctx, project, ref)
        return _view(owner, dataset, version)


@operation("GET /projects/{project}/datasets/{ref}/profile", permission="data:read", audit=None)
def get_dataset_profile(ctx: Context, project: str, ref: str) -> DatasetProfile:
    """The profiles of the version's tables (empty when it holds no CSV or Parquet table)."""
    with ctx.store.read() as conn:
        _, _, version = _resolve(conn, ctx, project, ref)
    if version.profile_hash is None:
        return DatasetProfile(tables={})
    return DatasetProfile(tables=json.loads(ctx.objects.read_bytes(version.profile_hash)))


@operation("GET /projects/{project}/datasets/{ref}/files", permission="data:read", audit=None)
def list_dataset_files(ctx: Context, project: str, ref: str) -> VersionFiles:
    """The files of a version with their hashes (download each with GET /objects/{hash})."""
    with ctx.store.read() as conn:
        _, dataset, version = _resolve(conn, ctx, project, ref)
    label = f"{dataset.name}@v{version.version}"
    if version.kind == "file":
        only = VersionFile(
            path=Path(version.path or dataset.name).name,
            hash=version.object_hash,
            size=version.size,
            executable=False,
        )
        return VersionFiles(ref=label, files=[only], empty_dirs=[])
    manifest = ctx.objects.read_manifest(version.object_hash)
    return VersionFiles(
        ref=label,
        files=[
            VersionFile(path=e.path, hash=e.hash, size=e.size, executable=e.executable)
            for e in manifest.entries
        ],
        empty_dirs=list(manifest.empty_dirs),
    )


@operation("GET /projects/{project}/datasets/{name}/diff", permission="data:read", audit=None)
def diff_dataset_versions(
    ctx: Context, project: str, name: str, base: str, target: str
) -> DatasetDiff:
    """Files added, removed and modified from `base` to `target` (v1, v2, latest or
    NAME@vN); for each changed table: rows added and removed, schema and statistic changes."""
    refs = [ref if "@" in ref else f"{name}@{ref}" for ref in (base, target)]
    with ctx.store.read() as conn:
        versions = [_resolve(conn, ctx, project, ref)[2] for ref in refs]
    old, new = versions
    if old.kind == "file" or new.kind == "file":
        label = Path(new.path or name).name
        changed = [label] if old.object_hash != new.object_hash else []
        files = FileChanges(added=[], removed=[], modified=changed, unchanged=1 - len(changed))
        tables = [(label, old.object_hash, new.object_hash)] if changed else []
    else:
        files = diff_manifests(*(ctx.objects.read_manifest(v.object_hash) for v in versions))
        before = {e.path: e.hash for e in ctx.objects.read_manifest(old.object_hash).entries}
        after = {e.path: e.hash for e in ctx.objects.read_manifest(new.object_hash).entries}
        tables = [(p, before[p], after[p]) for p in files.modified if _is_table(p)]
    profiles = [_profiles(ctx, v.profile_hash) for v in versions]
    diffs = []
    with tempfile.TemporaryDirectory(prefix="slipway-diff-") as work:
        for n, (path, old_hash, new_hash) in enumerate(tables):
            suffix = "".join(Path(path).suffixes)
            old_file, new_file = Path(work, f"{n}-old{suffix}"), Path(work, f"{n}-new{suffix}")
            ctx.objects.get_file(old_hash, old_file)
            ctx.objects.get_file(new_hash, new_file)
            diffs.append(
                diff_table(path, old_file, new_file, profiles[0].get(path), profiles[1].get(path))
            )
    return DatasetDiff(base=refs[0], target=refs[1], files=files, tables=diffs)


@operation("POST /runs/{run_id}/inputs", permission="run:write", audit="run.input")
def record_run_input(ctx: Context, run_id: str, body: RunInput) -> DatasetVersion:
    """Record that a run read a dataset version (lineage: dataset version -> run)."""
    with ctx.store.write() as conn:
        if run_rows.get_run(conn, run_id) is None:
            raise NotFound(f"run {run_id} does not exist")
        owner, dataset, version = _resolve(conn, ctx, body.project, body.dataset)
        rows.add_edge(conn, ("dataset_version", version.id), ("run", run_id), "input", ctx.clock())
        return _view(owner, dataset, version)


# -- helpers -----------------------------------------------------------------------------


def _profiles(ctx: Context, digest: str | None) -> dict[str, Any]:
    return json.loads(ctx.objects.read_bytes(digest)) if digest else {}


def _is_table(path: str) -> bool:
    return path.lower().endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet", ".pq"))


def _check_dataset_name(name: str) -> str:
    try:
        return check_name(name)
    except ValueError as exc:
        raise InvalidInput(f"dataset: {exc}") from None


def _dataset(
    conn: Connection, ctx: Context, project: str, name: str
) -> tuple[ProjectEntity, DatasetEntity]:
    owner = project_for(conn, ctx, project, create=False)
    dataset = rows.get_dataset(conn, owner.id, _check_dataset_name(name))
    if dataset is None:
        raise NotFound(
            f"dataset {name!r} does not exist in project {project!r}; "
            "`slipway data add PATH` creates it"
        )
    return owner, dataset


def _resolve(
    conn: Connection, ctx: Context, project: str, ref: str
) -> tuple[ProjectEntity, DatasetEntity, DatasetVersionEntity]:
    try:
        name, number = parse_ref(ref)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    owner, dataset = _dataset(conn, ctx, project, name)
    found = (
        rows.latest_version(conn, dataset.id)
        if number is None
        else rows.get_version(conn, dataset.id, number)
    )
    if found is None:
        known = rows.latest_version(conn, dataset.id)
        have = f"it has v1..v{known.version}" if known else "it has no version yet"
        raise NotFound(f"dataset {name!r} has no version {ref.partition('@')[2]!r}; {have}")
    return owner, dataset, found


def _view(
    owner: ProjectEntity,
    dataset: DatasetEntity,
    v: DatasetVersionEntity,
    *,
    created: bool = True,
) -> DatasetVersion:
    return DatasetVersion(
        project=owner.name,
        name=dataset.name,
        version=v.version,
        object_hash=v.object_hash,
        kind=v.kind,
        size=v.size,
        file_count=v.file_count,
        path=v.path,
        message=v.message,
        created_by=v.created_by,
        created_at=v.created_at,
        profile_hash=v.profile_hash,
        pii=[PiiColumn.model_validate(flag) for flag in json.loads(v.pii)],
        created=created,
    )
