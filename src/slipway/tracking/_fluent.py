"""The fluent SDK (`import slipway as sw`): thin functions over an explicit `Client`.

The client in use is `slipway.client.current_client()`: one scoped by `sw.using(client)`, else
a default made from settings on first use (embedded, or remote when SLIPWAY_SERVER is set).
Open runs are held by that client, innermost last, so a worker thread logs to the run its
parent started, as in MLflow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from slipway.client import current_client
from slipway.errors import InvalidInput
from slipway.services.blobs.schemas import StoredObject
from slipway.services.runs.schemas import Artifact, ArtifactRecord, Run, RunPage
from slipway.tracking._active_run import ActiveRun, download_artifact, record_bytes

PACKAGES_ARTIFACT = "_slipway/requirements.txt"  # where capture puts the installed packages


def start_run(
    project: str | None = None,
    name: str | None = None,
    *,
    tags: Mapping[str, Any] | None = None,
    nested: bool = False,
    capture: bool = True,
    system_metrics: bool = False,
    system_metrics_interval_s: float = 10.0,
) -> ActiveRun:
    """Start a run and make it active; use it as a context manager to end it.

    The project defaults to the configured one ($SLIPWAY_PROJECT, [project] name in
    slipway.toml, else "default") and is created on first use.
    `capture` records git state, command line, Python and packages; `system_metrics` samples
    CPU, memory and GPU use into `system.*` metrics.
    """
    client = current_client()
    parent = active_run()
    if parent is not None and not nested:
        raise InvalidInput(
            f"run {parent.id} is already active; end it first or pass nested=True for a child run"
        )
    all_tags = {str(k): str(v) for k, v in (tags or {}).items()}

    def create(packages: StoredObject | None) -> Run:
        # The package list is recorded with the run, in its create transaction.
        artifacts = [] if packages is None else [_packages_record(packages)]
        return client.runs.create(
            client.settings.project_or(project),
            name=name,
            tags=all_tags,
            parent_run_id=parent.id if parent is not None else None,
            artifacts=artifacts,
        )

    if capture:
        from slipway.tracking._capture import Capture

        captured = Capture.of(client)
        all_tags = {**captured.source().as_tags(), **all_tags}
        all_tags["slipway.packages.hash"] = captured.packages_digest()
        # Uploaded once per client: later runs send only its digest.
        info = record_bytes(client, captured.packages().encode(), create)
    else:
        info = create(None)
    run = ActiveRun(client, info)
    client.hold_run(run)
    if system_metrics:
        run.sample_system_metrics(system_metrics_interval_s)
    return run


def _packages_record(stored: StoredObject) -> ArtifactRecord:
    return ArtifactRecord(path=PACKAGES_ARTIFACT, object_hash=stored.hash, size=stored.size)


def active_run() -> ActiveRun | None:
    """The innermost run started through the current client and not yet ended."""
    # The client holds runs by a protocol of its own; the ones it holds for us are ours.
    return cast("ActiveRun | None", current_client().active_run())


def _require_active() -> ActiveRun:
    run = active_run()
    if run is None:
        raise InvalidInput("no active run: call sw.start_run() first")
    return run


def end_run(status: str = "finished") -> Run | None:
    """End the active run with `status` (finished, failed or killed); None if there is none."""
    run = active_run()
    return run.end(status) if run is not None else None


def log_param(key: str, value: Any) -> None:
    _require_active().log_param(key, value)


def log_params(values: Mapping[str, Any]) -> None:
    _require_active().log_params(values)


def log_metric(key: str, value: Any, step: int | None = None, timestamp: int | None = None) -> None:
    _require_active().log_metric(key, value, step, timestamp)


def log_metrics(values: Mapping[str, Any], step: int | None = None) -> None:
    _require_active().log_metrics(values, step)


def set_tag(key: str, value: Any) -> None:
    _require_active().set_tag(key, value)


def set_tags(values: Mapping[str, Any]) -> None:
    _require_active().set_tags(values)


def log_artifact(local_path: str | Path, artifact_path: str | None = None) -> Artifact:
    return _require_active().log_artifact(local_path, artifact_path)


def log_dict(data: Mapping[str, Any] | list[Any], name: str) -> Artifact:
    return _require_active().log_dict(data, name)


def log_text(text: str, name: str) -> Artifact:
    return _require_active().log_text(text, name)


def flush() -> None:
    """Block until everything logged so far (by any run) is stored."""
    current_client().batcher.flush()


def get_run(run_id: str) -> Run:
    return current_client().runs.get(run_id)


def get_metric_history(run_id: str, key: str) -> list[tuple[int, int, float]]:
    """Every point of a metric as (step, timestamp_ms, value), by step then time."""
    return [
        (p.step, p.timestamp, p.value) for p in current_client().runs.metric_history(run_id, key)
    ]


def search_runs(
    project: str | Sequence[str] | None = None,
    filter: str = "",
    order_by: Sequence[str] = (),
    max_results: int = 100,
    page_token: str | None = None,
    include_deleted: bool = False,
) -> RunPage:
    """Runs matching a filter, e.g. "metrics.acc > 0.9 and params.lr = '0.1'"; one page."""
    projects = [project] if isinstance(project, str) else project
    return current_client().runs.search(
        projects, filter, order_by, max_results, page_token, include_deleted
    )


def delete_run(run_id: str) -> None:
    current_client().runs.delete(run_id)


def list_artifacts(run_id: str) -> list[Artifact]:
    return current_client().runs.artifacts(run_id)


def download_artifacts(run_id: str, path: str, dest: str | Path) -> Path:
    """Fetch an artifact (file or folder) of a run to `dest`, verified."""
    return download_artifact(current_client(), run_id, path, Path(dest))


def autolog(
    *,
    disable: bool = False,
    log_models: bool = True,
    max_tuning_runs: int = 5,
    silent: bool = False,
) -> None:
    """Log every outermost scikit-learn fit: params, training metrics, the model.

    A fit inside an active run logs there; any other fit becomes a run named after the
    estimator. Calling it again changes the options; `disable=True` restores scikit-learn.
    GridSearchCV and RandomizedSearchCV also log their best `max_tuning_runs` candidates as
    child runs.
    """
    from slipway.tracking._autolog import autolog as enable

    enable(
        disable=disable,
        log_models=log_models,
        max_tuning_runs=max_tuning_runs,
        silent=silent,
    )
