"""The client the fluent SDK uses: one scoped by `using` (per thread or task), else a default
made from settings on first use.

Runs still open when the interpreter exits end as a script's would: finished, or failed after
an uncaught exception. The exit hook is registered when the first default client is made or
the first run starts, not on import.
"""

from __future__ import annotations

import atexit
import sys
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from slipway.client._client import Client
from slipway.config import load_settings

_scoped: ContextVar[Client | None] = ContextVar("slipway_client", default=None)


class _Default:
    """The process's default client and the clients with runs to end at exit."""

    def __init__(self) -> None:
        self.client: Client | None = None
        self.lock = threading.Lock()
        self.with_runs: weakref.WeakSet[Client] = weakref.WeakSet()
        self.hooked = False

    def hook(self) -> None:
        with self.lock:
            if not self.hooked:
                atexit.register(self.at_exit)
                self.hooked = True

    def at_exit(self) -> None:
        status = "failed" if getattr(sys, "last_value", None) is not None else "finished"
        for client in list(self.with_runs):
            client.end_runs(status)
        if self.client is not None:
            self.client.close()


_default = _Default()


def connect(server: str | None = None, *, workspace: str | Path | None = None) -> Client:
    """Make (and return) the default client: remote if `server` is given, else as configured."""
    settings = load_settings(Path(workspace) if workspace else None)
    if server is not None:
        settings = settings.with_overrides(server_url=server)
    client = Client.from_settings(settings)
    with _default.lock:
        previous, _default.client = _default.client, client
    _default.hook()
    if previous is not None:
        previous.close()
    return client


def current_client() -> Client:
    """The client the fluent functions use: the scoped one, else the default."""
    scoped = _scoped.get()
    if scoped is not None:
        return scoped
    with _default.lock:
        made = _default.client is None
        if made:
            _default.client = Client.from_settings()
        client = _default.client
    if made:
        _default.hook()
    assert client is not None
    return client


@contextmanager
def using(client: Client) -> Iterator[Client]:
    """Use `client` for fluent calls inside the block (this thread or task only)."""
    token = _scoped.set(client)
    try:
        yield client
    finally:
        _scoped.reset(token)


def remember_runs_of(client: Client) -> None:
    """End `client`'s open runs at interpreter exit (called when a run starts)."""
    _default.with_runs.add(client)
    _default.hook()
