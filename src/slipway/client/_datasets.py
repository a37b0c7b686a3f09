"""Data versioning in a workspace: `add`, `status`, `checkout`, `log`, `get_path`, `load_table`.

The work on files happens here, next to them: walking, hashing (only what the stat cache
cannot vouch for), storing what the object store lacks, profiling new tables. Then one
operation records the version. In embedded mode the workspace's object store is written
directly (small files into packs); in remote mode objects travel through the blob operations.
Heavy modules (the metadata store, pydantic models, the HTTP stack) load only when needed, so
`slipway data status` stays a fraction of a second on 50,000 files.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict, cast

from slipway.config import Settings
from slipway.errors import InvalidInput
from slipway.objects._progress import no_progress
from slipway.workspace._add import FolderAdder
from slipway.workspace._checkout import Checkout, CheckoutResult
from slipway.workspace._pointers import (
    Pointer,
    data_path,
    find_pointers,
    ignore_in_git,
    pointer_path,
    read_pointer,
    write_pointer,
)
from slipway.workspace._scan import ScannedFile, stat_file
from slipway.workspace._stat_cache import StatCache
from slipway.workspace._status import state_of

if TYPE_CHECKING:
    from concurrent.futures import Future

    import pyarrow

    from slipway.client._backends import Backend
    from slipway.client._data_objects import DataObjects
    from slipway.client._recorder import ForkedRecorder
    from slipway.objects._progress import Advance
    from slipway.services.datasets.diff import DatasetDiff
    from slipway.services.datasets.schemas import (
        DatasetList,
        DatasetProfile,
        DatasetVersion,
        PiiColumn,
        VersionList,
    )

TABLE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".parquet", ".pq")
_RECORD, _RECORD_BODY = (
    "create_dataset_version",
    "slipway.services.datasets.schemas:DatasetVersionCreate",
)


class Recorded(TypedDict):
    """The fields of a recorded `DatasetVersion`, as JSON data."""

    project: str
    name: str
    version: int
    object_hash: str
    kind: Literal["file", "dir"]
    size: int
    file_count: int
    profile_hash: str | None
    pii: list[dict[str, Any]]
    created: bool


@dataclass
class AddResult:
    """What `add` did. The version as `recorded` is plain data: the CLI prints it without
    importing the pydantic models (~50 ms) that `version` builds."""

    recorded: Recorded
    pointer: Path
    hashed: int  # files read because the stat cache could not vouch for them
    stored: int  # objects the store did not have
    _version: DatasetVersion | None = field(default=None, repr=False)

    @property
    def ref(self) -> str:
        return f"{self.recorded['name']}@v{self.recorded['version']}"

    @property
    def version(self) -> DatasetVersion:
        if self._version is None:
            from slipway.services.datasets.schemas import DatasetVersion

            self._version = DatasetVersion.model_validate(self.recorded)
        return self._version


@dataclass(frozen=True)
class PathStatus:
    path: Path  # the tracked data, relative to the workspace root
    ref: str  # what its pointer names
    state: str  # "unchanged", "modified" or "missing"
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)


class Progress(Protocol):
    """Shows long work as it goes (the CLI's progress bar on a terminal)."""

    def task(self, label: str, files: int, nbytes: int) -> AbstractContextManager[Advance]:
        """A task of `files` files, `nbytes` bytes; the callable is told (files, bytes) done,
        from any thread."""


class NoProgress:
    @contextlib.contextmanager
    def task(self, label: str, files: int, nbytes: int) -> Iterator[Advance]:
        yield no_progress


class DatasetsClient:
    """Give it a backend, or let it connect (as the settings say) only when it must:
    `status` reads the workspace and at most the object store, never the metadata store."""

    def __init__(
        self,
        settings: Settings,
        backend: Backend | None = None,
        progress: Progress | None = None,
        *,
        fork_helper: bool = False,
    ) -> None:
        """`fork_helper`: open the metadata store in a forked process. Only for a process
        that runs no thread of its own making (the CLI): a thread the `threading` module
        does not know of (execnet's, a C library's) may hold a lock the child then waits on
        for ever."""
        self.settings = settings
        self._fork_helper = fork_helper
        self.progress = progress or NoProgress()
        self.root = settings.workspace.parent
        self._backend = backend
        self._owns_backend = False
        self._connecting: Future[Backend] | None = None
        self._objects: DataObjects | None = None
        self._cache: StatCache | None = None
        self._recorder: ForkedRecorder | None = None

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._owns_backend = True
            if self._connecting is None:
                self._backend = _connect(self.settings)
            else:
                self._backend = self._connecting.result()
        return self._backend

    def _connect_soon(self) -> None:
        """Open the backend in a helper process or a thread: importing and opening the
        metadata store takes a few hundred ms, which the scan of the files overlaps."""
        if self._backend is not None or self._connecting is not None or self._recorder:
            return
        if self._fork_helper and not self.settings.server_url:  # embedded: objects written here
            from slipway.client._recorder import forked

            self._recorder = forked(self.settings, _connect, (_RECORD, _RECORD_BODY))
            if self._recorder is not None:
                return
        self._owns_backend = True
        from concurrent.futures import ThreadPoolExecutor  # here: status never needs it

        pool = ThreadPoolExecutor(1)
        self._connecting = pool.submit(_connect, self.settings)
        pool.shutdown(wait=False)

    @property
    def objects(self) -> DataObjects:
        if self._objects is None:
            from slipway.client._data_objects import data_objects, standalone_objects

            if self._backend is None and self._connecting is None and not self.settings.remote:
                # No metadata store in this process: a forked helper holds it, or none is
                # needed (status).
                self._objects = standalone_objects(self.settings)
            else:
                self._objects = data_objects(self.backend)
        return self._objects

    @property
    def cache(self) -> StatCache:
        if self._cache is None:
            self._cache = StatCache(self.settings.workspace / "cache" / "stats.db")
        return self._cache

    # -- add ---------------------------------------------------------------------------------

    def add(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        message: str = "",
        project: str | None = None,
    ) -> AddResult:
        """Version a file or folder: store it, record `name@vN`, write `PATH.slipway`."""
        target = self._inside(path)
        if not target.exists():
            raise InvalidInput(f"{path} does not exist")
        previous = _pointer_if_any(target)  # first: the helper inherits the YAML module
        self._connect_soon()
        name = _dataset_name(name or (previous.name if previous else target.name), target)
        project = self.settings.project_or(project or (previous.project if previous else None))
        if target.is_dir():
            # Where the helper could be forked, so can a second storing process.
            split = self._recorder is not None
            adder = FolderAdder(self.cache, self.objects, self.progress, _is_table, split)
            folder = adder.add(target)
            object_hash, hashed, stored = folder.object_hash, folder.hashed, folder.stored
            kind, size, count = "dir", folder.size, folder.files
            tables = [(rel, digest, target / rel) for rel, digest in folder.tables]
        else:
            stat = stat_file(target)
            hashes, hashed, stored = self._store_tree([ScannedFile(target.name, stat, False)])
            object_hash = hashes[stat.path]
            kind, size, count = "file", stat.size, 1
            tables = [(target.name, object_hash, target)] if _is_table(target.name) else []
        profile_hash, pii = self._profiles(tables)
        fields = {
            "object_hash": object_hash,
            "kind": kind,
            "size": size,
            "file_count": count,
            "path": target.relative_to(self.root).as_posix(),
            "message": message,
            "profile_hash": profile_hash,
            "pii": [flag.model_dump(mode="json") for flag in pii],
        }
        recorded, version = self._record_version(project, name, fields)
        pointer = write_pointer(target, _pointer_of(recorded))
        ignore_in_git(target)
        return AddResult(recorded, pointer, hashed, stored, version)

    def _record_version(
        self, project: str, name: str, fields: dict[str, Any]
    ) -> tuple[Recorded, DatasetVersion | None]:
        # Imported only now: by this time the helper (or the backend thread) has imported
        # them while the files were read, and importing pydantic here first would delay that.
        if self._recorder is not None:
            from slipway.client._recorder import RecorderFailed

            try:
                digest = fields["object_hash"]
                noted = self.objects.noted_totals(digest) if fields["kind"] == "dir" else None
                totals = None if noted is None else (digest, *noted)
                self._recorder.submit(
                    _RECORD, _RECORD_BODY, fields, totals=totals, project=project, name=name
                )
                return cast("Recorded", self._recorder.result()), None
            except RecorderFailed:  # the helper died (it says nothing more): record here
                self._recorder.close()
                self._recorder = None
        from slipway.client._body import body
        from slipway.services.datasets.schemas import DatasetVersionCreate

        request = body(DatasetVersionCreate, **fields)
        answer = self.backend.call(_RECORD, project=project, name=name, body=request)
        version = cast("DatasetVersion", answer)
        return cast("Recorded", version.model_dump(mode="json")), version

    def _store_tree(self, files: list[ScannedFile]) -> tuple[dict[str, str], int, int]:
        """Hash what the cache cannot vouch for and store what the store lacks: path -> hash.
        (Single files; a folder's files go through its snapshot.)"""
        known = self._known(files)
        present = self.objects.present(set(known.values()))
        todo = [f for f in files if known.get(f.stat.path) not in present]
        sizes = [f.stat.size for f in todo]
        with self.progress.task("storing", len(todo), sum(sizes)) as advance:
            infos = self.objects.store_files([f.stat.path for f in todo], sizes, advance)
        hashes = dict(known)
        hashes.update({f.stat.path: info[0] for f, info in zip(todo, infos, strict=True)})
        fresh = [f for f in todo if f.stat.path not in known]
        self.cache.record((f.stat, hashes[f.stat.path]) for f in fresh)
        return hashes, len(fresh), sum(1 for info in infos if info[1])

    def _profiles(self, tables: list[tuple[str, str, Path]]) -> tuple[str | None, list[PiiColumn]]:
        """Profile each table (once per content: profiles are cached by hash); store them."""
        if not tables:
            return None, []
        from slipway.data._profile import profile_table
        from slipway.services.datasets.schemas import PiiColumn

        profiles: dict[str, Any] = {}
        pii: list[PiiColumn] = []
        for rel, digest, path in tables:
            cached = self.cache.profile(digest)
            if cached is None:
                cached = profile_table(path).model_dump_json()
                self.cache.remember_profile(digest, cached)
            profile = json.loads(cached)
            profiles[rel] = profile
            pii += [
                PiiColumn(
                    table=rel,
                    column=flag["column"],
                    kind=flag["kind"],
                    match_rate=flag["match_rate"],
                )
                for flag in profile.get("pii", [])
            ]
        data = json.dumps(profiles, sort_keys=True, separators=(",", ":")).encode()
        return self.objects.store_bytes(data), pii

    # -- status ------------------------------------------------------------------------------

    def status(self, paths: Sequence[str | Path] = ()) -> list[PathStatus]:
        """Which tracked paths differ from their pointer, and how."""
        return [self._status_of(pointer) for pointer in self._pointers(paths)]

    def _status_of(self, pointer_file: Path) -> PathStatus:
        pointer = read_pointer(pointer_file)
        target = data_path(pointer_file)
        rel = target.relative_to(self.root)
        if not target.exists():
            return PathStatus(rel, pointer.ref, "missing")
        current = state_of(self.cache, target)
        if current.hash == pointer.hash:
            return PathStatus(rel, pointer.ref, "unchanged")
        if pointer.kind == "file" or current.hash_of is None:
            return PathStatus(rel, pointer.ref, "modified", modified=[target.name])
        old = {e.path: e.hash for e in self.objects.manifest(pointer.hash).entries}
        new = current.hash_of()
        return PathStatus(
            rel,
            pointer.ref,
            "modified",
            added=sorted(new.keys() - old.keys()),
            removed=sorted(old.keys() - new.keys()),
            modified=sorted(p for p in new.keys() & old.keys() if new[p] != old[p]),
        )

    # -- checkout ----------------------------------------------------------------------------

    def checkout(
        self, ref: str | None = None, *, paths: Sequence[str | Path] = (), force: bool = False
    ) -> list[CheckoutResult]:
        """Make tracked paths match their pointers, or move one dataset to `ref` (NAME@vN).

        Files that differ are replaced (only once their content is verified); files the
        version lacks are removed. Unsaved changes stop it unless `force`.
        """
        from slipway.refs import parse_dataset_ref as parse_ref

        if ref is None:
            return [self._checkout(p, read_pointer(p), force) for p in self._pointers(paths)]
        try:
            name, _ = parse_ref(ref)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        matching = [p for p in find_pointers(self.root) if read_pointer(p).name == name]
        project = read_pointer(matching[0]).project if matching else self.settings.project
        version = self.get(ref, project=project)
        pointer_file = matching[0] if matching else pointer_path(self._inside(version.path))
        wanted = _pointer_of(cast("Recorded", version.model_dump(mode="json")))
        result = self._checkout(pointer_file, wanted, force)
        write_pointer(data_path(pointer_file), wanted)
        return [result]

    def _checkout(self, pointer_file: Path, wanted: Pointer, force: bool) -> CheckoutResult:
        checkout = Checkout(self.root, self.objects, self.cache, self.progress, _is_table)
        return checkout.run(pointer_file, wanted, force)

    # -- reading versions --------------------------------------------------------------------

    def get(self, ref: str, *, project: str | None = None) -> DatasetVersion:
        """Resolve NAME@vN, NAME@latest or NAME."""
        found = self.backend.call(
            "get_dataset_version", project=self.settings.project_or(project), ref=ref
        )
        return cast("DatasetVersion", found)

    def log(self, name: str, *, project: str | None = None) -> list[DatasetVersion]:
        found = self.backend.call(
            "list_dataset_versions", project=self.settings.project_or(project), name=name
        )
        return cast("VersionList", found).versions

    def list_datasets(self, *, project: str | None = None) -> DatasetList:
        found = self.backend.call("list_datasets", project=self.settings.project_or(project))
        return cast("DatasetList", found)

    def diff(self, base: str, target: str, *, project: str | None = None) -> DatasetDiff:
        """What changed from `base` to `target` (NAME@vN each, or NAME@vN and vM)."""
        from slipway.refs import parse_dataset_ref as parse_ref

        try:
            name, _ = parse_ref(base)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        found = self.backend.call(
            "diff_dataset_versions",
            project=self.settings.project_or(project),
            name=name,
            base=base,
            target=target,
        )
        return cast("DatasetDiff", found)

    def profile(self, ref: str, *, project: str | None = None) -> DatasetProfile:
        found = self.backend.call(
            "get_dataset_profile", project=self.settings.project_or(project), ref=ref
        )
        return cast("DatasetProfile", found)

    def get_path(self, ref: str, *, project: str | None = None) -> Path:
        """A local, read-only copy of a version (materialized once, then reused)."""
        version = self.get(ref, project=project)
        cached = self.settings.workspace / "cache" / "versions" / version.object_hash
        leaf = cached / (Path(version.path).name or version.name)
        if leaf.exists():
            return leaf
        from slipway.client._data_objects import staged, write_tree

        with staged(cached) as staging:
            into = staging / leaf.name
            if version.kind == "file":
                with self.progress.task("writing", 1, version.size) as advance:
                    self.objects.materialize([(version.object_hash, into, False)], advance)
            else:
                manifest = self.objects.manifest(version.object_hash)
                into.mkdir()
                files = len(manifest.entries)
                with self.progress.task("writing", files, manifest.size) as advance:
                    write_tree(self.objects, manifest, into, advance)
        return leaf

    def load_table(
        self, ref: str, *, table: str | None = None, project: str | None = None
    ) -> pyarrow.Table:
        """A version's table (CSV or Parquet) as a pyarrow Table; `table` picks one in a folder."""
        import pyarrow.csv
        import pyarrow.parquet

        path = self.get_path(ref, project=project)
        if path.is_dir():
            candidates = sorted(
                p.relative_to(path).as_posix() for p in path.rglob("*") if _is_table(p.name)
            )
            if table is None:
                if len(candidates) != 1:
                    raise InvalidInput(
                        f"{ref} holds {len(candidates)} tables; pass table= one of {candidates}"
                    )
                table = candidates[0]
            elif table not in candidates:
                raise InvalidInput(f"{ref} has no table {table!r}; it has {candidates}")
            path = path / table
        if path.name.endswith((".parquet", ".pq")):
            return pyarrow.parquet.read_table(path)
        if _is_table(path.name):
            options = pyarrow.csv.ParseOptions(
                delimiter="\t" if path.name.endswith(".tsv") else ","
            )
            return pyarrow.csv.read_csv(path, parse_options=options)
        raise InvalidInput(f"{ref} is not a CSV or Parquet table")

    # -- helpers -----------------------------------------------------------------------------

    def _inside(self, path: str | Path) -> Path:
        """`path` made absolute; refused if it leaves the workspace or enters `.slipway`."""
        raw = Path(path)
        full = Path(os.path.normpath(raw if raw.is_absolute() else Path.cwd() / raw))
        if not full.is_relative_to(self.root) or full == self.root:
            raise InvalidInput(f"{path} is outside the workspace {self.root}")
        if full.is_relative_to(self.settings.workspace):
            raise InvalidInput(f"{path} is inside Slipway's own folder {self.settings.workspace}")
        return full

    def _pointers(self, paths: Sequence[str | Path]) -> list[Path]:
        if not paths:
            return find_pointers(self.root)
        found = []
        for path in paths:
            full = self._inside(path)
            pointer = full if full.name.endswith(".slipway") else pointer_path(full)
            if not pointer.exists():
                raise InvalidInput(
                    f"{path} is not tracked (no {pointer.name}); `slipway data add` it"
                )
            found.append(pointer)
        return found

    def _known(self, files: list[ScannedFile]) -> dict[str, str]:
        """path -> hash for the files the stat cache vouches for."""
        if not files:
            return {}
        paths = [f.stat.path for f in files]
        under = os.path.commonpath(paths) if len(paths) > 1 else paths[0]
        return self.cache.lookup((f.stat for f in files), under)

    def close(self) -> None:
        if self._recorder is not None:
            self._recorder.close()
        if self._cache is not None:
            self._cache.close()
        if self._owns_backend and (self._backend is not None or self._connecting is not None):
            self.backend.close()


def _connect(settings: Settings) -> Backend:
    from slipway.client._backends import EmbeddedBackend, HttpBackend
    from slipway.context import Context

    if settings.server_url:
        return HttpBackend(settings.server_url)
    return EmbeddedBackend(Context.open(settings))


def _pointer_of(version: Recorded) -> Pointer:
    return Pointer(
        project=version["project"],
        name=version["name"],
        version=version["version"],
        hash=version["object_hash"],
        kind=version["kind"],
        size=version["size"],
        files=version["file_count"],
        profile=version["profile_hash"],
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


def _is_table(name: str) -> bool:
    return name.lower().endswith(TABLE_SUFFIXES)
