"""Repository for datasets, their versions, and lineage edges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from slipway.errors import Conflict
from slipway.store.entities import DatasetEntity, DatasetVersionEntity
from slipway.store.schema import dataset_versions, datasets, lineage_edges


def get_dataset(conn: Connection, project_id: str, name: str) -> DatasetEntity | None:
    query = select(datasets).where(datasets.c.project_id == project_id, datasets.c.name == name)
    row = conn.execute(query).one_or_none()
    return DatasetEntity(**row._mapping) if row else None


def insert_dataset(conn: Connection, dataset: DatasetEntity) -> DatasetEntity:
    """Insert, or return the dataset another writer created under that name a moment ago."""
    try:
        with conn.begin_nested():
            conn.execute(insert(datasets).values(**asdict(dataset)))
    except SAIntegrityError:
        raced = get_dataset(conn, dataset.project_id, dataset.name)
        if raced is None:
            raise
        return raced
    return dataset


def list_datasets(conn: Connection, project_id: str) -> list[tuple[DatasetEntity, int]]:
    """The project's datasets by name, each with its number of versions."""
    count = (
        select(func.count())
        .select_from(dataset_versions)
        .where(dataset_versions.c.dataset_id == datasets.c.id)
        .scalar_subquery()
    )
    query = (
        select(datasets, count.label("versions"))
        .where(datasets.c.project_id == project_id)
        .order_by(datasets.c.name)
    )
    return [
        (DatasetEntity(*row[: len(datasets.c)]), int(row.versions)) for row in conn.execute(query)
    ]


def latest_version(conn: Connection, dataset_id: str) -> DatasetVersionEntity | None:
    query = (
        select(dataset_versions)
        .where(dataset_versions.c.dataset_id == dataset_id)
        .order_by(dataset_versions.c.version.desc())
        .limit(1)
    )
    row = conn.execute(query).one_or_none()
    return DatasetVersionEntity(**row._mapping) if row else None


def get_version(conn: Connection, dataset_id: str, version: int) -> DatasetVersionEntity | None:
    query = select(dataset_versions).where(
        dataset_versions.c.dataset_id == dataset_id, dataset_versions.c.version == version
    )
    row = conn.execute(query).one_or_none()
    return DatasetVersionEntity(**row._mapping) if row else None


def list_versions(conn: Connection, dataset_id: str) -> list[DatasetVersionEntity]:
    """Newest first."""
    query = (
        select(dataset_versions)
        .where(dataset_versions.c.dataset_id == dataset_id)
        .order_by(dataset_versions.c.version.desc())
    )
    return [DatasetVersionEntity(**row._mapping) for row in conn.execute(query)]


def insert_version(conn: Connection, version: DatasetVersionEntity) -> None:
    """Insert version N; Conflict if another writer took that number first."""
    try:
        with conn.begin_nested():
            conn.execute(insert(dataset_versions).values(**asdict(version)))
    except SAIntegrityError:
        raise Conflict(
            f"version {version.version} of that dataset was just created by another writer; "
            "try again"
        ) from None


def referenced_hashes(conn: Connection) -> set[str]:
    """Every object hash a dataset version names (its manifest or file, and its profile)."""
    rows = conn.execute(select(dataset_versions.c.object_hash, dataset_versions.c.profile_hash))
    return {h for pair in rows for h in pair if h}


def add_edge(
    conn: Connection,
    src: tuple[str, str],
    dst: tuple[str, str],
    relation: str,
    created_at: int,
) -> None:
    """Record `src -relation-> dst` once (recording it again changes nothing)."""
    values = {
        "src_kind": src[0],
        "src_id": src[1],
        "dst_kind": dst[0],
        "dst_id": dst[1],
        "relation": relation,
        "created_at": created_at,
    }
    try:
        with conn.begin_nested():
            conn.execute(insert(lineage_edges).values(**values))
    except SAIntegrityError:
        pass  # already recorded: edges are a set


def edges_to(conn: Connection, dst: tuple[str, str]) -> Sequence[tuple[str, str, str]]:
    """(src_kind, src_id, relation) of the edges into `dst`."""
    query = select(
        lineage_edges.c.src_kind, lineage_edges.c.src_id, lineage_edges.c.relation
    ).where(lineage_edges.c.dst_kind == dst[0], lineage_edges.c.dst_id == dst[1])
    return [(k, i, r) for k, i, r in conn.execute(query)]


def versions_by_id(conn: Connection, ids: Sequence[str]) -> list[tuple[str, int, str]]:
    """(dataset name, version number, version id) of each of these dataset versions."""
    if not ids:
        return []
    query = (
        select(datasets.c.name, dataset_versions.c.version, dataset_versions.c.id)
        .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
        .where(dataset_versions.c.id.in_(list(ids)))
        .order_by(datasets.c.name, dataset_versions.c.version)
    )
    return [(name, version, vid) for name, version, vid in conn.execute(query)]


def version_objects(conn: Connection) -> set[tuple[str, str, str | None]]:
    """(object hash, kind, profile hash) of every dataset version: what gc must keep."""
    query = select(
        dataset_versions.c.object_hash, dataset_versions.c.kind, dataset_versions.c.profile_hash
    ).distinct()
    return {(digest, kind, profile) for digest, kind, profile in conn.execute(query)}
