"""Slipway: one self-hosted tool for the whole lifecycle of a model.

Imports are lazy so `slipway --help` and `import slipway` stay fast; the names below load on
first use. `sw.tracking`, `sw.data` and `sw.models` are the packages of those names.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from slipway._version import __version__

_PACKAGES = ("data", "models", "tracking")  # served as the packages themselves
_TRACKING = (
    "create_project",
    "get_project",
    "list_projects",
    "delete_project",
    "start_run",
    "autolog",
    "active_run",
    "end_run",
    "log_param",
    "log_params",
    "log_metric",
    "log_metrics",
    "set_tag",
    "set_tags",
    "log_artifact",
    "log_dict",
    "log_text",
    "flush",
    "get_run",
    "get_metric_history",
    "search_runs",
    "delete_run",
    "list_artifacts",
    "download_artifacts",
)
_LAZY = {
    "Client": "slipway.client",
    "connect": "slipway.client",
    "current_client": "slipway.client",
    "using": "slipway.client",
    "load_settings": "slipway.config",
    "Settings": "slipway.config",
    **dict.fromkeys(_TRACKING, "slipway.tracking"),
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
    "tracking",
    "using",
]

if TYPE_CHECKING:
    from slipway import data, models, tracking
    from slipway.client import Client, connect, current_client, using
    from slipway.config import Settings, load_settings
    from slipway.pipelines import Dataset, pipeline, step
    from slipway.tracking import (
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
    if name in _PACKAGES:
        value: Any = importlib.import_module(f"{__name__}.{name}")
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module 'slipway' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
