"""The client the fluent SDK uses: one scoped by `using` (per thread or task), else a default
made from settings on first use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from slipway.client._client import Client
from slipway.client._process import process
from slipway.config import load_settings

_scoped: ContextVar[Client | None] = ContextVar("slipway_client", default=None)


def connect(server: str | None = None, *, workspace: str | Path | None = None) -> Client:
    """Make (and return) the default client: remote if `server` is given, else as configured."""
    settings = load_settings(Path(workspace) if workspace else None)
    if server is not None:
        settings = settings.with_overrides(server_url=server)
    client = Client.from_settings(settings)
    with process.lock:
        previous, process.default = process.default, client
    process.hook()
    if previous is not None:
        previous.close()
    return client


def current_client() -> Client:
    """The client the fluent functions use: the scoped one, else the default."""
    scoped = _scoped.get()
    if scoped is not None:
        return scoped
    with process.lock:
        client = process.default
        made = client is None
        if client is None:
            client = process.default = Client.from_settings()
    if made:
        process.hook()  # the default client is closed at exit
    return client


@contextmanager
def using(client: Client) -> Iterator[Client]:
    """Use `client` for fluent calls inside the block (this thread or task only)."""
    token = _scoped.set(client)
    try:
        yield client
    finally:
        _scoped.reset(token)
