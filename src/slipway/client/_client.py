"""The explicit client behind the SDK and the CLI; the same in embedded and remote mode."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from slipway.client._backends import Backend, EmbeddedBackend, HttpBackend
from slipway.client._body import body
from slipway.client._objects import ObjectsClient
from slipway.client._process import process
from slipway.client._runs import RunsClient
from slipway.config import Settings, load_settings
from slipway.context import Context
from slipway.services.projects.schemas import Project, ProjectCreate, ProjectPage
from slipway.services.runs.schemas import Run

if TYPE_CHECKING:
    # Imported where first used: a command that only calls operations (a cached pipeline
    # run) loads neither the working-copy engine nor the model registry's client.
    from slipway.client._batcher import Batcher
    from slipway.client._datasets import DatasetsClient
    from slipway.client._models import ModelsClient


class OpenRun(Protocol):
    """What the client knows of a run it holds open (the SDK's `ActiveRun`)."""

    @property
    def id(self) -> str: ...

    @property
    def info(self) -> Run: ...

    def end(self, status: str = "finished") -> Any: ...


T = TypeVar("T")


class Client:
    """Operations as methods. `Client.from_settings()` picks embedded or remote mode.

    It also holds the runs started through it that are still open, innermost last: the
    fluent SDK logs to the last one, and `sw.models.log_model` links to it.
    """

    def __init__(self, backend: Backend, settings: Settings | None = None) -> None:
        self.backend = backend
        self.runs = RunsClient(backend)
        self.objects = ObjectsClient(backend)
        self._settings = settings
        self._datasets: DatasetsClient | None = None
        self._models: ModelsClient | None = None
        self._batcher: Batcher | None = None
        self._held: dict[type, object] = {}
        self._lock = threading.Lock()
        self.open_runs: list[OpenRun] = []

    @property
    def batcher(self) -> Batcher:
        """The background writer of this client's metrics, params and tags (made on first use)."""
        with self._lock:
            if self._batcher is None:
                from slipway.client._batcher import Batcher

                self._batcher = Batcher(self.runs)
            return self._batcher

    def held(self, kind: type[T]) -> T:
        """This client's one `kind()`, made on first use.

        State the user side keeps for as long as the client lives (capture's caches, say),
        held here without the client knowing its type.
        """
        with self._lock:
            found = self._held.get(kind)
            if found is None:
                found = self._held[kind] = kind()
        return cast(T, found)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Client:
        settings = settings or load_settings()
        if settings.server_url:
            return cls(HttpBackend(settings.server_url), settings)
        return cls(EmbeddedBackend(Context.open(settings)), settings)

    @property
    def settings(self) -> Settings:
        """The settings this client was made from (an embedded backend's, else loaded)."""
        if self._settings is None:
            embedded = self.backend if isinstance(self.backend, EmbeddedBackend) else None
            self._settings = embedded.ctx.settings if embedded else load_settings()
        return self._settings

    @property
    def datasets(self) -> DatasetsClient:
        """Data versioning in this workspace (made on first use)."""
        if self._datasets is None:
            from slipway.client._datasets import DatasetsClient

            self._datasets = DatasetsClient(self.settings, self.backend)
        return self._datasets

    @property
    def models(self) -> ModelsClient:
        """The model registry's operations (made on first use); `slipway.models` logs and loads."""
        if self._models is None:
            from slipway.client._models import ModelsClient

            self._models = ModelsClient(self.settings, self.backend, self.objects)
        return self._models

    @property
    def mode(self) -> str:
        return "remote" if isinstance(self.backend, HttpBackend) else "embedded"

    def call(self, name: str, /, **arguments: Any) -> Any:
        return self.backend.call(name, **arguments)

    # -- projects --------------------------------------------------------------------------

    def create_project(self, name: str, description: str = "") -> Project:
        result: Project = self.call(
            "create_project", body=body(ProjectCreate, name=name, description=description)
        )
        return result

    def get_project(self, name: str) -> Project:
        result: Project = self.call("get_project", project=name)
        return result

    def list_projects(self, max_results: int = 100, page_token: str | None = None) -> ProjectPage:
        result: ProjectPage = self.call(
            "list_projects", max_results=max_results, page_token=page_token
        )
        return result

    def iter_projects(self) -> Iterator[Project]:
        token: str | None = None
        while True:
            page = self.list_projects(max_results=1000, page_token=token)
            yield from page.projects
            if not (token := page.next_page_token):
                return

    def delete_project(self, name: str, *, force: bool = False) -> None:
        self.call("delete_project", project=name, force=force)

    # -- open runs ------------------------------------------------------------------------

    def active_run(self) -> OpenRun | None:
        """The innermost open run, if any."""
        return self.open_runs[-1] if self.open_runs else None

    def hold_run(self, run: OpenRun) -> None:
        """Hold `run` open, innermost from now on; it ends at interpreter exit if still open."""
        self.open_runs.append(run)
        process.end_runs_at_exit(self)

    def release_run(self, run: OpenRun) -> None:
        """Forget `run` (it has ended); the run it was nested in is active again."""
        if run in self.open_runs:
            self.open_runs.remove(run)

    def end_runs(self, status: str = "finished") -> None:
        """End every open run, innermost first (a run that fails to end is dropped)."""
        while self.open_runs:
            run = self.open_runs[-1]
            with contextlib.suppress(Exception):  # ending the others matters more
                run.end(status)
            if self.open_runs and self.open_runs[-1] is run:
                self.open_runs.pop()

    def close(self) -> None:
        with self._lock:
            batcher, self._batcher = self._batcher, None
        if batcher is not None:
            batcher.close()  # flushes what is still queued before the connection goes
        self.backend.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
