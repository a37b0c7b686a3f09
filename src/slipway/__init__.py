"""Slipway: one self-hosted tool for the whole lifecycle of a model.

Imports are lazy so `slipway --help` and `import slipway` stay fast; the names below load on
first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from slipway._version import __version__

_LAZY = {
    "Client": "slipway.client",
    "connect": "slipway.client",
    "current_client": "slipway.client",
    "using": "slipway.client",
    "create_project": "slipway.tracking._fluent",
    "get_project": "slipway.tracking._fluent",
    "list_projects": "slipway.tracking._fluent",
    "delete_project": "slipway.tracking._fluent",
    "load_settings": "slipway.config",
    "start_run": "slipway.tracking._fluent",
    "autolog": "slipway.tracking._fluent",
    "active_run": "slipway.tracking._fluent",
    "end_run": "slipway.tracking._fluent",
    "log_param": "slipway.tracking._fluent",
    "log_params": "slipway.tracking._fluent",
    "log_metric": "slipway.tracking._fluent",
    "log_metrics": "slipway.tracking._fluent",
    "set_tag": "slipway.tracking._fluent",
    "set_tags": "slipway.tracking._fluent",
    "log_artifact": "slipway.tracking._fluent",
    "log_dict": "slipway.tracking._fluent",
    "log_text": "slipway.tracking._fluent",
    "flush": "slipway.tracking._fluent",
    "get_run": "slipway.tracking._fluent",
    "get_metric_history": "slipway.tracking._fluent",
    "search_runs": "slipway.tracking._fluent",
    "delete_run": "slipway.tracking._fluent",
    "list_artifacts": "slipway.tracking._fluent",
    "download_artifacts": "slipway.tracking._fluent",
    "Settings": "slipway.config",
    "data": "slipway",  # the package slipway.data, whose SDK functions load on first use
    "models": "slipway",  # likewise slipway.models
    "evaluate": "slipway.models._fluent",
    "step": "slipway.pipelines",
    "pipeline": "slipway.pipelines",
    "Dataset": "slipway.pipelines",
}

__all__ = [
    "Client",
    "Dataset",
    "Settings",
    "__version__",
    "active_run",
    "autolog",
    "connect",
    "create_project",
    "current_client",
    "data",
    "delete_project",
    "delete_run",
    "download_artifacts",
    "end_run",
    "evaluate",
    "flush",
    "get_metric_history",
    "get_project",
    "get_run",
    "list_artifacts",
    "list_projects",
    "load_settings",
    "log_artifact",
    "log_dict",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "models",
    "pipeline",
    "search_runs",
    "set_tag",
    "set_tags",
    "start_run",
    "step",
    "using",
]

if TYPE_CHECKING:
    from slipway import data, models
    from slipway.client import Client, connect, current_client, using
    from slipway.config import Settings, load_settings
    from slipway.models._fluent import evaluate
    from slipway.pipelines import Dataset, pipeline, step
    from slipway.tracking._fluent import (
        active_run,
        autolog,
        create_project,
        delete_project,
        delete_run,
        download_artifacts,
        end_run,
        flush,
        get_metric_history,
        get_project,
        get_run,
        list_artifacts,
        list_projects,
        log_artifact,
        log_dict,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        log_text,
        search_runs,
        set_tag,
        set_tags,
        start_run,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'slipway' has no attribute {name!r}")
    if name in ("data", "models"):
        value: Any = importlib.import_module(f"slipway.{name}")
    else:
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
