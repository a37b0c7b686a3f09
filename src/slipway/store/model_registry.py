"""Repository for the model registry: registered models, versions, lineage, aliases.

Every change to one model first locks its row (`get_model(lock=True)`, or `next_version`,
which updates it): on PostgreSQL writers of the same model then take turns, so version numbers
have no duplicates and an alias move and its history row can never interleave with another.
SQLite needs no row lock: its write transactions begin IMMEDIATE, one at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from slipway.errors import Conflict
from slipway.store.entities import (
    AliasChangeEntity,
    DatasetInputEntity,
    EvaluationEntity,
    ModelVersionEntity,
    RegisteredModelEntity,
)
from slipway.store.schema import (
    dataset_versions,
    datasets,
    model_alias_history,
    model_aliases,
    model_evaluations,
    model_version_datasets,
    model_versions,
    registered_models,
)

# -- registered models -------------------------------------------------------------------


def get_model(
    conn: Connection, project_id: str, name: str, *, lock: bool = False
) -> RegisteredModelEntity | None:
    """The model named `name`; `lock` holds its row until the transaction ends."""
    query = select(registered_models).where(
        registered_models.c.project_id == project_id, registered_models.c.name == name
    )
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    return RegisteredModelEntity(**row._mapping) if row else None


def insert_model(conn: Connection, model: RegisteredModelEntity) -> RegisteredModelEntity:
    """Insert, or return (locked) the model another writer created under that name just now."""
    try:
        with conn.begin_nested():
            conn.execute(insert(registered_models).values(**asdict(model)))
    except SAIntegrityError:
        raced = get_model(conn, model.project_id, model.name, lock=True)
        if raced is None:
            raise
        return raced
    return model


def list_models(
    conn: Connection, project_id: str
) -> list[tuple[RegisteredModelEntity, int | None]]:
    """The project's models by name, each with its newest active version number."""
    latest = (
        select(func.max(model_versions.c.version))
        .where(
            model_versions.c.model_id == registered_models.c.id,
            model_versions.c.status == "active",
        )
        .scalar_subquery()
    )
    query = (
        select(registered_models, latest.label("latest"))
        .where(registered_models.c.project_id == project_id)
        .order_by(registered_models.c.name)
    )
    width = len(registered_models.c)
    return [(RegisteredModelEntity(*row[:width]), row.latest) for row in conn.execute(query)]


def count_models(conn: Connection, project_id: str) -> int:
    query = select(func.count()).select_from(registered_models)
    return int(conn.execute(query.where(registered_models.c.project_id == project_id)).scalar_one())


def delete_model(conn: Connection, model_id: str) -> None:
    """Delete a model with its versions, lineage rows and alias history (by cascade)."""
    conn.execute(delete(registered_models).where(registered_models.c.id == model_id))


# -- versions ----------------------------------------------------------------------------


def next_version(conn: Connection, model_id: str) -> int:
    """Take the model's next version number: one more than any it ever gave.

    The update locks the model row, so a concurrent writer waits and then takes the number
    after; if this transaction rolls back, the number is given back with it.
    """
    query = (
        update(registered_models)
        .where(registered_models.c.id == model_id)
        .values(last_version=registered_models.c.last_version + 1)
        .returning(registered_models.c.last_version)
    )
    return int(conn.execute(query).scalar_one())


def insert_version(
    conn: Connection, version: ModelVersionEntity, dataset_version_ids: Iterable[str]
) -> None:
    """Insert a version with its lineage rows; Conflict if its number is taken."""
    try:
        with conn.begin_nested():
            conn.execute(insert(model_versions).values(**asdict(version)))
    except SAIntegrityError:
        # Unreachable while writers take numbers from next_version; kept as the last guard.
        raise Conflict(
            f"version {version.version} of that model was just created by another writer; try again"
        ) from None
    rows = [
        {"model_version_id": version.id, "dataset_version_id": dataset_id}
        for dataset_id in dict.fromkeys(dataset_version_ids)
    ]
    if rows:
        conn.execute(insert(model_version_datasets), rows)


def get_version(conn: Connection, model_id: str, version: int) -> ModelVersionEntity | None:
    query = select(model_versions).where(
        model_versions.c.model_id == model_id, model_versions.c.version == version
    )
    row = conn.execute(query).one_or_none()
    return ModelVersionEntity(**row._mapping) if row else None


def latest_version(
    conn: Connection, model_id: str, *, active_only: bool
) -> ModelVersionEntity | None:
    query = select(model_versions).where(model_versions.c.model_id == model_id)
    if active_only:
        query = query.where(model_versions.c.status == "active")
    row = conn.execute(query.order_by(model_versions.c.version.desc()).limit(1)).one_or_none()
    return ModelVersionEntity(**row._mapping) if row else None


def list_versions(conn: Connection, model_id: str) -> list[ModelVersionEntity]:
    """Newest first."""
    query = (
        select(model_versions)
        .where(model_versions.c.model_id == model_id)
        .order_by(model_versions.c.version.desc())
    )
    return [ModelVersionEntity(**row._mapping) for row in conn.execute(query)]


def update_version(conn: Connection, version_id: str, **values: str | None) -> None:
    conn.execute(update(model_versions).where(model_versions.c.id == version_id).values(**values))


def delete_version(conn: Connection, version_id: str) -> None:
    """Delete a version and its lineage rows (by cascade); its number is not given again."""
    conn.execute(delete(model_versions).where(model_versions.c.id == version_id))


def version_datasets(
    conn: Connection, version_ids: Sequence[str]
) -> dict[str, list[DatasetInputEntity]]:
    """The dataset versions each model version was trained on, by name and number."""
    found: dict[str, list[DatasetInputEntity]] = {vid: [] for vid in version_ids}
    if not version_ids:
        return found
    query = (
        select(
            model_version_datasets.c.model_version_id,
            datasets.c.name,
            dataset_versions.c.version,
            dataset_versions.c.object_hash,
            dataset_versions.c.path,
        )
        .join(
            dataset_versions,
            dataset_versions.c.id == model_version_datasets.c.dataset_version_id,
        )
        .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
        .where(model_version_datasets.c.model_version_id.in_(list(version_ids)))
        .order_by(datasets.c.name, dataset_versions.c.version)
    )
    for vid, name, number, digest, path in conn.execute(query):
        found[vid].append(DatasetInputEntity(name, number, digest, path))
    return found


def package_hashes(conn: Connection) -> set[str]:
    """The package manifest of every model version: what gc must keep."""
    return set(conn.execute(select(model_versions.c.package_hash).distinct()).scalars())


# -- aliases -----------------------------------------------------------------------------


def aliases(conn: Connection, model_id: str) -> dict[str, int]:
    """alias -> version number, by alias."""
    query = (
        select(model_aliases.c.alias, model_versions.c.version)
        .join(model_versions, model_versions.c.id == model_aliases.c.model_version_id)
        .where(model_aliases.c.model_id == model_id)
        .order_by(model_aliases.c.alias)
    )
    return {alias: version for alias, version in conn.execute(query)}


def project_aliases(conn: Connection, project_id: str) -> dict[str, dict[str, int]]:
    """model id -> {alias: version number} for every model of a project that has aliases."""
    query = (
        select(model_aliases.c.model_id, model_aliases.c.alias, model_versions.c.version)
        .join(model_versions, model_versions.c.id == model_aliases.c.model_version_id)
        .join(registered_models, registered_models.c.id == model_aliases.c.model_id)
        .where(registered_models.c.project_id == project_id)
        .order_by(model_aliases.c.alias)
    )
    found: dict[str, dict[str, int]] = {}
    for model_id, alias, version in conn.execute(query):
        found.setdefault(model_id, {})[alias] = version
    return found


def move_alias(
    conn: Connection, change: AliasChangeEntity, version_id: str | None, *, existed: bool
) -> None:
    """Point `change.alias` at `version_id` (None: remove it) and append `change` to the history,
    in the caller's transaction; the caller holds the model row lock."""
    where = (model_aliases.c.model_id == change.model_id, model_aliases.c.alias == change.alias)
    if version_id is None:
        conn.execute(delete(model_aliases).where(*where))
    elif existed:
        conn.execute(update(model_aliases).where(*where).values(model_version_id=version_id))
    else:
        conn.execute(
            insert(model_aliases).values(
                model_id=change.model_id, alias=change.alias, model_version_id=version_id
            )
        )
    values = asdict(change)
    del values["id"]  # assigned by the database: the order of moves
    conn.execute(insert(model_alias_history).values(**values))


def alias_history(conn: Connection, model_id: str) -> list[AliasChangeEntity]:
    """Oldest first."""
    query = (
        select(model_alias_history)
        .where(model_alias_history.c.model_id == model_id)
        .order_by(model_alias_history.c.id)
    )
    return [AliasChangeEntity(**row._mapping) for row in conn.execute(query)]


# -- evaluations -------------------------------------------------------------------------


def insert_evaluation(conn: Connection, evaluation: EvaluationEntity) -> None:
    conn.execute(insert(model_evaluations).values(**asdict(evaluation)))


def list_evaluations(conn: Connection, model_version_id: str) -> list[EvaluationEntity]:
    """Newest first."""
    query = (
        select(model_evaluations)
        .where(model_evaluations.c.model_version_id == model_version_id)
        .order_by(model_evaluations.c.created_at.desc(), model_evaluations.c.id)
    )
    return [EvaluationEntity(**row._mapping) for row in conn.execute(query)]
