"""`Client.datasets`: the dataset operations, embedded or over HTTP.

Versions are records of content already stored; storing it, and everything else done with
files in a working copy, is `slipway.data`'s (which records through this).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from slipway.config import Settings
from slipway.errors import InvalidInput

if TYPE_CHECKING:
    from slipway.client._backends import Backend
    from slipway.services.datasets.diff import DatasetDiff
    from slipway.services.datasets.schemas import (
        DatasetList,
        DatasetProfile,
        DatasetVersion,
        PiiColumn,
        VersionList,
    )


class DatasetsClient:
    """Resolve, list, compare and record dataset versions; `project` defaults to the
    settings' (`Settings.project`)."""

    def __init__(self, settings: Settings, backend: Backend) -> None:
        self.settings = settings
        self.backend = backend

    def get(self, ref: str, *, project: str | None = None) -> DatasetVersion:
        """Resolve NAME@vN, NAME@latest or NAME."""
        found = self.backend.call(
            "get_dataset_version", project=self.settings.project_or(project), ref=ref
        )
        return cast("DatasetVersion", found)

    def list_versions(self, name: str, *, project: str | None = None) -> list[DatasetVersion]:
        """Every version of dataset `name`, newest first."""
        found = self.backend.call(
            "list_dataset_versions", project=self.settings.project_or(project), name=name
        )
        return cast("VersionList", found).versions

    def list_datasets(self, *, project: str | None = None) -> DatasetList:
        found = self.backend.call("list_datasets", project=self.settings.project_or(project))
        return cast("DatasetList", found)

    def diff(self, base: str, target: str, *, project: str | None = None) -> DatasetDiff:
        """What changed from `base` to `target` (NAME@vN each, or NAME@vN and vM)."""
        from slipway.refs import parse_dataset_ref

        try:
            name, _ = parse_dataset_ref(base)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        found = self.backend.call(
            "diff_dataset_versions",
            project=self.settings.project_or(project),
            name=name,
            base=base,
            target=target,
        )
        return cast("DatasetDiff", found)

    def profile(self, ref: str, *, project: str | None = None) -> DatasetProfile:
        """The profiles of the version's tables, by path inside it."""
        found = self.backend.call(
            "get_dataset_profile", project=self.settings.project_or(project), ref=ref
        )
        return cast("DatasetProfile", found)

    def record(
        self,
        name: str,
        *,
        object_hash: str,
        kind: Literal["file", "dir"],
        size: int,
        file_count: int,
        path: str = "",
        message: str = "",
        profile_hash: str | None = None,
        pii: Sequence[PiiColumn] = (),
        project: str | None = None,
    ) -> DatasetVersion:
        """Record stored content as the next version of `name`; the latest version if it
        holds the same content (then `created` is False)."""
        from slipway.client._body import body
        from slipway.services.datasets.schemas import DatasetVersionCreate

        fields: dict[str, Any] = {
            "object_hash": object_hash,
            "kind": kind,
            "size": size,
            "file_count": file_count,
            "path": path,
            "message": message,
            "profile_hash": profile_hash,
            "pii": list(pii),
        }
        found = self.backend.call(
            "create_dataset_version",
            project=self.settings.project_or(project),
            name=name,
            body=body(DatasetVersionCreate, **fields),
        )
        return cast("DatasetVersion", found)

    def record_input(self, run_id: str, ref: str, *, project: str | None = None) -> None:
        """Record that run `run_id` read version `ref` (lineage)."""
        from slipway.services.datasets.schemas import RunInput

        self.backend.call(
            "record_run_input",
            run_id=run_id,
            body=RunInput(project=self.settings.project_or(project), dataset=ref),
        )
