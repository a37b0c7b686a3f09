"""Request and response bodies for runs."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from slipway.services.projects.schemas import ms_to_datetime

RunStatus = Literal["running", "finished", "failed", "killed"]
EndStatus = Literal["finished", "failed", "killed"]
TERMINAL: frozenset[str] = frozenset({"finished", "failed", "killed"})
MAX_BATCH = 50_000
MAX_VALUE = 6_000
MAX_CREATE_ARTIFACTS = 100  # what a run starts with (captured environment); more: log_artifact
_KEY = re.compile(r"^[A-Za-z0-9_\-. /:]{1,250}$")
KEY_RULE = "1-250 characters: letters, digits, space, '_', '-', '.', '/', ':'"


def check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.match(key) or key.startswith("/") or ".." in key:
        raise ValueError(f"invalid key {key!r}: {KEY_RULE}")
    return key


def _check_mapping(values: dict[str, str], what: str) -> dict[str, str]:
    for key, value in values.items():
        check_key(key)
        if len(value) > MAX_VALUE:
            raise ValueError(f"{what} {key!r} is {len(value)} characters; the limit is {MAX_VALUE}")
    return values


class ArtifactRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=1024)
    object_hash: str
    size: int = Field(ge=0)
    is_dir: bool = False


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=256)
    parent_run_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    start_time: int | None = None
    create_project: bool = True
    artifacts: list[ArtifactRecord] = Field(
        default_factory=list,
        max_length=MAX_CREATE_ARTIFACTS,
        description="Uploaded objects to record with the new run, in the same transaction.",
    )

    _tags = field_validator("tags")(lambda v: _check_mapping(v, "tag"))


class RunUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: RunStatus | None = None
    end_time: int | None = None
    name: str | None = Field(default=None, min_length=1, max_length=256)


class MetricColumns(BaseModel):
    """Metric points as columns: compact JSON and fast to validate for large batches."""

    model_config = ConfigDict(ser_json_inf_nan="strings")

    keys: list[str] = Field(default_factory=list)
    values: list[float] = Field(default_factory=list)
    steps: list[int] = Field(default_factory=list)
    timestamps: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _same_length(self) -> MetricColumns:
        n = len(self.keys)
        if not (len(self.values) == len(self.steps) == len(self.timestamps) == n):
            raise ValueError("metrics: keys, values, steps and timestamps must have equal lengths")
        if n > MAX_BATCH:
            raise ValueError(f"metrics: at most {MAX_BATCH} points per batch, got {n}")
        for key in set(self.keys):
            check_key(key)
        return self

    def __len__(self) -> int:
        return len(self.keys)


class LogBatch(BaseModel):
    """Values to log, and optionally the run's final status, written in one transaction.

    Ending a run in its last batch saves a round trip and a transaction per run, and a run
    can never be seen as finished without the values that were logged before it ended.
    """

    model_config = ConfigDict(extra="forbid")

    metrics: MetricColumns = Field(default_factory=MetricColumns)
    params: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    status: EndStatus | None = Field(
        default=None, description="End the run with this status once the values are written."
    )
    end_time: int | None = Field(
        default=None, description="When the run ended (ms); the server's clock if left out."
    )

    _params = field_validator("params")(lambda v: _check_mapping(v, "param"))
    _tags = field_validator("tags")(lambda v: _check_mapping(v, "tag"))

    @model_validator(mode="after")
    def _end_time_needs_status(self) -> LogBatch:
        if self.end_time is not None and self.status is None:
            raise ValueError("end_time: only a batch that ends the run (sets status) has one")
        return self


class MetricValue(BaseModel):
    model_config = ConfigDict(frozen=True, ser_json_inf_nan="strings")

    key: str
    value: float
    step: int
    timestamp: int


class Run(BaseModel):
    model_config = ConfigDict(frozen=True, ser_json_inf_nan="strings")

    id: str
    project: str
    name: str
    status: RunStatus
    parent_run_id: str | None
    created_by: str
    start_time: datetime
    end_time: datetime | None
    deleted: bool = False
    params: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)

    _ms = field_validator("start_time", "end_time", mode="before")(ms_to_datetime)

    @property
    def duration_s(self) -> float | None:
        if self.end_time is None:
            return None
        return (self.end_time - self.start_time).total_seconds()

    def metric(self, key: str) -> float:
        return self.metrics.get(key, math.nan)


class RunSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    projects: list[str] | None = None
    filter: str = Field(default="", max_length=10_000)
    order_by: list[str] = Field(default_factory=list, max_length=5)
    max_results: int = Field(default=100, ge=1, le=10_000)
    page_token: str | None = None
    include_deleted: bool = False


class RunPage(BaseModel):
    runs: list[Run]
    next_page_token: str | None = None


class Artifact(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    path: str
    object_hash: str
    size: int
    is_dir: bool
    created_at: datetime

    _ms = field_validator("created_at", mode="before")(ms_to_datetime)
