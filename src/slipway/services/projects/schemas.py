"""Request and response bodies for projects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Re-exported: the services import the name rule from here.
from slipway.refs import NAME_PATTERN as NAME_PATTERN
from slipway.refs import NAME_RULE as NAME_RULE
from slipway.refs import check_name as check_name


def ms_to_datetime(value: Any) -> Any:
    """Entities keep integer milliseconds; bodies show timezone-aware datetimes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    return value


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description=NAME_RULE, json_schema_extra={"pattern": NAME_PATTERN})
    description: str = Field(default="", max_length=10_000)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return check_name(value)


class Project(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    name: str
    description: str
    created_by: str
    created_at: datetime
    updated_at: datetime

    _ms = field_validator("created_at", "updated_at", mode="before")(ms_to_datetime)


class ProjectPage(BaseModel):
    projects: list[Project]
    next_page_token: str | None = None
