"""How the driver reaches the operations, and what identifies a driver and a step's code.

The driver records through a client, made on first need; a run's start may instead go
through a helper process that already holds the metadata store (the CLI's fast path).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from slipway.pipelines._code import fingerprint
from slipway.services.pipeline_runs.keys import static_digest

if TYPE_CHECKING:
    from slipway.client import Client
    from slipway.pipelines._graph import Node
    from slipway.services.pipeline_runs.schemas import PipelineRun as RunRecord
    from slipway.services.pipeline_runs.schemas import PipelineRunCreate


class CreateHelper(Protocol):
    """Records a pipeline run's start from another process (see `_helper`)."""

    def create(self, project: str, body: PipelineRunCreate) -> RunRecord: ...

    def close(self) -> None: ...


class Link:
    """How the driver reaches the operations: its client, made on first need, or for the
    run's start only, a helper process."""

    def __init__(
        self, client: Client | None, connect: Callable[[], Client], helper: CreateHelper | None
    ) -> None:
        self._client = client
        self._connect = connect
        self._helper = helper
        self._datasets: dict[tuple[str, str], tuple[str, str, str]] = {}

    def connect(self) -> Client:
        return self.client

    @property
    def client(self) -> Client:
        if self._client is None:
            self.close_helper()
            self._client = self._connect()
        return self._client

    def call(self, name: str, /, **arguments: object) -> Any:
        return self.client.call(name, **arguments)

    def create(self, project: str, body: PipelineRunCreate) -> RunRecord:
        if self._client is None and self._helper is not None:
            return self._helper.create(project, body)
        created: RunRecord = self.call("create_pipeline_run", project=project, body=body)
        return created

    def dataset(self, ref: str, project: str) -> tuple[str, str, str]:
        """(NAME@vN, project, content hash) of a dataset reference, resolved once per run."""
        if (ref, project) not in self._datasets:
            version = self.client.datasets.get(ref, project=project)
            self._datasets[ref, project] = (version.ref, version.project, version.object_hash)
        return self._datasets[ref, project]

    def close_helper(self) -> None:
        if self._helper is not None:
            helper, self._helper = self._helper, None
            helper.close()


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
    return f"{socket.gethostname()}:{os.getpid()}"


def alive(driver: str) -> bool:
    """Whether the process `host:pid` still runs (only knowable on the same host)."""
    host, _, pid = driver.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
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
