"""The app factory, in-process: routes come from the registry, bugs answer as JSON."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from slipway import operations
from slipway.api import create_app
from slipway.context import Context
from tests.conftest import settings_for


def test_a_bug_answers_json_500_without_a_traceback(workspace: Path, sqlite_url: str) -> None:
    def explode(ctx: Context) -> None:
        raise RuntimeError("secret internals")

    operations.registry()
    decorated = operations.operation("POST /explode", permission="test:write", audit="test.explode")
    decorated(explode)
    try:
        app = create_app(settings_for(workspace, sqlite_url))
        with TestClient(app, raise_server_exceptions=False) as http:
            answer = http.post("/explode")
    finally:
        del operations._registry["explode"]  # other tests compare the registry with a server
    assert answer.status_code == 500
    assert answer.json() == {
        "error": "SlipwayError",
        "detail": "internal error in POST /explode; see the server log",
    }
