"""Request and response bodies of the pipeline operations."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from slipway.refs import check_name
from slipway.services.projects.schemas import ms_to_datetime

Executor = Literal["local", "process", "ray"]
RunStatus = Literal["running", "finished", "failed"]
StepStatus = Literal["pending", "running", "finished", "failed", "skipped"]
MissedPolicy = Literal["latest", "all", "skip"]
_HASH = r"^[0-9a-f]{64}$"
_PIPELINE_REF = r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$"
# A run may come from a pipeline defined inside a function (module:outer.<locals>.name): it
# is recorded, though only an importable one can be resumed.
_RUN_PIPELINE_REF = r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z0-9_.<>]+$"


class Body(BaseModel):
    """A request or response body. Its validator is built on first use rather than on
    import: a command imports every body of the service it calls and uses a few of them."""

    model_config = ConfigDict(defer_build=True)


class OutputArtifact(Body):
    """One output of a step, as its materializer stored it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hash: str = Field(pattern=_HASH)
    kind: str = Field(max_length=64)  # the materializer: parquet, npy, json, model, ...
    type: str = Field(max_length=256)  # the Python type that was stored
    size: int = Field(ge=0)
    folder: bool = False  # `hash` is a folder manifest (a model package) rather than a file


class StepPlan(Body):
    model_config = ConfigDict(extra="forbid")

    step: str = Field(max_length=256)
    upstream: list[str] = Field(default_factory=list)
    resources: dict[str, float] = Field(default_factory=dict)
    static_key: str | None = Field(
        default=None,
        pattern=_HASH,
        description="the static part of the step's cache key; None: do not reuse a result",
    )
    inputs: dict[str, str] = Field(
        default_factory=dict, description="parameter -> the upstream step whose output it takes"
    )


class PipelineRunCreate(Body):
    model_config = ConfigDict(extra="forbid")

    pipeline: str = Field(pattern=_RUN_PIPELINE_REF, description="module:attribute, for resume")
    name: str = Field(max_length=256)
    executor: Executor
    params: dict[str, Any] = Field(default_factory=dict)
    steps: list[StepPlan] = Field(min_length=1)
    driver: str = Field(default="", max_length=256)
    schedule: str | None = Field(default=None, description="the schedule that started it")
    scheduled_at: int | None = Field(default=None, description="its occurrence, ms since epoch")


class StepRunUpdate(Body):
    """What changed in a step run; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    step: str = Field(max_length=256)
    status: StepStatus
    cache_key: str | None = Field(default=None, pattern=_HASH)
    cached: bool | None = None
    cached_from: str | None = None
    attempts: int | None = Field(default=None, ge=0)
    start_time: int | None = None
    end_time: int | None = None
    cpu_seconds: float | None = Field(default=None, ge=0)
    peak_memory_bytes: int | None = Field(default=None, ge=0)
    outputs: dict[str, OutputArtifact] | None = None
    run_id: str | None = None
    error: str | None = Field(default=None, max_length=20_000)


class StepRunBatch(Body):
    model_config = ConfigDict(extra="forbid")

    steps: list[StepRunUpdate] = Field(min_length=1)


class PipelineRunUpdate(Body):
    model_config = ConfigDict(extra="forbid")

    status: RunStatus
    error: str = Field(default="", max_length=20_000)
    driver: str | None = Field(default=None, max_length=256)


class StepRun(Body):
    model_config = ConfigDict(frozen=True)

    id: str
    step: str
    status: StepStatus
    upstream: list[str]
    cached: bool
    cached_from: str | None
    cache_key: str | None
    attempts: int
    start_time: datetime | None
    end_time: datetime | None
    duration_s: float | None
    cpu_seconds: float | None
    peak_memory_bytes: int | None
    resources: dict[str, float]
    outputs: dict[str, OutputArtifact]
    run_id: str | None  # the tracking run the step opened
    error: str
    datasets: list[str] = Field(default_factory=list)  # dataset versions the step read
    models: list[str] = Field(default_factory=list)  # model versions it registered

    _ms = field_validator("start_time", "end_time", mode="before")(ms_to_datetime)


class PipelineRun(Body):
    model_config = ConfigDict(frozen=True)

    id: str
    project: str
    pipeline: str
    name: str
    status: RunStatus
    executor: Executor
    params: dict[str, Any]
    driver: str
    schedule_id: str | None
    scheduled_at: datetime | None
    error: str
    created_by: str
    start_time: datetime
    end_time: datetime | None
    duration_s: float | None
    steps: dict[str, StepRun]

    _ms = field_validator("start_time", "end_time", "scheduled_at", mode="before")(ms_to_datetime)


class PipelineRunPage(Body):
    runs: list[PipelineRun]
    next_page_token: str | None = None


class CachedStep(Body):
    """A finished step run whose outputs a step with the same cache key can reuse."""

    model_config = ConfigDict(frozen=True)

    step_run_id: str
    pipeline_run_id: str
    step: str
    outputs: dict[str, OutputArtifact]


class CacheLookup(Body):
    model_config = ConfigDict(extra="forbid")

    keys: list[str] = Field(min_length=1, max_length=10_000)


class CacheHits(Body):
    hits: dict[str, CachedStep]


class ScheduleCreate(Body):
    model_config = ConfigDict(extra="forbid")

    name: str
    pipeline: str = Field(pattern=_PIPELINE_REF)
    cron: str = Field(max_length=128)
    params: dict[str, Any] = Field(default_factory=dict)
    executor: Executor = "local"
    missed: MissedPolicy = Field(
        default="latest",
        description="occurrences missed while no scheduler ran: run the latest, all, or skip",
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return check_name(value)


class Schedule(Body):
    model_config = ConfigDict(frozen=True)

    id: str
    project: str
    name: str
    pipeline: str
    cron: str
    params: dict[str, Any]
    executor: Executor
    missed: MissedPolicy
    paused: bool
    created_by: str
    created_at: datetime
    last_occurrence: datetime | None
    next_occurrence: datetime | None

    _ms = field_validator("created_at", "last_occurrence", "next_occurrence", mode="before")(
        ms_to_datetime
    )


class ScheduleList(Body):
    schedules: list[Schedule]


class ScheduleUpdate(Body):
    model_config = ConfigDict(extra="forbid")

    paused: bool


class DueOccurrence(Body):
    """An occurrence this scheduler claimed and must start now."""

    model_config = ConfigDict(frozen=True)

    project: str
    schedule: str
    schedule_id: str
    pipeline: str
    params: dict[str, Any]
    executor: Executor
    scheduled_at: int


class ClaimRequest(Body):
    model_config = ConfigDict(extra="forbid")

    claimer: str = Field(min_length=1, max_length=256)
    lease_s: float = Field(default=300.0, gt=0, le=86_400)


class DueList(Body):
    due: list[DueOccurrence]
    skipped: int = 0  # occurrences passed over by the schedules' missed policy


class CostLine(Body):
    pipeline_run_id: str
    pipeline: str
    step: str
    cached: bool
    duration_s: float
    cpu_hours: float
    memory_gib_hours: float
    gpu_hours: float
    cost: float


class RunCost(Body):
    pipeline_run_id: str
    pipeline: str
    status: RunStatus
    start_time: datetime
    cost: float

    _ms = field_validator("start_time", mode="before")(ms_to_datetime)


class CostReport(Body):
    project: str
    currency: str
    prices: dict[str, float]
    steps: list[CostLine]
    runs: list[RunCost]
    total: float


class ClaimResult(Body):
    claimed: bool
