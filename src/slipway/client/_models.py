"""The model registry from the client side: package a model, store it, register it; load one.

A model version is a package folder (`slipway.models._package`) stored in the object store as
a tree, like a dataset folder: its manifest's hash is what the registry records. Loading
materializes the package once into the workspace's cache (verified object by object) and
reads it from there, checked against its hash (`_model_packages`); evaluation's data and
scoring helpers are in `_model_evaluation`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from slipway.client._body import body
from slipway.client._model_evaluation import frame_of, scorer_of
from slipway.client._model_packages import cached_package, store_folder, vouched_types
from slipway.config import Settings
from slipway.errors import InvalidInput

if TYPE_CHECKING:
    from slipway.client._backends import Backend
    from slipway.client._data_objects import DataObjects
    from slipway.client._model_evaluation import Tables
    from slipway.client._objects import ObjectsClient
    from slipway.models._gates_file import GatesFile
    from slipway.models._package import PackagedModel
    from slipway.models._signature import Signature
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
        self, settings: Settings, backend: Backend, objects: ObjectsClient | None = None
    ) -> None:
        self.settings = settings
        self.backend = backend
        self._objects_client = objects  # the client's, which knows what it stored
        self._objects: DataObjects | None = None

    def _project(self, given: str | None) -> str:
        return self.settings.project_or(given)

    @property
    def objects(self) -> DataObjects:
        if self._objects is None:
            from slipway.client._data_objects import data_objects

            self._objects = data_objects(self.backend, self._objects_client)
        return self._objects

    # -- writing -------------------------------------------------------------------------------

    def log_model(
        self,
        model: Any,
        name: str,
        *,
        project: str | None = None,
        flavor: str | None = None,
        input_example: Any = None,
        signature: Signature | None = None,
        requirements: list[str] | None = None,
        code_paths: Sequence[str | Path] = (),
        run_id: str | None = None,
        datasets: Sequence[str] = (),
        code_commit: str | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """Package `model`, store the package, register it as the next version of `name`."""
        from slipway.models._package import save_package
        from slipway.services.registry.schemas import ModelVersionCreate

        with tempfile.TemporaryDirectory(prefix="slipway-model-") as scratch:
            folder = Path(scratch) / "package"
            folder.mkdir()
            meta = save_package(
                model,
                folder,
                flavor=flavor,
                input_example=input_example,
                signature=signature,
                requirements=requirements,
                code_paths=[Path(p) for p in code_paths],
            )
            package_hash = store_folder(self.objects, folder)
        request = body(
            ModelVersionCreate,
            package_hash=package_hash,
            flavor=meta.flavor,
            signature=meta.signature.to_dict() if meta.signature is not None else None,
            description=description,
            tags=dict(tags or {}),
            run_id=run_id,
            datasets=list(datasets),
            code_commit=code_commit,
        )
        found = self.backend.call(
            "create_model_version",
            project=self._project(project),
            name=name,
            body=request,
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
            "archive_model_version",
            project=self._project(project),
            name=name,
            version=version,
        )
        return cast("ModelVersion", found)

    def restore(self, name: str, version: int, *, project: str | None = None) -> ModelVersion:
        found = self.backend.call(
            "restore_model_version",
            project=self._project(project),
            name=name,
            version=version,
        )
        return cast("ModelVersion", found)

    def delete_version(self, name: str, version: int, *, project: str | None = None) -> None:
        self.backend.call(
            "delete_model_version",
            project=self._project(project),
            name=name,
            version=version,
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

    def load(
        self, ref: str, *, project: str | None = None, trusted_types: Sequence[str] = ()
    ) -> PackagedModel:
        """The version's model, ready to `predict` (input checked against its signature).

        A registered package is trusted as its author saved it: the types its skops file
        needed when it was logged (or its pyfunc class) are trusted here, because the
        package's bytes are checked against the hash the registry recorded. Any other type
        or class still needs `trusted_types`. A folder from elsewhere goes through
        `slipway.models._package.load_package`, which trusts nothing by default.
        """
        return self._load(self.get_version(ref, project=project), trusted_types)

    def _load(self, version: ModelVersion, trusted_types: Sequence[str] = ()) -> PackagedModel:
        from slipway.models._package import load_package, read_package_meta

        folder = self.package_path(version)
        vouched = vouched_types(read_package_meta(folder).flavor_data)
        return load_package(folder, trusted_types=[*vouched, *trusted_types])

    def evaluate(
        self,
        ref: str,
        data: Any,
        *,
        target: str,
        task: str = "classification",
        slices: Sequence[str] = (),
        project: str | None = None,
        trusted_types: Sequence[str] = (),
        tables: Tables | None = None,
    ) -> Evaluation:
        """Score version `ref` on labelled `data` and keep the result with the version.

        `data`: a pandas DataFrame, a pyarrow Table, a CSV or Parquet file, or a dataset
        version (NAME@vN) holding one table, read through `tables`.
        """
        from slipway.models._evaluate import evaluate_frame
        from slipway.services.registry.schemas import EvaluationCreate

        version = self.get_version(ref, project=project)
        loaded = self._load(version, trusted_types)
        frame, label = frame_of(data, tables, version.project)
        result = evaluate_frame(scorer_of(loaded), frame, target=target, task=task, slices=slices)
        request = body(
            EvaluationCreate,
            task=result.task,
            data=label,
            rows=result.rows,
            metrics=result.metrics,
            confusion_matrix=result.confusion_matrix,
            slices=result.slices,
            latency=result.latency,
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

    def package_path(self, version: ModelVersion) -> Path:
        """The version's package folder in the workspace cache (see `cached_package`)."""
        return cached_package(self.objects, self.settings.workspace, version.package_hash)

    def to_onnx(
        self, ref: str, *, name: str | None = None, project: str | None = None
    ) -> ModelVersion:
        """Convert scikit-learn version `ref` to ONNX and register it as the next version of
        `name` (default: the same model), tagged converted_from=REF, with the same signature.

        The ONNX graph is kept only if onnxruntime predicts as scikit-learn does on the
        version's input example and rows generated from it (see `slipway.models._onnx`).
        """
        from slipway.models._onnx import convert

        version = self.get_version(ref, project=project)
        if version.flavor != "sklearn":
            article = "an" if version.flavor[:1] in "aeiou" else "a"
            raise InvalidInput(
                f"{version.ref} is {article} {version.flavor} model; only scikit-learn models "
                "convert to ONNX"
            )
        loaded = self._load(version)
        converted = convert(loaded, source=version.ref)
        return self.log_model(
            converted.model,
            name or version.name,
            project=version.project,
            flavor="onnx",
            input_example=loaded.input_example(),
            signature=loaded.signature,
            # Same weights, same lineage: the converted version was trained where its source was.
            run_id=version.run_id,
            datasets=version.datasets,
            code_commit=version.code_commit,
            description=(
                f"{version.ref} converted to ONNX (computing in {converted.precision}), "
                f"checked against scikit-learn on {converted.rows_checked} rows"
            ),
            tags={"converted_from": version.ref},
        )

    # -- model cards ---------------------------------------------------------------------------

    def card(self, ref: str, *, project: str | None = None) -> ModelCard:
        """Every fact a model card shows about version `ref`, in one call; render it with
        `slipway.models._card_render.to_markdown` or `to_html`."""
        found = self.backend.call("get_model_card", project=self._project(project), ref=ref)
        return cast("ModelCard", found)

    def set_card(
        self,
        ref: str,
        *,
        intended_use: str | None = None,
        limitations: str | None = None,
        project: str | None = None,
    ) -> ModelVersion:
        """Store the card's text on version `ref` (as the reserved tags `card.intended_use`
        and `card.limitations`); None leaves a text as it is, "" removes it."""
        from slipway.services.registry.card import CARD_TAGS
        from slipway.services.registry.schemas import ModelVersionUpdate

        given = {
            key: text.strip()
            for key, text in (("intended_use", intended_use), ("limitations", limitations))
            if text is not None
        }
        if not given:
            raise InvalidInput("give intended_use, limitations or both (an empty text removes it)")
        version = self.get_version(ref, project=project)
        request = body(
            ModelVersionUpdate,
            set_tags={CARD_TAGS[key]: text for key, text in given.items() if text},
            remove_tags=[CARD_TAGS[key] for key, text in given.items() if not text],
        )
        found = self.backend.call(
            "update_model_version",
            project=version.project,
            name=version.name,
            version=version.version,
            body=request,
        )
        return cast("ModelVersion", found)

    # -- promotion gates -----------------------------------------------------------------------

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
        *,
        alias: str | None = None,
        force: bool = False,
        reason: str = "",
        gates_file: str | Path | GatesFile | None = None,
        policy: GatePolicy | None = None,
        project: str | None = None,
    ) -> GateReport:
        """Move `alias` (default: the policy's, 'champion') to the version if it passes the
        gates of `name` in slipway.gates.yaml (the nearest one up from the current folder,
        else the workspace's folder's; or `gates_file`, or `policy`).

        A refusal raises nothing: the report says `promoted` False and names the failed
        rules. `force=True` moves the alias anyway and needs a `reason`.
        """
        from slipway.services.registry.gates import FORCE_NEEDS_REASON, PromotionRequest

        if force and not reason.strip():
            raise InvalidInput(FORCE_NEEDS_REASON)  # the body says so too, less plainly
        chosen, source = self._policy(name, gates_file, policy)
        request = body(
            PromotionRequest, policy=chosen, alias=alias, force=force, reason=reason, source=source
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
        ref: str,
        *,
        alias: str | None = None,
        gates_file: str | Path | GatesFile | None = None,
        policy: GatePolicy | None = None,
        project: str | None = None,
    ) -> GateReport:
        """Check version `ref` (NAME means its latest) against its gates; nothing moves."""
        from slipway.services.registry.gates import GateCheck

        version = self.get_version(ref, project=project)
        chosen, source = self._policy(version.name, gates_file, policy)
        found = self.backend.call(
            "check_model_gates",
            project=version.project,
            name=version.name,
            version=version.version,
            body=body(GateCheck, policy=chosen, alias=alias, source=source),
        )
        return cast("GateReport", found)

    def promotions(self, ref: str, *, project: str | None = None) -> list[Promotion]:
        """How version `ref` went through the gates, newest first."""
        found = self.backend.call("list_promotions", project=self._project(project), ref=ref)
        return list(found.promotions)

    def gates(self, gates_file: str | Path | None = None) -> GatesFile:
        """The gates file: `gates_file`, else the nearest slipway.gates.yaml up from the
        current folder, else the one in the workspace's folder."""
        from slipway.models._gates_file import find_gates_file, load_gates_file

        if gates_file is not None:
            return load_gates_file(Path(gates_file))
        return load_gates_file(find_gates_file(Path.cwd(), self.settings.workspace.parent))

    def _policy(
        self, name: str, gates_file: str | Path | GatesFile | None, policy: GatePolicy | None
    ) -> tuple[GatePolicy, str]:
        from slipway.models._gates_file import GatesFile

        if policy is not None:
            return policy, "given"
        found = gates_file if isinstance(gates_file, GatesFile) else self.gates(gates_file)
        return found.policy(name), found.source
