"""Repository for audit events (append-only)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, insert, select

from slipway.store.entities import AuditEventEntity
from slipway.store.schema import audit_events


def append_event(
    conn: Connection,
    *,
    timestamp: int,
    principal: str,
    action: str,
    operation: str,
    target: str,
    outcome: str,
    detail: str = "",
) -> None:
    conn.execute(
        insert(audit_events).values(
            timestamp=timestamp,
            principal=principal,
            action=action,
            operation=operation,
            target=target,
            outcome=outcome,
            detail=detail,
        )
    )


def list_events(
    conn: Connection, *, action: str | None = None, limit: int = 100
) -> Sequence[AuditEventEntity]:
    query = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
    if action is not None:
        query = query.where(audit_events.c.action == action)
    return [AuditEventEntity(**row._mapping) for row in conn.execute(query)]
