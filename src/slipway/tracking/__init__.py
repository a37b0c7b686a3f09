"""Experiment tracking: runs, their params, metrics, tags and artifacts; capture; search; autolog.

`import slipway as sw` serves the run functions at the top (`sw.start_run`, `sw.log_metric`);
this package holds them all, with the types they return and what capture records. Names load
on first use (PEP 562), so importing the package costs nothing until a run starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slipway._lazy import lazy_exports

if TYPE_CHECKING:
    from slipway.services.projects.schemas import Project
    from slipway.services.runs.schemas import Artifact, Run, RunPage
    from slipway.tracking._active_run import ActiveRun
    from slipway.tracking._capture import Capture, SourceInfo
    from slipway.tracking._fluent import (
        PACKAGES_ARTIFACT,
        active_run,
        autolog,
        delete_run,
        download_artifacts,
        end_run,
        flush,
        get_metric_history,
        get_run,
        list_artifacts,
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
    from slipway.tracking._projects import (
        create_project,
        delete_project,
        get_project,
        list_projects,
    )
    from slipway.tracking._reproduce import PackageChange, ReproducePlan, plan_reproduction
    from slipway.tracking._system_metrics import SystemMetricsSampler, sample_system_metrics

_FLUENT = "slipway.tracking._fluent"
_PROJECTS = "slipway.tracking._projects"
_WHERE = {
    # runs, through the current client
    "start_run": _FLUENT,
    "active_run": _FLUENT,
    "end_run": _FLUENT,
    "log_param": _FLUENT,
    "log_params": _FLUENT,
    "log_metric": _FLUENT,
    "log_metrics": _FLUENT,
    "set_tag": _FLUENT,
    "set_tags": _FLUENT,
    "log_artifact": _FLUENT,
    "log_dict": _FLUENT,
    "log_text": _FLUENT,
    "flush": _FLUENT,
    "get_run": _FLUENT,
    "get_metric_history": _FLUENT,
    "search_runs": _FLUENT,
    "delete_run": _FLUENT,
    "list_artifacts": _FLUENT,
    "download_artifacts": _FLUENT,
    "autolog": _FLUENT,
    "PACKAGES_ARTIFACT": _FLUENT,
    "ActiveRun": "slipway.tracking._active_run",
    # projects
    "create_project": _PROJECTS,
    "get_project": _PROJECTS,
    "list_projects": _PROJECTS,
    "delete_project": _PROJECTS,
    # what the functions return
    "Run": "slipway.services.runs.schemas",
    "RunPage": "slipway.services.runs.schemas",
    "Artifact": "slipway.services.runs.schemas",
    "Project": "slipway.services.projects.schemas",
    # capture, reproduction, system metrics
    "Capture": "slipway.tracking._capture",
    "SourceInfo": "slipway.tracking._capture",
    "plan_reproduction": "slipway.tracking._reproduce",
    "ReproducePlan": "slipway.tracking._reproduce",
    "PackageChange": "slipway.tracking._reproduce",
    "SystemMetricsSampler": "slipway.tracking._system_metrics",
    "sample_system_metrics": "slipway.tracking._system_metrics",
}

__all__ = [
    "PACKAGES_ARTIFACT",
    "ActiveRun",
    "Artifact",
    "Capture",
    "PackageChange",
    "Project",
    "ReproducePlan",
    "Run",
    "RunPage",
    "SourceInfo",
    "SystemMetricsSampler",
    "active_run",
    "autolog",
    "create_project",
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
    "log_artifact",
    "log_dict",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "plan_reproduction",
    "sample_system_metrics",
    "search_runs",
    "set_tag",
    "set_tags",
    "start_run",
]

__getattr__ = lazy_exports(__name__, _WHERE)


def __dir__() -> list[str]:
    return sorted(__all__)
