"""The project round-trip, identical in embedded mode (SQLite, PostgreSQL) and remote mode."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from slipway.client import Client, EmbeddedBackend
from slipway.context import Context
from slipway.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from slipway.store.schema import runs
from tests.conftest import settings_for


def test_project_round_trip(any_client: Client) -> None:
    created = any_client.create_project("churn", "predict who leaves")
    assert created.name == "churn" and created.description == "predict who leaves"
    assert abs((datetime.now(UTC) - created.created_at).total_seconds()) < 60
    assert any_client.get_project("churn") == created
    assert [p.name for p in any_client.iter_projects()] == ["churn"]
    any_client.delete_project("churn")
    with pytest.raises(NotFound, match="'churn' does not exist"):
        any_client.get_project("churn")
    assert list(any_client.iter_projects()) == []


def test_duplicate_name_is_refused(any_client: Client) -> None:
    any_client.create_project("fraud")
    with pytest.raises(AlreadyExists, match="'fraud' already exists"):
        any_client.create_project("fraud", "again")
    assert any_client.get_project("fraud").description == ""


@pytest.mark.parametrize("bad", ["", "has space", "../etc", "a/b", "-lead", "x" * 129])
def test_invalid_names_are_refused(any_client: Client, bad: str) -> None:
    with pytest.raises(InvalidInput, match="invalid name"):
        any_client.create_project(bad)
    assert list(any_client.iter_projects()) == []


def test_listing_pages(any_client: Client) -> None:
    for i in range(7):
        any_client.create_project(f"p{i}")
    first = any_client.list_projects(max_results=3)
    assert [p.name for p in first.projects] == ["p0", "p1", "p2"]
    second = any_client.list_projects(max_results=3, page_token=first.next_page_token)
    assert [p.name for p in second.projects] == ["p3", "p4", "p5"]
    last = any_client.list_projects(max_results=3, page_token=second.next_page_token)
    assert [p.name for p in last.projects] == ["p6"] and last.next_page_token is None
    with pytest.raises(InvalidInput, match="max_results"):
        any_client.list_projects(max_results=0)


def test_deleting_a_project_that_holds_runs_needs_force(
    any_client: Client, workspace: Path, sqlite_url: str
) -> None:
    project = any_client.create_project("busy")
    if isinstance(any_client.backend, EmbeddedBackend):
        store = any_client.backend.ctx.store
    else:  # the live server uses sqlite_url; write the run straight into its database
        store = Context.open(settings_for(workspace, sqlite_url)).store
    with store.write() as conn:
        conn.execute(
            insert(runs).values(
                id=uuid.uuid4().hex,
                project_id=project.id,
                name="r",
                status="finished",
                created_by="t",
                start_time=1,
            )
        )
    with pytest.raises(Conflict, match="holds 1 runs"):
        any_client.delete_project("busy")
    assert any_client.get_project("busy") == project
    any_client.delete_project("busy", force=True)
    with pytest.raises(NotFound, match="project 'busy' does not exist"):
        any_client.get_project("busy")
