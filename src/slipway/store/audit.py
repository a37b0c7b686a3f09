"""Repository for audit events (append-only)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from slipway.store.entities import AuditEventEntity
from slipway.store.schema import audit_events


@dataclass
class PendingEvent:
    """An audit event waiting for the operation's first write transaction to carry it."""

    timestamp: int
    principal: str
    action: str
    operation: str
    target: str
    outcome: str = "ok"
    detail: str = ""
    written: bool = False


_pending: ContextVar[PendingEvent | None] = ContextVar("slipway_pending_audit", default=None)


@contextmanager
def pending(event: PendingEvent) -> Iterator[PendingEvent]:
    """Within the block, the first write transaction also inserts `event`, atomically."""
    token = _pending.set(event)
    try:
        yield event
    finally:
        _pending.reset(token)


def annotate(*, detail: str | None = None, outcome: str | None = None) -> None:
    """Change what the running operation's audit event records, before the write transaction
    that carries it commits: for an operation whose outcome is only known as it runs (a
    promotion refused by its gates, or forced past them)."""
    event = _pending.get()
    if event is None or event.written:
        return
    if detail is not None:
        event.detail = detail if len(detail) <= 4000 else f"{detail[:3900]}... (cut)"
    if outcome is not None:
        event.outcome = outcome


def take_pending() -> PendingEvent | None:
    event = _pending.get()
    return event if event is not None and not event.written else None


def write_pending(conn: Connection, event: PendingEvent) -> None:
    e = event  # not asdict(): it deep-copies every field, on every write
    append_event(
        conn,
        timestamp=e.timestamp,
        principal=e.principal,
        action=e.action,
        operation=e.operation,
        target=e.target,
        outcome=e.outcome,
        detail=e.detail,
    )


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
    values = {"timestamp": timestamp, "principal": principal, "action": action}
    values |= {"operation": operation, "target": target, "outcome": outcome, "detail": detail}
    conn.execute(_INSERT, values)


_INSERT = insert(audit_events)  # every write carries one: built once


def list_events(
    conn: Connection, *, action: str | None = None, limit: int = 100
) -> Sequence[AuditEventEntity]:
    query = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
    if action is not None:
        query = query.where(audit_events.c.action == action)
    return [AuditEventEntity(**row._mapping) for row in conn.execute(query)]
