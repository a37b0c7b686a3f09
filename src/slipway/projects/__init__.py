"""Projects service."""

from slipway.projects.models import Project, ProjectCreate, ProjectPage

__all__ = ["Project", "ProjectCreate", "ProjectPage"]
