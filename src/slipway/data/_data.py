"""`Data`: data versioning in one workspace through one client, the object behind `sw.data`
and `slipway data`.

It drives the working copy (`slipway.workspace`) and records versions through the client's
dataset operations, profiling new tables on the way. Without a client it connects only when a
verb needs the metadata store, and in embedded mode opens the workspace's object store on its
own until then (the client it makes shares that store): a `status` of untouched data reads
the working copy and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from slipway.config import Settings, load_settings
from slipway.errors import InvalidInput
from slipway.workspace import (
    Pointer,
    Progress,
    Workspace,
    data_path,
    ignore_in_git,
    pointer_path,
    read_pointer,
    write_pointer,
)

if TYPE_CHECKING:
    import pyarrow

    from slipway.client import Client, DataObjects
    from slipway.data._sync import SyncResult
    from slipway.objects import ObjectStore, TransferProgress
    from slipway.services.datasets.diff import DatasetDiff
    from slipway.services.datasets.schemas import DatasetList, DatasetProfile, DatasetVersion
    from slipway.workspace import CheckoutResult, PathStatus


@dataclass(frozen=True)
class AddResult:
    """What `add` did."""

    version: DatasetVersion
    pointer: Path  # the pointer file written
    hashed: int  # files read because the stat cache could not vouch for them
    stored: int  # objects the store did not have

    @property
    def ref(self) -> str:
        return self.version.ref


class Data:
    """Data versioning through `client`, or, without one, in the workspace `settings` name
    (default: found from here), connected when first needed and closed with this object."""

    def __init__(
        self,
        client: Client | None = None,
        *,
        settings: Settings | None = None,
        progress: Progress | None = None,
    ) -> None:
        if settings is None:
            settings = client.settings if client is not None else load_settings()
        self.settings = settings
        self._client = client
        self._owns_client = client is None
        self._store: ObjectStore | None = None  # the workspace's, opened here (embedded)
        self._data_objects: DataObjects | None = None
        self.workspace = Workspace(settings, self._objects, progress)

    @property
    def progress(self) -> Progress:
        return self.workspace.progress

    @progress.setter
    def progress(self, progress: Progress) -> None:
        self.workspace.progress = progress

    @property
    def client(self) -> Client:
        """The client given, or one made from the settings on first use."""
        if self._client is None:
            # Embedded, it shares the object store opened here: the manifest totals counted
            # while storing spare the data service parsing 50,000 entries back.
            self._client = _connect(self.settings, self._store)
        return self._client

    @property
    def objects(self) -> DataObjects:
        """The object store this workspace's data goes to (see `slipway.client.DataObjects`)."""
        return self._objects()

    def _objects(self) -> DataObjects:
        if self._data_objects is None:
            from slipway.client import StoreObjects, data_objects

            if self._owns_client and not self.settings.server_url:
                self._data_objects = StoreObjects(self.local_store())  # shared with the client
            else:
                self._data_objects = data_objects(self.client.backend, self.client.objects)
        return self._data_objects

    def local_store(self) -> ObjectStore:
        """The workspace's own object store (embedded mode)."""
        if self._store is None:
            embedded = None
            if self._client is not None:  # a client: its backends are imported already
                from slipway.client import EmbeddedBackend

                if isinstance(self._client.backend, EmbeddedBackend):
                    embedded = self._client.backend
            if embedded is not None:
                self._store = embedded.ctx.objects
            else:
                from slipway.objects import ObjectStore

                settings = self.settings
                self._store = ObjectStore.from_url(settings.objects_url, settings.objects_options)
        return self._store

    # -- the working copy ------------------------------------------------------------------

    def add(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        message: str = "",
        project: str | None = None,
    ) -> AddResult:
        """Version a file or folder: store it, record `name@vN`, write `PATH.slipway`."""
        from slipway.data._tables import profile_tables

        target = self.workspace.inside(path)
        if not target.exists():
            raise InvalidInput(f"{path} does not exist")
        previous = _pointer_if_any(target)
        name = _dataset_name(name or (previous.name if previous else target.name), target)
        project = self.settings.project_or(project or (previous.project if previous else None))
        stored = self.workspace.add(target)
        tables = [
            (rel, digest, target / rel if stored.kind == "dir" else target)
            for rel, digest in stored.tables
        ]
        profile_hash, pii = profile_tables(self.workspace, self.objects, tables)
        version = self.client.datasets.record(
            name,
            object_hash=stored.object_hash,
            kind=stored.kind,
            size=stored.size,
            file_count=stored.files,
            path=target.relative_to(self.workspace.root).as_posix(),
            message=message,
            profile_hash=profile_hash,
            pii=pii,
            project=project,
        )
        pointer = write_pointer(target, pointer_of(version))
        ignore_in_git(target)
        return AddResult(version, pointer, stored.hashed, stored.stored)

    def status(self, paths: Sequence[str | Path] = ()) -> list[PathStatus]:
        """Which tracked paths differ from their pointer, and how."""
        return self.workspace.status(paths)

    def checkout(
        self, ref: str | None = None, *, paths: Sequence[str | Path] = (), force: bool = False
    ) -> list[CheckoutResult]:
        """Make tracked paths match their pointers, or move one dataset to `ref` (NAME@vN).

        Files that differ are replaced (only once their content is verified); files the
        version lacks are removed. Unsaved changes stop it unless `force`.
        """
        from slipway.refs import parse_dataset_ref

        if ref is None:
            return [
                self.workspace.checkout(p, read_pointer(p), force)
                for p in self.workspace.pointers(paths)
            ]
        try:
            name, _ = parse_dataset_ref(ref)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        matching = self.workspace.tracking(name)
        project = read_pointer(matching[0]).project if matching else self.settings.project
        version = self.get(ref, project=project)
        pointer_file = (
            matching[0] if matching else pointer_path(self.workspace.inside(version.path))
        )
        wanted = pointer_of(version)
        result = self.workspace.checkout(pointer_file, wanted, force)
        write_pointer(data_path(pointer_file), wanted)
        return [result]

    # -- versions ----------------------------------------------------------------------------

    def get(self, ref: str, *, project: str | None = None) -> DatasetVersion:
        """Resolve NAME@vN, NAME@latest or NAME."""
        return self.client.datasets.get(ref, project=project)

    def log(self, name: str, *, project: str | None = None) -> list[DatasetVersion]:
        """The versions of a dataset, newest first."""
        return self.client.datasets.list_versions(name, project=project)

    def list_datasets(self, *, project: str | None = None) -> DatasetList:
        return self.client.datasets.list_datasets(project=project)

    def diff(self, base: str, target: str, *, project: str | None = None) -> DatasetDiff:
        """What changed from `base` to `target` (NAME@vN each, or NAME@vN and vM)."""
        return self.client.datasets.diff(base, target, project=project)

    def profile(self, ref: str, *, project: str | None = None) -> DatasetProfile:
        """The profiles of a version's tables."""
        return self.client.datasets.profile(ref, project=project)

    def get_path(self, ref: str, *, project: str | None = None) -> Path:
        """A local, read-only copy of a version (materialized once, then reused); inside an
        open run of the client, recorded as an input of that run."""
        from slipway.data._read import materialize

        version = self.get(ref, project=project)
        path = materialize(self.objects, self.settings.workspace, version, self.progress)
        self._record_input(version)
        return path

    def load_table(
        self, ref: str, *, table: str | None = None, project: str | None = None
    ) -> pyarrow.Table:
        """A version's table (CSV or Parquet) as a pyarrow Table; `table` picks one in a
        folder. Inside an open run of the client, recorded as an input of that run."""
        from slipway.data._read import materialize, read_table

        version = self.get(ref, project=project)
        path = materialize(self.objects, self.settings.workspace, version, self.progress)
        loaded = read_table(path, ref, table)
        self._record_input(version)
        return loaded

    # -- remotes -----------------------------------------------------------------------------

    def push(
        self,
        targets: Sequence[str | Path] = (),
        *,
        remote: str | None = None,
        project: str | None = None,
        workers: int = 8,
        progress: TransferProgress | None = None,
    ) -> SyncResult:
        """Copy to a data remote what the versions need: the pointers' under `targets` (paths
        or NAME@vN), every pointer in the workspace by default."""
        from slipway.data._sync import push

        return push(
            self, targets, remote=remote, project=project, workers=workers, progress=progress
        )

    def pull(
        self,
        targets: Sequence[str | Path] = (),
        *,
        remote: str | None = None,
        project: str | None = None,
        force: bool = False,
        workers: int = 8,
        progress: TransferProgress | None = None,
    ) -> SyncResult:
        """Fetch from a data remote what the versions need, then check out the pointers
        among `targets` (NAME@vN targets are fetched, not checked out)."""
        from slipway.data._sync import pull

        return pull(
            self,
            targets,
            remote=remote,
            project=project,
            force=force,
            workers=workers,
            progress=progress,
        )

    def _record_input(self, version: DatasetVersion) -> None:
        client = self._client  # one made here has no runs
        run = client.active_run() if client is not None else None
        if client is not None and run is not None:
            client.datasets.record_input(run.id, version.ref, project=version.project)

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close what this object opened (a client it was given stays open)."""
        self.workspace.close()
        if self._owns_client and self._client is not None:
            self._client.close()  # and the store it shares
        elif self._owns_client and self._store is not None:
            self._store.close()

    def __enter__(self) -> Data:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _connect(settings: Settings, store: ObjectStore | None) -> Client:
    from slipway.client import Client, EmbeddedBackend, HttpBackend
    from slipway.context import Context

    if settings.server_url:
        return Client(HttpBackend(settings.server_url), settings)
    return Client(EmbeddedBackend(Context.open(settings, objects=store)), settings)


def pointer_of(version: DatasetVersion) -> Pointer:
    """The pointer file's content for `version`."""
    return Pointer(
        project=version.project,
        name=version.name,
        version=version.version,
        hash=version.object_hash,
        kind=version.kind,
        size=version.size,
        files=version.file_count,
        profile=version.profile_hash,
    )


def _pointer_if_any(target: Path) -> Pointer | None:
    pointer = pointer_path(target)
    return read_pointer(pointer) if pointer.exists() else None


def _dataset_name(name: str, target: Path) -> str:
    from slipway.refs import check_name

    try:
        return check_name(name)
    except ValueError:
        raise InvalidInput(
            f"{name!r} cannot name a dataset (from {target.name}); pass --name with letters, "
            "digits, '.', '_' or '-'"
        ) from None
