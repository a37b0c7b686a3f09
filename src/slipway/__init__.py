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
    "connect": "slipway.sdk",
    "current_client": "slipway.sdk",
    "using": "slipway.sdk",
    "create_project": "slipway.sdk",
    "get_project": "slipway.sdk",
    "list_projects": "slipway.sdk",
    "delete_project": "slipway.sdk",
    "load_settings": "slipway.config",
    "start_run": "slipway.sdk",
    "autolog": "slipway.sdk",
    "active_run": "slipway.sdk",
    "end_run": "slipway.sdk",
    "log_param": "slipway.sdk",
    "log_params": "slipway.sdk",
    "log_metric": "slipway.sdk",
    "log_metrics": "slipway.sdk",
    "set_tag": "slipway.sdk",
    "set_tags": "slipway.sdk",
    "log_artifact": "slipway.sdk",
    "log_dict": "slipway.sdk",
    "log_text": "slipway.sdk",
    "flush": "slipway.sdk",
    "get_run": "slipway.sdk",
    "get_metric_history": "slipway.sdk",
    "search_runs": "slipway.sdk",
    "delete_run": "slipway.sdk",
    "list_artifacts": "slipway.sdk",
    "download_artifacts": "slipway.sdk",
    "Settings": "slipway.config",
    "data": "slipway",  # the package slipway.data, whose SDK functions load on first use
    "models": "slipway",  # likewise slipway.models
    "evaluate": "slipway.sdk.models",
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
    from slipway.client import Client
    from slipway.config import Settings, load_settings
    from slipway.pipelines import Dataset, pipeline, step
    from slipway.sdk import (
        active_run,
        autolog,
        connect,
        create_project,
        current_client,
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
        using,
    )
    from slipway.sdk.models import evaluate


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
