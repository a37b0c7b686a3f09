"""Projects, the folders runs, datasets and models live in: `sw.create_project(...)`."""

from __future__ import annotations

from slipway.client import current_client
from slipway.services.projects.schemas import Project


def create_project(name: str, description: str = "") -> Project:
    """Create project `name`; a run's project is created on first use without this."""
    return current_client().create_project(name, description)


def get_project(name: str) -> Project:
    return current_client().get_project(name)


def list_projects() -> list[Project]:
    """Every project, in name order."""
    return list(current_client().iter_projects())


def delete_project(name: str, *, force: bool = False) -> None:
    """Delete project `name`; one that still holds runs, datasets or models needs `force=True`."""
    current_client().delete_project(name, force=force)
