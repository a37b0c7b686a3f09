"""Request and response bodies of the data operations."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from slipway.refs import parse_dataset_ref
from slipway.services.projects.schemas import ms_to_datetime

MAX_MESSAGE = 10_000
_HASH = r"^[0-9a-f]{64}$"


class PiiColumn(BaseModel):
    """A column that looks like personal data, found when the version was added."""

    model_config = ConfigDict(frozen=True)

    table: str  # path of the table file inside the version
    column: str
    kind: str  # email, phone, card_number, national_id, ip_address
    match_rate: float


class DatasetVersionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    object_hash: str = Field(pattern=_HASH, description="manifest (dir) or content (file) hash")
    kind: Literal["file", "dir"] = "dir"
    size: int = Field(ge=0)
    file_count: int = Field(ge=0)
    path: str = Field(default="", max_length=4096, description="where it was added from")
    message: str = Field(default="", max_length=MAX_MESSAGE)
    profile_hash: str | None = Field(default=None, pattern=_HASH)
    pii: list[PiiColumn] = Field(default_factory=list)


class DatasetVersion(BaseModel):
    model_config = ConfigDict(frozen=True)

    project: str
    name: str
    version: int
    object_hash: str
    kind: Literal["file", "dir"]
    size: int
    file_count: int
    path: str
    message: str
    created_by: str
    created_at: datetime
    profile_hash: str | None
    pii: list[PiiColumn]
    # False when the content equals the latest version's: that version is returned instead.
    created: bool = True

    _ms = field_validator("created_at", mode="before")(ms_to_datetime)

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}"


class VersionList(BaseModel):
    versions: list[DatasetVersion]


class Dataset(BaseModel):
    project: str
    name: str
    description: str
    created_by: str
    created_at: datetime
    versions: int

    _ms = field_validator("created_at", mode="before")(ms_to_datetime)


class DatasetList(BaseModel):
    datasets: list[Dataset]


class DatasetProfile(BaseModel):
    """The profiles of a version's tables, by path inside the version."""

    tables: dict[str, dict[str, Any]]


class RunInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project: str
    dataset: str = Field(description="NAME@vN (or NAME@latest)")

    @field_validator("dataset")
    @classmethod
    def _ref(cls, value: str) -> str:
        parse_dataset_ref(value)
        return value


class VersionFile(BaseModel):
    path: str
    hash: str = Field(description="download it with GET /objects/{hash}")
    size: int
    executable: bool


class VersionFiles(BaseModel):
    """The files of a version: each downloads (verified) from the object operations."""

    ref: str
    files: list[VersionFile]
    empty_dirs: list[str]
