"""Shared by the model tests: a client embedded or against a live server, and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from slipway.client import Client, HttpBackend
from slipway.config import load_settings
from tests.conftest import clean_env, settings_for, start_server
from tests.data.conftest import Cli, cli_runner


@pytest.fixture(params=["embedded", "remote"])
def client(request: pytest.FixtureRequest, workspace: Path, sqlite_url: str) -> Iterator[Client]:
    """Embedded (SQLite), then through a live `slipway server` (packages via blob uploads)."""
    if request.param == "remote":
        server = start_server(workspace, clean_env(SLIPWAY_METADATA_URL=sqlite_url))
        settings = load_settings(workspace / ".slipway", env={"SLIPWAY_SERVER": server.url})
        made = Client(HttpBackend(server.url), settings)
        yield made
        made.close()
        server.stop()
        return
    made = Client.from_settings(settings_for(workspace, sqlite_url))
    yield made
    made.close()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    return cli_runner(capsys)
