"""The REST API served by a real `slipway server` process."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
from sqlalchemy import update

from slipway.operations import registry
from slipway.store import REVISIONS, MetadataStore
from slipway.store._schema_check import version_table
from tests.conftest import SLIPWAY, LiveServer, clean_env, free_port


def test_health_and_openapi_cover_every_operation(live_server: LiveServer) -> None:
    health = httpx.get(f"{live_server.url}/healthz").json()
    assert health["status"] == "ok" and health["schema"] == REVISIONS[-1]
    spec = httpx.get(f"{live_server.url}/openapi.json").json()
    operations = {op["operationId"]: op for path in spec["paths"].values() for op in path.values()}
    for name, declared in registry().items():
        assert operations[name]["x-permission"] == declared.permission
        assert operations[name].get("x-audit") == declared.audit


def test_errors_are_json_with_error_and_detail(live_server: LiveServer) -> None:
    url = live_server.url
    missing = httpx.get(f"{url}/projects/ghost")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": "NotFound",
        "detail": "project 'ghost' does not exist; `slipway projects list` shows them",
    }
    bad = httpx.post(f"{url}/projects", json={"name": "a b"})
    assert bad.status_code == 400 and bad.json()["error"] == "InvalidInput"
    assert "invalid name 'a b'" in bad.json()["detail"]
    extra = httpx.post(f"{url}/projects", json={"name": "ok", "owner": "x"})
    assert extra.status_code == 400 and "owner" in extra.json()["detail"]
    assert httpx.post(f"{url}/projects", json={"name": "ok"}).status_code == 201
    dup = httpx.post(f"{url}/projects", json={"name": "ok"})
    assert (dup.status_code, dup.json()["error"]) == (409, "AlreadyExists")
    nowhere = httpx.get(f"{url}/no/such/route")
    assert (nowhere.status_code, nowhere.json()["error"]) == (404, "NotFound")
    assert httpx.delete(f"{url}/projects/ok").status_code == 204


def test_server_refuses_an_outdated_schema(workspace: Path, sqlite_url: str) -> None:
    store = MetadataStore.open(sqlite_url)
    with store.write() as conn:
        conn.execute(update(version_table).values(version_num="0000"))
    store.close()
    result = subprocess.run(
        [SLIPWAY, "server", "--port", str(free_port())],
        cwd=workspace,
        env=clean_env(SLIPWAY_METADATA_URL=sqlite_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 8
    assert "schema is at revision '0000'" in result.stderr
