"""How the driver reaches the operations, and what identifies a driver and a step's code."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slipway.pipelines._code import fingerprint
from slipway.services.pipeline_runs.keys import static_digest

if TYPE_CHECKING:
    from slipway.client import Client
    from slipway.pipelines._graph import Node


class Link:
    """How the driver reaches the operations: its client, made on first need."""

    def __init__(self, client: Client | None, connect: Callable[[], Client]) -> None:
        self._client = client
        self._connect = connect
        self._datasets: dict[tuple[str, str], tuple[str, str, str]] = {}

    def connect(self) -> Client:
        return self.client

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def call(self, name: str, /, **arguments: object) -> Any:
        return self.client.call(name, **arguments)

    def dataset(self, ref: str, project: str) -> tuple[str, str, str]:
        """(NAME@vN, project, content hash) of a dataset reference, resolved once per run."""
        if (ref, project) not in self._datasets:
            version = self.client.datasets.get(ref, project=project)
            self._datasets[ref, project] = (version.ref, version.project, version.object_hash)
        return self._datasets[ref, project]


def static_key(node: Node, link: Link, project: str) -> str:
    """What the step's cache key holds besides its inputs' hashes."""
    return static_digest(
        {
            "step": node.step.name,
            "code": fingerprint(node.step.func),
            "params": node.literals,
            "datasets": {p: link.dataset(d.ref, project)[2] for p, d in node.datasets.items()},
            "packages": node.step.package_versions,
        }
    )


def driver_id() -> str:
    # platform.node() is the host name (socket.gethostname() on POSIX) without importing socket.
    return f"{platform.node()}:{os.getpid()}"


def alive(driver: str) -> bool:
    """Whether the process `host:pid` still runs (only knowable on the same host)."""
    host, _, pid = driver.rpartition(":")
    if host != platform.node() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
