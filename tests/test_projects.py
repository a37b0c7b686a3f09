"""The project round-trip, identical in embedded mode (SQLite, PostgreSQL) and remote mode."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from slipway.client import Client, EmbeddedBackend, HttpBackend
from slipway.context import Context
from slipway.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from slipway.store.schema import runs
from tests.conftest import clean_env, settings_for, start_server


@pytest.fixture(params=["embedded-sqlite", "embedded-postgres", "remote"])
def client(request: pytest.FixtureRequest, workspace: Path, sqlite_url: str) -> Iterator[Client]:
    if request.param == "remote":
        server = start_server(workspace, clean_env(SLIPWAY_METADATA_URL=sqlite_url))
        made = Client(HttpBackend(server.url))
        yield made
        made.close()
        server.stop()
        return
    url = sqlite_url if request.param == "embedded-sqlite" else request.getfixturevalue("pg_url")
    made = Client(EmbeddedBackend(Context.open(settings_for(workspace, url))))
    yield made
    made.close()


def test_project_round_trip(client: Client) -> None:
    created = client.create_project("churn", "predict who leaves")
    assert created.name == "churn" and created.description == "predict who leaves"
    assert abs((datetime.now(UTC) - created.created_at).total_seconds()) < 60
    assert client.get_project("churn") == created
    assert [p.name for p in client.iter_projects()] == ["churn"]
    client.delete_project("churn")
    with pytest.raises(NotFound, match="'churn' does not exist"):
        client.get_project("churn")
    assert list(client.iter_projects()) == []


def test_duplicate_name_is_refused(client: Client) -> None:
    client.create_project("fraud")
    with pytest.raises(AlreadyExists, match="'fraud' already exists"):
        client.create_project("fraud", "again")
    assert client.get_project("fraud").description == ""


@pytest.mark.parametrize("bad", ["", "has space", "../etc", "a/b", "-lead", "x" * 129])
def test_invalid_names_are_refused(client: Client, bad: str) -> None:
    with pytest.raises(InvalidInput, match="invalid name"):
        client.create_project(bad)
    assert list(client.iter_projects()) == []


def test_listing_pages(client: Client) -> None:
    for i in range(7):
        client.create_project(f"p{i}")
    first = client.list_projects(max_results=3)
    assert [p.name for p in first.projects] == ["p0", "p1", "p2"]
    second = client.list_projects(max_results=3, page_token=first.next_page_token)
    assert [p.name for p in second.projects] == ["p3", "p4", "p5"]
    last = client.list_projects(max_results=3, page_token=second.next_page_token)
    assert [p.name for p in last.projects] == ["p6"] and last.next_page_token is None
    with pytest.raises(InvalidInput, match="max_results"):
        client.list_projects(max_results=0)


def test_deleting_a_project_that_holds_runs_needs_force(
    client: Client, workspace: Path, sqlite_url: str
) -> None:
    project = client.create_project("busy")
    if isinstance(client.backend, EmbeddedBackend):
        store = client.backend.ctx.store
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
        client.delete_project("busy")
    assert client.get_project("busy") == project
    client.delete_project("busy", force=True)
    with pytest.raises(NotFound):
        client.get_project("busy")
