"""Which service module registers each operation; a module is imported on the first call of
one of its operations, so that a command imports only the services it uses (a cached
`slipway pipeline run` needs one module of eleven, and none of the others' store modules).

The client backends call `load(name)` before an operation; the API calls `load_all()`. The
imports below are plain statements, so import-linter sees every edge. A test checks the
table against what the modules register: an operation added to a module is added here too.
"""

from __future__ import annotations

# module under slipway.services -> the operations it registers
OPERATIONS: dict[str, tuple[str, ...]] = {
    "projects.service": ("create_project", "list_projects", "get_project", "delete_project"),
    "runs.service": (
        "create_run",
        "get_run",
        "update_run",
        "delete_run",
        "log_batch",
        "get_metric_history",
        "search_runs",
        "list_artifacts",
        "log_artifact",
    ),
    "blobs.service": ("upload_object", "download_object", "missing_objects", "collect_garbage"),
    "datasets.service": (
        "create_dataset_version",
        "list_datasets",
        "list_dataset_versions",
        "get_dataset_version",
        "get_dataset_profile",
        "list_dataset_files",
        "diff_dataset_versions",
        "record_run_input",
    ),
    "registry.service": (
        "create_model_version",
        "list_registered_models",
        "list_model_versions",
        "get_model_version",
        "update_model_version",
        "archive_model_version",
        "restore_model_version",
        "delete_model_version",
        "delete_registered_model",
        "set_model_alias",
        "delete_model_alias",
        "list_alias_history",
        "get_model_lineage",
    ),
    "registry.evaluations": ("record_model_evaluation", "list_model_evaluations"),
    "registry.promotion": (
        "approve_model_version",
        "list_model_approvals",
        "check_model_gates",
        "promote_model_version",
        "list_promotions",
    ),
    "registry.card": ("get_model_card",),
    "pipeline_runs.service": (
        "create_pipeline_run",
        "record_step_runs",
        "update_pipeline_run",
        "get_pipeline_run",
        "list_pipeline_runs",
        "lookup_step_cache",
    ),
    "pipeline_runs.schedules": (
        "create_schedule",
        "list_schedules",
        "update_schedule",
        "delete_schedule",
        "list_due_occurrences",
        "claim_occurrence",
    ),
    "pipeline_runs.cost": ("cost_report",),
}

_MODULE_OF = {name: module for module, names in OPERATIONS.items() for name in names}
_loaded: set[str] = set()


def load(operation: str) -> None:
    """Register `operation` by importing its module; an unknown name is left for the
    registry to refuse."""
    module = _MODULE_OF.get(operation)
    if module is not None and module not in _loaded:
        _import(module)
        _loaded.add(module)


def load_all() -> None:
    """Register every operation (the API serves them all)."""
    for module in OPERATIONS:
        if module not in _loaded:
            _import(module)
            _loaded.add(module)


def _import(module: str) -> None:
    # Each module registers its operations as it is imported (the @operation decorator).
    if module == "projects.service":
        import slipway.services.projects.service
    elif module == "runs.service":
        import slipway.services.runs.service
    elif module == "blobs.service":
        import slipway.services.blobs.service
    elif module == "datasets.service":
        import slipway.services.datasets.service
    elif module == "registry.service":
        import slipway.services.registry.service
    elif module == "registry.evaluations":
        import slipway.services.registry.evaluations
    elif module == "registry.promotion":
        import slipway.services.registry.promotion
    elif module == "registry.card":
        import slipway.services.registry.card
    elif module == "pipeline_runs.service":
        import slipway.services.pipeline_runs.service
    elif module == "pipeline_runs.schedules":
        import slipway.services.pipeline_runs.schedules
    elif module == "pipeline_runs.cost":
        import slipway.services.pipeline_runs.cost  # noqa: F401
    else:
        raise LookupError(f"no service module {module!r} in the catalog")
