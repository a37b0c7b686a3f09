"""Frozen domain entities: what leaves `store/` instead of rows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProjectEntity:
    id: str
    name: str
    description: str
    created_by: str
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class AuditEventEntity:
    id: int
    timestamp: int
    principal: str
    action: str
    operation: str
    target: str
    outcome: str
    detail: str
