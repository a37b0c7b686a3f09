"""The public surface is deliberate: this test changes only when the API does."""

from __future__ import annotations

import subprocess
import sys

import pytest

import slipway
import slipway.objects
import slipway.store


def test_top_level_names_are_pinned() -> None:
    assert sorted(slipway.__all__) == [
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
    for name in slipway.__all__:
        assert getattr(slipway, name) is not None
    assert dir(slipway) == sorted(slipway.__all__)


def test_sdk_areas_are_their_packages() -> None:
    # In a fresh interpreter, so the packages are reached through `sw.` before any import.
    code = (
        "import sys, slipway as sw; "
        "print([getattr(sw, n) is sys.modules[f'slipway.{n}'] "
        "for n in ('data', 'models', 'tracking')], "
        "sw.start_run is sw.tracking.start_run, sw.create_project is sw.tracking.create_project)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[True, True, True] True True"


def test_tracking_surface_is_pinned() -> None:
    import slipway.tracking

    assert sorted(slipway.tracking.__all__) == [
        "ActiveRun",
        "Artifact",
        "Capture",
        "PACKAGES_ARTIFACT",
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
    for name in slipway.tracking.__all__:
        assert getattr(slipway.tracking, name) is not None
    assert dir(slipway.tracking) == sorted(slipway.tracking.__all__)
    with pytest.raises(AttributeError, match="no_such_thing"):
        slipway.tracking.no_such_thing  # noqa: B018


def test_core_package_surfaces_are_pinned() -> None:
    assert sorted(slipway.objects.__all__) == [
        "Advance",
        "DEFAULT_LINK_MODES",
        "Destination",
        "Entry",
        "GcReport",
        "LinkMode",
        "Manifest",
        "ObjectInfo",
        "ObjectStore",
        "Transfer",
        "TransferProgress",
        "TransferReport",
        "assemble",
        "check_hash",
        "check_remote_url",
        "collect_garbage",
        "fragment",
        "hash_bytes",
        "hash_file",
        "hasher",
        "no_progress",
        "safe_relpath",
        "walk",
    ]
    assert sorted(slipway.store.__all__) == sorted(
        [
            "REVISIONS",
            "AuditEventEntity",
            "MetadataStore",
            "ProjectEntity",
            "head",
            "revision_of",
        ]
    )


def test_pipelines_surface_is_pinned() -> None:
    import slipway.pipelines

    assert sorted(slipway.pipelines.__all__) == [
        "Dataset",
        "DatasetInput",
        "Graph",
        "Materializer",
        "Node",
        "Pipeline",
        "PipelineRun",
        "Step",
        "StepOutput",
        "StepTimeout",
        "load_pipeline",
        "pipeline",
        "register_materializer",
        "resume_run",
        "run_graph",
        "step",
    ]


def test_import_slipway_is_light() -> None:
    heavy = "('sqlalchemy', 'fastapi', 'pydantic', 'httpx')"
    code = (
        "import sys, slipway, slipway.tracking; "
        f"print(sorted(m for m in {heavy} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        slipway.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_sdk_scopes_a_client_with_using(workspace, sqlite_url) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import settings_for

    with slipway.Client.from_settings(settings_for(workspace, sqlite_url)) as client:
        with slipway.using(client):
            slipway.create_project("scoped")
            assert [p.name for p in slipway.list_projects()] == ["scoped"]
        assert client.get_project("scoped").name == "scoped"
