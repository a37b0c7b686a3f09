"""The model registry's operations as methods (`Client.models`): versions, aliases, lineage,
evaluations, cards, approvals and promotion.

Only calls: packaging a model, loading one, scoring it and reading the gates file run on the
user side, in `slipway.models`, which stores a package through `objects` and registers it here
by its hash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from slipway.client._body import body
from slipway.config import Settings

if TYPE_CHECKING:
    from slipway.client._backends import Backend
    from slipway.client._data_objects import DataObjects
    from slipway.client._objects import ObjectsClient
    from slipway.services.registry.card import ModelCard
    from slipway.services.registry.gates import Approval, GatePolicy, GateReport, Promotion
    from slipway.services.registry.schemas import (
        AliasChange,
        Evaluation,
        ModelLineage,
        ModelVersion,
        RegisteredModel,
    )


class ModelsClient:
    def __init__(
        self, settings: Settings, backend: Backend, stored: ObjectsClient | None = None
    ) -> None:
        self.settings = settings
        self.backend = backend
        self._stored = stored  # the client's own: one memory of what is stored (data_objects)
        self._objects: DataObjects | None = None

    def _project(self, given: str | None) -> str:
        return self.settings.project_or(given)

    @property
    def objects(self) -> DataObjects:
        """Where packages are stored: the workspace's object store, or the server's blobs."""
        if self._objects is None:
            from slipway.client._data_objects import data_objects

            self._objects = data_objects(self.backend, self._stored)
        return self._objects

    # -- writing -------------------------------------------------------------------------------

    def create_version(
        self,
        name: str,
        *,
        package_hash: str,
        flavor: str,
        signature: Mapping[str, Any] | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        run_id: str | None = None,
        datasets: Sequence[str] = (),
        code_commit: str | None = None,
        project: str | None = None,
    ) -> ModelVersion:
        """Register the stored package `package_hash` as the next version of `name`."""
        from slipway.services.registry.schemas import ModelVersionCreate

        request = body(
            ModelVersionCreate,
            package_hash=package_hash,
            flavor=flavor,
            signature=dict(signature) if signature is not None else None,
            description=description,
            tags=dict(tags or {}),
            run_id=run_id,
            datasets=list(datasets),
            code_commit=code_commit,
        )
        found = self.backend.call(
            "create_model_version", project=self._project(project), name=name, body=request
        )
        return cast("ModelVersion", found)

    def set_alias(
        self, name: str, version: int, alias: str, *, reason: str = "", project: str | None = None
    ) -> ModelVersion:
        """Point `name@alias` at version `version` (atomically; the move is recorded)."""
        from slipway.services.registry.schemas import AliasSet

        self.backend.call(
            "set_model_alias",
            project=self._project(project),
            name=name,
            alias=alias,
            body=body(AliasSet, version=version, reason=reason),
        )
        return self.get_version(f"{name}@{alias}", project=project)

    def delete_alias(self, name: str, alias: str, *, project: str | None = None) -> None:
        self.backend.call(
            "delete_model_alias", project=self._project(project), name=name, alias=alias
        )

    def update(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        set_tags: Mapping[str, str] | None = None,
        remove_tags: Sequence[str] = (),
        project: str | None = None,
    ) -> ModelVersion:
        """Change a version's description or tags (None keeps the description)."""
        from slipway.services.registry.schemas import ModelVersionUpdate

        request = body(
            ModelVersionUpdate,
            description=description,
            set_tags=dict(set_tags or {}),
            remove_tags=list(remove_tags),
        )
        found = self.backend.call(
            "update_model_version",
            project=self._project(project),
            name=name,
            version=version,
            body=request,
        )
        return cast("ModelVersion", found)

    def archive(self, name: str, version: int, *, project: str | None = None) -> ModelVersion:
        found = self.backend.call(
            "archive_model_version", project=self._project(project), name=name, version=version
        )
        return cast("ModelVersion", found)

    def restore(self, name: str, version: int, *, project: str | None = None) -> ModelVersion:
        found = self.backend.call(
            "restore_model_version", project=self._project(project), name=name, version=version
        )
        return cast("ModelVersion", found)

    def delete_version(self, name: str, version: int, *, project: str | None = None) -> None:
        self.backend.call(
            "delete_model_version", project=self._project(project), name=name, version=version
        )

    def delete_model(self, name: str, *, project: str | None = None) -> None:
        self.backend.call("delete_registered_model", project=self._project(project), name=name)

    # -- reading -------------------------------------------------------------------------------

    def get_version(self, ref: str, *, project: str | None = None) -> ModelVersion:
        """Resolve NAME@vN, NAME@alias, NAME@latest or NAME."""
        found = self.backend.call("get_model_version", project=self._project(project), ref=ref)
        return cast("ModelVersion", found)

    def list_models(self, *, project: str | None = None) -> list[RegisteredModel]:
        found = self.backend.call("list_registered_models", project=self._project(project))
        return list(found.models)

    def list_versions(self, name: str, *, project: str | None = None) -> list[ModelVersion]:
        found = self.backend.call("list_model_versions", project=self._project(project), name=name)
        return list(found.versions)

    def alias_history(self, name: str, *, project: str | None = None) -> list[AliasChange]:
        found = self.backend.call("list_alias_history", project=self._project(project), name=name)
        return list(found.changes)

    def lineage(self, ref: str, *, project: str | None = None) -> ModelLineage:
        found = self.backend.call("get_model_lineage", project=self._project(project), ref=ref)
        return cast("ModelLineage", found)

    # -- evaluations and cards -----------------------------------------------------------------

    def record_evaluation(
        self,
        version: ModelVersion,
        *,
        task: str,
        data: str,
        rows: int,
        metrics: Mapping[str, float | None],
        confusion_matrix: Mapping[str, Any] | None = None,
        slices: Sequence[Mapping[str, Any]] = (),
        latency: Mapping[str, float] | None = None,
    ) -> Evaluation:
        """Keep the scores of an evaluation of `version` on `data` (what to call the data)."""
        from slipway.services.registry.schemas import EvaluationCreate

        request = body(
            EvaluationCreate,
            task=task,
            data=data,
            rows=rows,
            metrics=dict(metrics),
            confusion_matrix=dict(confusion_matrix) if confusion_matrix is not None else None,
            slices=[dict(s) for s in slices],
            latency=dict(latency or {}),
        )
        found = self.backend.call(
            "record_model_evaluation",
            project=version.project,
            name=version.name,
            version=version.version,
            body=request,
        )
        return cast("Evaluation", found)

    def evaluations(self, ref: str, *, project: str | None = None) -> list[Evaluation]:
        found = self.backend.call("list_model_evaluations", project=self._project(project), ref=ref)
        return list(found.evaluations)

    def card(self, ref: str, *, project: str | None = None) -> ModelCard:
        """Every fact a model card shows about version `ref`, in one call."""
        found = self.backend.call("get_model_card", project=self._project(project), ref=ref)
        return cast("ModelCard", found)

    # -- approvals and promotion ---------------------------------------------------------------

    def approve(
        self, name: str, version: int, *, note: str = "", project: str | None = None
    ) -> Approval:
        """Approve `name` version `version` for promotion, as this client's principal (once
        per principal: approving again returns the first approval)."""
        from slipway.services.registry.gates import ApprovalCreate

        found = self.backend.call(
            "approve_model_version",
            project=self._project(project),
            name=name,
            version=version,
            body=body(ApprovalCreate, note=note),
        )
        return cast("Approval", found)

    def approvals(self, ref: str, *, project: str | None = None) -> list[Approval]:
        found = self.backend.call("list_model_approvals", project=self._project(project), ref=ref)
        return list(found.approvals)

    def promote(
        self,
        name: str,
        version: int,
        policy: GatePolicy,
        *,
        source: str = "given",
        alias: str | None = None,
        force: bool = False,
        reason: str = "",
        project: str | None = None,
    ) -> GateReport:
        """Move `alias` (default: the policy's) to the version if it passes `policy`.

        A refusal raises nothing: the report says `promoted` False and names the failed
        rules. `force=True` moves the alias anyway and needs a `reason`.
        """
        from slipway.services.registry.gates import PromotionRequest

        request = body(
            PromotionRequest, policy=policy, alias=alias, force=force, reason=reason, source=source
        )
        found = self.backend.call(
            "promote_model_version",
            project=self._project(project),
            name=name,
            version=version,
            body=request,
        )
        return cast("GateReport", found)

    def check_gates(
        self,
        name: str,
        version: int,
        policy: GatePolicy,
        *,
        source: str = "given",
        alias: str | None = None,
        project: str | None = None,
    ) -> GateReport:
        """Check the version against `policy`; nothing moves."""
        from slipway.services.registry.gates import GateCheck

        found = self.backend.call(
            "check_model_gates",
            project=self._project(project),
            name=name,
            version=version,
            body=body(GateCheck, policy=policy, alias=alias, source=source),
        )
        return cast("GateReport", found)

    def promotions(self, ref: str, *, project: str | None = None) -> list[Promotion]:
        """How version `ref` went through the gates, newest first."""
        found = self.backend.call("list_promotions", project=self._project(project), ref=ref)
        return list(found.promotions)
