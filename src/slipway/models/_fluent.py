"""`sw.models`: register models and load them back.

`log_model` inside an active run links the new version to that run (and so to the datasets
the run read and the commit it ran from); outside one, pass `run_id=` or nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slipway.client import current_client

if TYPE_CHECKING:
    from slipway.models._package import PackagedModel
    from slipway.models._signature import Signature
    from slipway.services.registry.gates import Approval, GateReport
    from slipway.services.registry.schemas import Evaluation, ModelVersion

__all__ = [
    "approve",
    "evaluate",
    "get_version",
    "list_versions",
    "load",
    "log_model",
    "promote",
    "set_alias",
    "set_card",
    "to_onnx",
]


def log_model(
    model: Any,
    name: str,
    *,
    input_example: Any = None,
    signature: Signature | None = None,
    flavor: str | None = None,
    requirements: list[str] | None = None,
    code_paths: Sequence[str | Path] = (),
    run_id: str | None = None,
    datasets: Sequence[str] = (),
    description: str = "",
    tags: Mapping[str, str] | None = None,
    project: str | None = None,
) -> ModelVersion:
    """Package `model` (flavor detected unless given) and register it as `name`'s next version."""
    run = current_client().active_run()
    if run_id is None and run is not None:
        run_id = run.id
    if project is None and run is not None:
        project = run.info.project
    return current_client().models.log_model(
        model,
        name,
        project=project,
        flavor=flavor,
        input_example=input_example,
        signature=signature,
        requirements=requirements,
        code_paths=code_paths,
        run_id=run_id,
        datasets=datasets,
        description=description,
        tags=tags,
    )


def load(
    ref: str, *, project: str | None = None, trusted_types: Sequence[str] = ()
) -> PackagedModel:
    """`sw.models.load("churn@champion").predict(df)`; input is checked against the signature.

    scikit-learn models load through skops and refuse types it does not trust unless
    `trusted_types` names them; a pyfunc model runs its own code by nature.
    """
    return current_client().models.load(ref, project=project, trusted_types=trusted_types)


def get_version(ref: str, *, project: str | None = None) -> ModelVersion:
    """Resolve NAME@vN, NAME@alias, NAME@latest or NAME."""
    return current_client().models.get_version(ref, project=project)


def set_alias(
    name: str, version: int, alias: str, *, reason: str = "", project: str | None = None
) -> ModelVersion:
    """Point `name@alias` at `version`; the move is atomic and recorded with its reason."""
    return current_client().models.set_alias(name, version, alias, reason=reason, project=project)


def list_versions(name: str, *, project: str | None = None) -> list[ModelVersion]:
    return current_client().models.list_versions(name, project=project)


def evaluate(
    model_ref: str,
    data: Any,
    *,
    target: str,
    task: str = "classification",
    slices: Sequence[str] = (),
    project: str | None = None,
    trusted_types: Sequence[str] = (),
) -> Evaluation:
    """Score a version on labelled data (DataFrame, Arrow table, CSV/Parquet file or dataset
    version NAME@vN) and keep the result with it: accuracy, precision, recall, F1, ROC AUC,
    log loss and the confusion matrix, or RMSE, MAE and R2; per slice; latency per row."""
    from slipway.data import Data

    client = current_client()
    return client.models.evaluate(
        model_ref,
        data,
        target=target,
        task=task,
        slices=slices,
        project=project,
        trusted_types=trusted_types,
        tables=Data(client),
    )


def set_card(
    ref: str,
    *,
    intended_use: str | None = None,
    limitations: str | None = None,
    project: str | None = None,
) -> ModelVersion:
    """Write what version `ref` is for and where it falls short, as its model card shows.

    Kept on the version as the tags `card.intended_use` and `card.limitations`; None leaves
    a text unchanged, "" removes it.
    """
    return current_client().models.set_card(
        ref, intended_use=intended_use, limitations=limitations, project=project
    )


def to_onnx(ref: str, *, name: str | None = None, project: str | None = None) -> ModelVersion:
    """Convert a scikit-learn version to ONNX, checked to predict the same, and register it as
    the next version of `name` (default: the same model) tagged converted_from=REF."""
    return current_client().models.to_onnx(ref, name=name, project=project)


def approve(name: str, version: int, *, note: str = "", project: str | None = None) -> Approval:
    """Approve a version for promotion as the current principal (counted by the gates)."""
    return current_client().models.approve(name, version, note=note, project=project)


def promote(
    name: str,
    version: int,
    *,
    alias: str | None = None,
    force: bool = False,
    reason: str = "",
    gates_file: str | Path | None = None,
    project: str | None = None,
) -> GateReport:
    """Move `alias` (default 'champion') to the version if it passes `name`'s gates in
    slipway.gates.yaml; the report says whether it moved and which rules failed."""
    return current_client().models.promote(
        name,
        version,
        alias=alias,
        force=force,
        reason=reason,
        gates_file=gates_file,
        project=project,
    )
