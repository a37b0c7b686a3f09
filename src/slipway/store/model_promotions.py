"""Repository for promotion evidence: approvals of model versions, promotion records, and the
dataset versions (with their PII flags and profiles) that a version was trained on.

Writers hold the model's row lock (see `model_registry`), so an approval or a promotion never
interleaves with an alias move of the same model.
"""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from slipway.store.entities import ApprovalEntity, DatasetVersionEntity, PromotionEntity
from slipway.store.schema import (
    dataset_versions,
    datasets,
    model_approvals,
    model_promotions,
    model_version_datasets,
)


def add_approval(conn: Connection, approval: ApprovalEntity) -> tuple[ApprovalEntity, bool]:
    """Insert `approval`, or return the one its principal already gave: (approval, created)."""
    found = get_approval(conn, approval.model_version_id, approval.principal)
    if found is not None:
        return found, False
    try:
        with conn.begin_nested():
            conn.execute(insert(model_approvals).values(**asdict(approval)))
    except SAIntegrityError:
        # The same principal approving twice at once: the other call's row stands.
        raced = get_approval(conn, approval.model_version_id, approval.principal)
        if raced is None:
            raise
        return raced, False
    return approval, True


def get_approval(conn: Connection, model_version_id: str, principal: str) -> ApprovalEntity | None:
    query = select(model_approvals).where(
        model_approvals.c.model_version_id == model_version_id,
        model_approvals.c.principal == principal,
    )
    row = conn.execute(query).one_or_none()
    return ApprovalEntity(**row._mapping) if row else None


def list_approvals(conn: Connection, model_version_id: str) -> list[ApprovalEntity]:
    """Oldest first."""
    query = (
        select(model_approvals)
        .where(model_approvals.c.model_version_id == model_version_id)
        .order_by(model_approvals.c.created_at, model_approvals.c.principal)
    )
    return [ApprovalEntity(**row._mapping) for row in conn.execute(query)]


def insert_promotion(conn: Connection, promotion: PromotionEntity) -> None:
    conn.execute(insert(model_promotions).values(**asdict(promotion)))


def list_promotions(
    conn: Connection, model_id: str, version: int | None = None
) -> list[PromotionEntity]:
    """The model's promotions (of one version number, if given), newest first."""
    query = select(model_promotions).where(model_promotions.c.model_id == model_id)
    if version is not None:
        query = query.where(model_promotions.c.version == version)
    query = query.order_by(model_promotions.c.promoted_at.desc(), model_promotions.c.id)
    return [PromotionEntity(**row._mapping) for row in conn.execute(query)]


def training_data(
    conn: Connection, model_version_id: str
) -> list[tuple[str, DatasetVersionEntity]]:
    """(dataset name, dataset version) of each dataset version the model version was trained
    on, by name and number."""
    query = (
        select(datasets.c.name, dataset_versions)
        .join(
            model_version_datasets,
            model_version_datasets.c.dataset_version_id == dataset_versions.c.id,
        )
        .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
        .where(model_version_datasets.c.model_version_id == model_version_id)
        .order_by(datasets.c.name, dataset_versions.c.version)
    )
    return [(row[0], DatasetVersionEntity(*row[1:])) for row in conn.execute(query)]
