"""The operation registry and dispatcher: declared permissions, enforced checks, audit events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from slipway import operations
from slipway.context import Context, Principal
from slipway.errors import AlreadyExists, InvalidInput, PermissionDenied
from slipway.operations import OperationDefinitionError, invoke, operation, registry
from slipway.services import catalog
from slipway.services.projects.schemas import ProjectCreate
from slipway.store import audit
from tests.conftest import settings_for


@pytest.fixture
def ctx(workspace: Path, metadata_url: str) -> Iterator[Context]:
    made = Context.open(settings_for(workspace, metadata_url))
    yield made
    made.close()


def events(ctx: Context) -> list[audit.AuditEventEntity]:
    with ctx.store.read() as conn:
        return list(reversed(audit.list_events(conn)))


def test_every_operation_declares_permission_and_audit() -> None:
    catalog.load_all()
    ops = registry()
    assert {"create_project", "list_projects", "get_project", "delete_project"} <= set(ops)
    for op in ops.values():
        assert ":" in op.permission
        assert op.audit is not None or not op.mutating, op.name


def test_the_catalog_names_the_module_of_every_operation() -> None:
    services = Path(operations.__file__).parent / "services"
    declaring = {
        ".".join(path.relative_to(services).with_suffix("").parts)
        for path in services.rglob("*.py")
        if "@operation(" in path.read_text(encoding="utf-8")
    }
    assert declaring == set(catalog.OPERATIONS)
    catalog.load_all()
    registered: dict[str, set[str]] = {}
    for op in registry().values():
        registered.setdefault(op.func.__module__.removeprefix("slipway.services."), set()).add(
            op.name
        )
    assert registered == {module: set(names) for module, names in catalog.OPERATIONS.items()}


def test_an_operation_loads_its_service_module_on_its_first_call() -> None:
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from slipway.services import catalog\n"
        "catalog.load('create_pipeline_run')\n"
        "from slipway.operations import get\n"
        "get('create_pipeline_run')\n"
        "print(sorted(m for m in sys.modules if m.startswith('slipway.services.')))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert "slipway.services.pipeline_runs.service" in loaded
    assert "slipway.services.runs.service" not in loaded  # a module no call needed


def test_registration_without_permission_is_impossible() -> None:
    with pytest.raises(TypeError):
        operation("GET /x", audit=None)  # type: ignore[call-arg]
    with pytest.raises(OperationDefinitionError, match="permission"):
        operation("GET /x", permission="everything", audit=None)
    with pytest.raises(OperationDefinitionError, match="audit action"):
        operation("POST /x", permission="x:write", audit=None)
    with pytest.raises(OperationDefinitionError, match="METHOD /path"):
        operation("FETCH x", permission="x:read", audit=None)


def test_operation_signatures_are_checked_at_definition() -> None:
    def no_ctx(name: str) -> None: ...

    def bad_param(ctx: Context, thing: dict[str, int]) -> None: ...

    with pytest.raises(OperationDefinitionError, match="first parameter must be ctx"):
        operation("GET /a", permission="a:read", audit=None)(no_ctx)
    with pytest.raises(OperationDefinitionError, match="thing"):
        operation("GET /b", permission="b:read", audit=None)(bad_param)


def test_mutations_write_audit_events(ctx: Context) -> None:
    invoke(ctx, "create_project", body=ProjectCreate(name="churn", description="d"))
    invoke(ctx, "get_project", project="churn")  # reads are not audited
    with pytest.raises(AlreadyExists, match="churn"):
        invoke(ctx, "create_project", body=ProjectCreate(name="churn"))
    invoke(ctx, "delete_project", project="churn")
    recorded = events(ctx)
    assert [(e.action, e.outcome, e.target) for e in recorded] == [
        ("project.create", "ok", "/projects"),
        ("project.create", "error", "/projects"),
        ("project.delete", "ok", "/projects/churn"),
    ]
    assert json.loads(recorded[0].detail) == {"name": "churn", "description": "d"}
    assert "already exists" in recorded[1].detail
    assert {e.principal for e in recorded} == {ctx.principal.name}


def test_missing_permission_is_denied_audited_and_changes_nothing(ctx: Context) -> None:
    reader = ctx.acting_as(Principal("viewer", frozenset({"project:read"})))
    with pytest.raises(PermissionDenied, match="viewer lacks the permission 'project:write'"):
        invoke(reader, "create_project", body=ProjectCreate(name="nope"))
    assert invoke(reader, "list_projects").projects == []
    [event] = events(ctx)
    assert (event.principal, event.action, event.outcome) == ("viewer", "project.create", "denied")


def test_unknown_arguments_are_refused(ctx: Context) -> None:
    with pytest.raises(InvalidInput, match="takes no argument"):
        invoke(ctx, "list_projects", limit=3)


def test_secret_fields_never_reach_the_audit_log() -> None:
    class Login(ProjectCreate):
        password: str = "hunter2"

    body = Login(name="x")
    assert operations._secret_fields(body) == {"password"}
