"""Run operations as methods: `client.runs.create(...)`, `client.runs.search(...)`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

from slipway.client._body import body
from slipway.services.runs.schemas import (
    Artifact,
    ArtifactRecord,
    LogBatch,
    MetricColumns,
    MetricValue,
    Run,
    RunCreate,
    RunPage,
    RunSearch,
    RunUpdate,
)

if TYPE_CHECKING:
    from slipway.client._backends import Backend


class RunsClient:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def create(
        self,
        project: str,
        *,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        start_time: int | None = None,
        artifacts: Sequence[ArtifactRecord] = (),
    ) -> Run:
        """Start a run; `artifacts` (objects already uploaded) are recorded with it, atomically."""
        request = body(
            RunCreate,
            name=name,
            tags=dict(tags or {}),
            parent_run_id=parent_run_id,
            start_time=start_time,
            artifacts=list(artifacts),
        )
        return cast(Run, self._backend.call("create_run", project=project, body=request))

    def get(self, run_id: str) -> Run:
        return cast(Run, self._backend.call("get_run", run_id=run_id))

    def update(
        self,
        run_id: str,
        *,
        status: str | None = None,
        name: str | None = None,
        end_time: int | None = None,
    ) -> Run:
        request = body(RunUpdate, status=status, name=name, end_time=end_time)
        return cast(Run, self._backend.call("update_run", run_id=run_id, body=request))

    def delete(self, run_id: str) -> None:
        self._backend.call("delete_run", run_id=run_id)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: MetricColumns | None = None,
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        status: str | None = None,
        end_time: int | None = None,
    ) -> None:
        """Log values in one transaction; `status` (finished, failed, killed) then ends the run."""
        request = body(
            LogBatch,
            metrics=metrics or MetricColumns(),
            params=dict(params or {}),
            tags=dict(tags or {}),
            status=status,
            end_time=end_time,
        )
        self._backend.call("log_batch", run_id=run_id, body=request)

    def metric_history(self, run_id: str, key: str) -> list[MetricValue]:
        return cast(
            list[MetricValue], self._backend.call("get_metric_history", run_id=run_id, key=key)
        )

    def search(
        self,
        projects: Sequence[str] | None = None,
        filter: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> RunPage:
        request = body(
            RunSearch,
            projects=list(projects) if projects is not None else None,
            filter=filter,
            order_by=list(order_by),
            max_results=max_results,
            page_token=page_token,
            include_deleted=include_deleted,
        )
        return cast(RunPage, self._backend.call("search_runs", body=request))

    def artifacts(self, run_id: str) -> list[Artifact]:
        return cast(list[Artifact], self._backend.call("list_artifacts", run_id=run_id))

    def record_artifact(
        self, run_id: str, path: str, object_hash: str, size: int, *, is_dir: bool = False
    ) -> Artifact:
        request = body(ArtifactRecord, path=path, object_hash=object_hash, size=size, is_dir=is_dir)
        return cast(Artifact, self._backend.call("log_artifact", run_id=run_id, body=request))
