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


@dataclass(frozen=True, slots=True)
class RunEntity:
    id: str
    project_id: str
    parent_run_id: str | None
    name: str
    status: str
    created_by: str
    start_time: int
    end_time: int | None
    deleted_at: int | None


@dataclass(frozen=True, slots=True)
class MetricPoint:
    key: str
    value: float
    step: int
    timestamp: int


@dataclass(frozen=True, slots=True)
class ArtifactEntity:
    run_id: str
    path: str
    object_hash: str
    size: int
    is_dir: bool
    created_at: int


@dataclass(frozen=True, slots=True)
class DatasetEntity:
    id: str
    project_id: str
    name: str
    description: str
    created_by: str
    created_at: int


@dataclass(frozen=True, slots=True)
class DatasetVersionEntity:
    id: str
    dataset_id: str
    version: int
    object_hash: str
    size: int
    file_count: int
    message: str
    created_by: str
    created_at: int
    kind: str
    path: str
    profile_hash: str | None
    pii: str  # JSON list of flags


@dataclass(frozen=True, slots=True)
class RegisteredModelEntity:
    id: str
    project_id: str
    name: str
    description: str
    created_by: str
    created_at: int
    last_version: int  # the highest number ever given (deleted versions keep theirs)


@dataclass(frozen=True, slots=True)
class ModelVersionEntity:
    id: str
    model_id: str
    version: int
    package_hash: str
    flavor: str
    signature: str | None  # JSON
    description: str
    tags: str  # JSON object
    status: str  # "active" or "archived"
    run_id: str | None
    code_commit: str | None
    pipeline_run: str | None
    created_by: str
    created_at: int


@dataclass(frozen=True, slots=True)
class AliasChangeEntity:
    id: int
    model_id: str
    alias: str
    version: int | None  # None: the alias was removed
    previous_version: int | None
    changed_by: str
    changed_at: int
    reason: str


@dataclass(frozen=True, slots=True)
class EvaluationEntity:
    id: str
    model_version_id: str
    task: str
    data: str
    rows: int
    result: str  # JSON
    created_by: str
    created_at: int


@dataclass(frozen=True, slots=True)
class ApprovalEntity:
    id: str
    model_version_id: str
    principal: str
    note: str
    created_at: int


@dataclass(frozen=True, slots=True)
class PromotionEntity:
    id: str
    model_id: str
    alias: str
    version: int
    previous_version: int | None
    forced: bool
    reason: str
    report: str  # JSON
    promoted_by: str
    promoted_at: int


@dataclass(frozen=True, slots=True)
class DatasetInputEntity:
    """A dataset version a model version was trained on, as lineage shows it."""

    dataset: str
    version: int
    object_hash: str
    path: str


@dataclass(frozen=True, slots=True)
class PipelineRunEntity:
    id: str
    project_id: str
    pipeline: str
    name: str
    status: str
    executor: str
    params: str
    driver: str
    schedule_id: str | None
    scheduled_at: int | None
    error: str
    created_by: str
    start_time: int
    end_time: int | None


@dataclass(frozen=True, slots=True)
class StepRunEntity:
    id: str
    pipeline_run_id: str
    step: str
    position: int
    status: str
    upstream: str
    cache_key: str | None
    cached: bool
    cached_from: str | None
    attempts: int
    start_time: int | None
    end_time: int | None
    cpu_seconds: float | None
    peak_memory_bytes: int | None
    resources: str
    outputs: str
    run_id: str | None
    error: str


@dataclass(frozen=True, slots=True)
class ScheduleEntity:
    id: str
    project_id: str
    name: str
    pipeline: str
    cron: str
    params: str
    executor: str
    missed: str
    paused: bool
    created_by: str
    created_at: int
