"""The model registry from the client side: package a model, store it, register it; load one.

A model version is a package folder (`slipway.models._package`) stored in the object store as
a tree, like a dataset folder: its manifest's hash is what the registry records. Loading
materializes the package once into the workspace's cache (verified object by object) and
reads it from there, so a second `load` of the same version touches no object.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from slipway.client._body import body
from slipway.config import Settings
from slipway.errors import InvalidInput
from slipway.objects import Entry, Manifest, hash_file
from slipway.objects._manifest import walk

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped]

    from slipway.client._backends import Backend
    from slipway.client._data_objects import DataObjects
    from slipway.client._datasets import DatasetsClient
    from slipway.models._evaluate import Scorer
    from slipway.models._package import PackagedModel
    from slipway.models._signature import Signature
    from slipway.models.models import (
        AliasChange,
        Evaluation,
        ModelLineage,
        ModelVersion,
        RegisteredModel,
    )

DEFAULT_PROJECT = "default"


class ModelsClient:
    def __init__(
        self, settings: Settings, backend: Backend, datasets: DatasetsClient | None = None
    ) -> None:
        self.settings = settings
        self.backend = backend
        self.datasets = datasets  # to evaluate on a dataset version by its ref
        self._objects: DataObjects | None = None

    @property
    def objects(self) -> DataObjects:
        if self._objects is None:
            from slipway.client._data_objects import data_objects

            self._objects = data_objects(self.backend)
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
        from slipway.models.models import ModelVersionCreate

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
            package_hash = self._store_folder(folder)
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
            "create_model_version", project=_project(project), name=name, body=request
        )
        return cast("ModelVersion", found)

    def _store_folder(self, folder: Path) -> str:
        files, empty = walk(folder)
        paths = [str(path) for _, path, _ in files]
        sizes = [os.stat(p).st_size for p in paths]  # noqa: PTH116
        stored = self.objects.store_files(paths, sizes)
        entries = tuple(
            Entry(rel, digest, size, executable)
            for (rel, _, executable), (digest, _), size in zip(files, stored, sizes, strict=True)
        )
        return self.objects.store_manifest(Manifest(entries, tuple(empty)))

    def set_alias(
        self, name: str, version: int, alias: str, *, reason: str = "", project: str | None = None
    ) -> ModelVersion:
        """Point `name@alias` at version `version` (atomically; the move is recorded)."""
        from slipway.models.models import AliasSet

        self.backend.call(
            "set_model_alias",
            project=_project(project),
            name=name,
            alias=alias,
            body=body(AliasSet, version=version, reason=reason),
        )
        return self.get_version(f"{name}@{alias}", project=project)

    def delete_alias(self, name: str, alias: str, *, project: str | None = None) -> None:
        self.backend.call("delete_model_alias", project=_project(project), name=name, alias=alias)

    def archive(self, name: str, version: int, *, project: str | None = None) -> ModelVersion:
        found = self.backend.call(
            "archive_model_version", project=_project(project), name=name, version=version
        )
        return cast("ModelVersion", found)

    def restore(self, name: str, version: int, *, project: str | None = None) -> ModelVersion:
        found = self.backend.call(
            "restore_model_version", project=_project(project), name=name, version=version
        )
        return cast("ModelVersion", found)

    def delete_version(self, name: str, version: int, *, project: str | None = None) -> None:
        self.backend.call(
            "delete_model_version", project=_project(project), name=name, version=version
        )

    def delete_model(self, name: str, *, project: str | None = None) -> None:
        self.backend.call("delete_registered_model", project=_project(project), name=name)

    # -- reading -------------------------------------------------------------------------------

    def get_version(self, ref: str, *, project: str | None = None) -> ModelVersion:
        """Resolve NAME@vN, NAME@alias, NAME@latest or NAME."""
        found = self.backend.call("get_model_version", project=_project(project), ref=ref)
        return cast("ModelVersion", found)

    def list_models(self, *, project: str | None = None) -> list[RegisteredModel]:
        found = self.backend.call("list_registered_models", project=_project(project))
        return list(found.models)

    def list_versions(self, name: str, *, project: str | None = None) -> list[ModelVersion]:
        found = self.backend.call("list_model_versions", project=_project(project), name=name)
        return list(found.versions)

    def alias_history(self, name: str, *, project: str | None = None) -> list[AliasChange]:
        found = self.backend.call("list_alias_history", project=_project(project), name=name)
        return list(found.changes)

    def lineage(self, ref: str, *, project: str | None = None) -> ModelLineage:
        found = self.backend.call("get_model_lineage", project=_project(project), ref=ref)
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
        from slipway.models._package import load_package, read_package_meta

        version = self.get_version(ref, project=project)
        folder = self.package_path(version)
        vouched = _vouched_types(read_package_meta(folder).flavor_data)
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
    ) -> Evaluation:
        """Score version `ref` on labelled `data` and keep the result with the version.

        `data`: a pandas DataFrame, a pyarrow Table, a CSV or Parquet file, or a dataset
        version (NAME@vN) holding one table.
        """
        from slipway.models._evaluate import evaluate_frame
        from slipway.models.models import EvaluationCreate

        version = self.get_version(ref, project=project)
        loaded = self.load(version.ref, project=version.project, trusted_types=trusted_types)
        frame, label = self._frame(data, version.project)
        result = evaluate_frame(_scorer(loaded), frame, target=target, task=task, slices=slices)
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
        found = self.backend.call("list_model_evaluations", project=_project(project), ref=ref)
        return list(found.evaluations)

    def _frame(self, data: Any, project: str) -> tuple[pd.DataFrame, str]:
        """(the data as a DataFrame, what to call it in the record)."""
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            return data, "a DataFrame"
        if hasattr(data, "to_pandas") and hasattr(data, "schema"):
            return data.to_pandas(), "an Arrow table"
        if isinstance(data, str | Path) and Path(data).is_file():
            path = Path(data)
            if path.name.endswith((".parquet", ".pq")):
                return pd.read_parquet(path), path.name
            return pd.read_csv(path, sep="\t" if path.name.endswith(".tsv") else ","), path.name
        if isinstance(data, str) and self.datasets is not None:
            table = self.datasets.load_table(data, project=project)
            return table.to_pandas(), data
        raise InvalidInput(
            "evaluation data must be a pandas DataFrame, a pyarrow Table, a CSV or Parquet "
            f"file, or a dataset version NAME@vN; got {type(data).__name__}"
        )

    def package_path(self, version: ModelVersion) -> Path:
        """The version's package folder in the workspace cache, materialized once and checked
        against the registered hash every time (the cache is an ordinary folder)."""
        cached = self.settings.workspace / "cache" / "models" / version.package_hash
        manifest = self.objects.manifest(version.package_hash)
        if cached.exists():
            if _matches(cached, manifest):
                return cached
            shutil.rmtree(cached)  # changed since: materialize it again
        staging = cached.with_name(f".{version.package_hash}.{os.getpid()}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        items = [(e.hash, staging / e.path, e.executable) for e in manifest.entries]
        self.objects.materialize(items)  # each object verified before it lands
        for folder in manifest.empty_dirs:
            (staging / folder).mkdir(parents=True, exist_ok=True)
        try:
            os.replace(staging, cached)  # complete or absent: a crash leaves only the staging
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # another process won the race
        return cached


def _matches(folder: Path, manifest: Manifest) -> bool:
    """Whether `folder` holds exactly the manifest's files with their content."""
    expected = {e.path: e.hash for e in manifest.entries}
    found = [p for p in folder.rglob("*") if p.is_file() or p.is_symlink()]
    if len(found) != len(expected):
        return False
    for path in found:
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink() or expected.get(rel) != hash_file(path)[0]:
            return False
    return True


def _vouched_types(flavor_data: dict[str, Any]) -> list[str]:
    """What the package's author trusted by saving it: the types its skops file needed, or
    its pyfunc class."""
    if "untrusted_types" in flavor_data:
        return [str(t) for t in flavor_data["untrusted_types"]]
    if "class" in flavor_data:
        return [str(flavor_data["class"])]
    return []


def _scorer(loaded: PackagedModel) -> Scorer:
    """Predictions through the package (input checked by its signature); class probabilities
    too when the model is a classifier that gives them."""
    from slipway.models._evaluate import Scorer

    raw, signature = loaded.model, loaded.signature
    inputs = [c.name for c in signature.inputs] if signature is not None else None
    proba = getattr(raw, "predict_proba", None) if loaded.flavor == "sklearn" else None
    classes = getattr(raw, "classes_", None)
    if proba is None or classes is None:
        return Scorer(loaded.predict, inputs=inputs)

    def probabilities(data: Any) -> Any:
        return proba(signature.validate(data) if signature is not None else data)

    return Scorer(loaded.predict, probabilities, list(classes), inputs)


def _project(project: str | None) -> str:
    return project or os.environ.get("SLIPWAY_PROJECT") or DEFAULT_PROJECT
