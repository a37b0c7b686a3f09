"""Fixtures of the pipeline tests: a workspace's client and the log of steps that ran."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from slipway.client import Client, EmbeddedBackend
from slipway.context import Context
from tests.conftest import settings_for


@pytest.fixture
def step_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file steps append their name to when they really run (see flows.note)."""
    log = tmp_path / "steps.log"
    monkeypatch.setenv("SLIPWAY_TEST_STEP_LOG", str(log))
    return log


@pytest.fixture
def client(workspace: Path, sqlite_url: str) -> Iterator[Client]:
    made = Client(EmbeddedBackend(Context.open(settings_for(workspace, sqlite_url))))
    yield made
    made.close()


def ran(log: Path) -> list[str]:
    """The steps that ran since the last call, in order; the log starts afresh."""
    names = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return names
