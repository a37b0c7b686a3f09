"""The fluent SDK (`import slipway as sw`): thin functions over an explicit `Client`.

The client in use is held in a contextvar (`sw.using(client)` scopes one); otherwise a default
is created lazily from settings on first use: embedded, or remote when SLIPWAY_SERVER is set.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from slipway.client import Client
from slipway.config import load_settings
from slipway.projects.models import Project

_current: ContextVar[Client | None] = ContextVar("slipway_client", default=None)
_default: Client | None = None
_lock = threading.Lock()


def connect(server: str | None = None, *, workspace: str | Path | None = None) -> Client:
    """Make (and return) the default client: remote if `server` is given, else embedded."""
    global _default
    settings = load_settings(Path(workspace) if workspace else None)
    if server is not None:
        settings = settings.with_overrides(server_url=server)
    client = Client.from_settings(settings)
    with _lock:
        previous, _default = _default, client
    if previous is not None:
        previous.close()
    return client


def current_client() -> Client:
    """The client the fluent functions use."""
    global _default
    scoped = _current.get()
    if scoped is not None:
        return scoped
    with _lock:
        if _default is None:
            _default = Client.from_settings()
            atexit.register(_close_default)
        return _default


@contextmanager
def using(scoped: Client) -> Iterator[Client]:
    """Use `scoped` for fluent calls inside the block (this thread / task only)."""
    token = _current.set(scoped)
    try:
        yield scoped
    finally:
        _current.reset(token)


def _close_default() -> None:
    global _default
    with _lock:
        if _default is not None:
            _default.close()
            _default = None


def create_project(name: str, description: str = "") -> Project:
    return current_client().create_project(name, description)


def get_project(name: str) -> Project:
    return current_client().get_project(name)


def list_projects() -> list[Project]:
    return list(current_client().iter_projects())


def delete_project(name: str, *, force: bool = False) -> None:
    current_client().delete_project(name, force=force)
