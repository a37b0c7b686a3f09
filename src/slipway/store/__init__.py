"""Metadata storage: SQLAlchemy Core tables, repositories per aggregate, Alembic migrations."""

from slipway.store._schema_check import REVISIONS, head
from slipway.store._store import MetadataStore, revision_of
from slipway.store.entities import AuditEventEntity, ProjectEntity

__all__ = [
    "REVISIONS",
    "AuditEventEntity",
    "MetadataStore",
    "ProjectEntity",
    "head",
    "revision_of",
]
