"""Request and response bodies of the model registry operations, and model references.

A reference reads NAME (the newest active version), NAME@latest (the same), NAME@v3 or
NAME@3 (a version) or NAME@production (an alias). Alias names therefore never look like a
version: not 'latest', not vN, not N.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from slipway.refs import parse_dataset_ref
from slipway.services.projects.schemas import ms_to_datetime

# The file of a model package that says what it holds (flavor, signature, environment).
PACKAGE_META_FILE = "slipway-model.yaml"
MAX_TEXT = 10_000
MAX_TAG_VALUE = 6_000
MAX_DATASETS = 1_000
_HASH = r"^[0-9a-f]{64}$"
_RUN_ID = r"^[0-9a-f]{32}$"
_COMMIT = re.compile(r"^[0-9a-fA-F]{7,64}$")

_TAG_KEY = re.compile(r"^[A-Za-z0-9_\-. /:]{1,250}$")
TAG_KEY_RULE = "1-250 characters: letters, digits, space, '_', '-', '.', '/', ':'"

ModelStatus = Literal["active", "archived"]


def check_tags(tags: dict[str, str]) -> dict[str, str]:
    for key, value in tags.items():
        check_tag_key(key)
        if len(value) > MAX_TAG_VALUE:
            raise ValueError(
                f"tag {key!r} is {len(value)} characters; the limit is {MAX_TAG_VALUE}"
            )
    return tags


def check_tag_key(key: str) -> str:
    if not _TAG_KEY.match(key):
        raise ValueError(f"invalid tag key {key!r}: {TAG_KEY_RULE}")
    return key


class ModelVersionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    package_hash: str = Field(pattern=_HASH, description="manifest of the stored package folder")
    flavor: str = Field(min_length=1, max_length=64)
    signature: dict[str, Any] | None = None
    description: str = Field(default="", max_length=MAX_TEXT)
    tags: dict[str, str] = Field(default_factory=dict)
    run_id: str | None = Field(default=None, pattern=_RUN_ID, description="the run that made it")
    datasets: list[str] = Field(
        default_factory=list,
        max_length=MAX_DATASETS,
        description="dataset versions it was trained on, NAME@vN, in the same project",
    )
    code_commit: str | None = Field(default=None, description="git commit, 7-64 hex digits")
    pipeline_run: str | None = Field(default=None, min_length=1, max_length=256)

    _tags = field_validator("tags")(check_tags)

    @field_validator("datasets")
    @classmethod
    def _dataset_refs(cls, refs: list[str]) -> list[str]:
        for ref in refs:
            parse_dataset_ref(ref)
        return refs

    @field_validator("code_commit")
    @classmethod
    def _commit(cls, value: str | None) -> str | None:
        if value is not None and not _COMMIT.match(value):
            raise ValueError(f"code_commit {value!r} is not a git commit (7-64 hex digits)")
        return value.lower() if value is not None else None


class ModelVersion(BaseModel):
    model_config = ConfigDict(frozen=True)

    project: str
    name: str
    version: int
    package_hash: str
    flavor: str
    signature: dict[str, Any] | None
    description: str
    tags: dict[str, str]
    aliases: list[str]
    status: ModelStatus
    run_id: str | None
    datasets: list[str] = Field(description="dataset versions it was trained on, NAME@vN")
    code_commit: str | None
    pipeline_run: str | None
    created_by: str
    created_at: datetime
    # False when the request repeated the latest version exactly (a retried call, say): that
    # version is returned instead of a copy.
    created: bool = True

    _ms = field_validator("created_at", mode="before")(ms_to_datetime)

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}"


class ModelVersionList(BaseModel):
    versions: list[ModelVersion]


class RegisteredModel(BaseModel):
    project: str
    name: str
    description: str
    created_by: str
    created_at: datetime
    latest_version: int | None = Field(description="the newest active version, if any")
    aliases: dict[str, int] = Field(description="alias -> version number")

    _ms = field_validator("created_at", mode="before")(ms_to_datetime)


class RegisteredModelList(BaseModel):
    models: list[RegisteredModel]


class AliasSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    reason: str = Field(default="", max_length=MAX_TEXT)


class AliasChange(BaseModel):
    """One move of an alias; `version` None means the alias was removed."""

    alias: str
    version: int | None
    previous_version: int | None
    changed_by: str
    changed_at: datetime
    reason: str

    _ms = field_validator("changed_at", mode="before")(ms_to_datetime)


class AliasHistory(BaseModel):
    """Every alias move of a model, oldest first."""

    changes: list[AliasChange]


class ModelVersionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=MAX_TEXT)
    set_tags: dict[str, str] = Field(default_factory=dict)
    remove_tags: list[str] = Field(default_factory=list)

    _tags = field_validator("set_tags")(check_tags)

    @field_validator("remove_tags")
    @classmethod
    def _keys(cls, keys: list[str]) -> list[str]:
        return [check_tag_key(key) for key in keys]


class ModelLineage(BaseModel):
    """What a model version came from: its run, dataset versions, commit and pipeline run."""

    version: ModelVersion
    # id, name, status, project, start_time and end_time (ISO 8601), deleted, params; None
    # without a run or once the run is purged. Plain JSON values: the same in both modes.
    run: dict[str, Any] | None
    # {ref (NAME@vN), object_hash, path (where the version was added from)} per version
    datasets: list[dict[str, str]]
    code_commit: str | None
    pipeline_run: str | None


class EvaluationCreate(BaseModel):
    """What `slipway.models.evaluate` measured; the user side scores, the registry keeps it."""

    model_config = ConfigDict(extra="forbid")

    task: Literal["classification", "regression"]
    data: str = Field(max_length=1024, description="what was scored: a dataset ref or a label")
    rows: int = Field(ge=1)
    metrics: dict[str, float | None]
    confusion_matrix: dict[str, Any] | None = None
    slices: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000)
    latency: dict[str, float] = Field(default_factory=dict)


class Evaluation(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    model: str  # NAME@vN
    task: Literal["classification", "regression"]
    data: str
    rows: int
    metrics: dict[str, float | None]
    confusion_matrix: dict[str, Any] | None
    slices: list[dict[str, Any]]
    latency: dict[str, float]
    created_by: str
    created_at: datetime

    _ms = field_validator("created_at", mode="before")(ms_to_datetime)


class EvaluationList(BaseModel):
    evaluations: list[Evaluation]
