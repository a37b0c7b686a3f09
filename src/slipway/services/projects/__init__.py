"""Projects service. Exports load on first use: the name rule alone needs no pydantic."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slipway._lazy import lazy_exports

if TYPE_CHECKING:
    from slipway.services.projects.schemas import Project, ProjectCreate, ProjectPage

__all__ = ["Project", "ProjectCreate", "ProjectPage"]
_WHERE = dict.fromkeys(__all__, "slipway.services.projects.schemas")

__getattr__ = lazy_exports(__name__, _WHERE)
