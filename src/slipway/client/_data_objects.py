"""How data versioning reaches objects: the workspace's store directly (embedded mode, where
small files go into packs), or the blob operations of a server (remote mode), through the
client's own `ObjectsClient`, so that what one part of a client stored, the others know."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from slipway.objects import Advance, Destination, Manifest, ObjectStore, hash_file, no_progress

if TYPE_CHECKING:
    from slipway.client._backends import Backend
    from slipway.client._objects import ObjectsClient

UPLOAD_WORKERS = 8


class DataObjects(Protocol):
    def store_files(
        self, paths: list[str], sizes: list[int], advance: Advance = no_progress
    ) -> list[tuple[str, bool]]:
        """(hash, newly stored) per file, in order; `sizes` as just stat'ed."""

    def store_bytes(self, data: bytes) -> str: ...

    def store_manifest(self, manifest: Manifest) -> str: ...

    def store_manifest_bytes(self, data: bytes) -> str:
        """Store a manifest as `assemble` wrote it."""

    def present(self, hashes: set[str]) -> set[str]:
        """The ones the store has."""

    def manifest(self, digest: str) -> Manifest: ...

    def materialize(
        self, items: Sequence[tuple[str, Destination, bool]], advance: Advance = no_progress
    ) -> dict[str, os.stat_result]:
        """Write (hash, destination, executable) files, each verified before it lands;
        returns each destination's stat (keyed by `os.fspath`) as written."""


@contextmanager
def staged(final: Path) -> Iterator[Path]:
    """An empty folder beside `final`, renamed to `final` when the block ends: `final` is
    complete or absent, whatever happens (a crash leaves only the staging folder)."""
    staging = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        os.replace(staging, final)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another process won the race


def write_tree(
    objects: DataObjects, manifest: Manifest, into: Path, advance: Advance = no_progress
) -> None:
    """Materialize a stored folder under `into` (each object verified before it lands)."""
    objects.materialize([(e.hash, into / e.path, e.executable) for e in manifest.entries], advance)
    for folder in manifest.empty_dirs:
        (into / folder).mkdir(parents=True, exist_ok=True)


def data_objects(backend: Backend, objects: ObjectsClient | None = None) -> DataObjects:
    """Objects as a client on `backend` reaches them: its store (embedded), or its server's
    (remote) through `objects`, the client's own (`Client.objects`), so that what one part
    of the client stored the others know (a new one when None: it starts knowing nothing)."""
    from slipway.client._backends import EmbeddedBackend

    if isinstance(backend, EmbeddedBackend):
        return StoreObjects(backend.ctx.objects)
    if objects is None:
        from slipway.client._objects import ObjectsClient

        objects = ObjectsClient(backend)
    return RemoteObjects(objects)


class StoreObjects:
    """An object store written directly: the workspace's own (embedded mode)."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def store_files(
        self, paths: list[str], sizes: list[int], advance: Advance = no_progress
    ) -> list[tuple[str, bool]]:
        stored = self.store.put_files(paths, sizes, advance)
        return [(info.hash, info.created) for info in stored]

    def store_bytes(self, data: bytes) -> str:
        return self.store.put_bytes(data).hash

    def store_manifest(self, manifest: Manifest) -> str:
        return self.store.put_manifest(manifest).hash

    def store_manifest_bytes(self, data: bytes) -> str:
        return self.store.put_manifest_bytes(data).hash

    def present(self, hashes: set[str]) -> set[str]:
        return {h for h in hashes if self.store.exists(h)}

    def manifest(self, digest: str) -> Manifest:
        return self.store.read_manifest(digest)

    def materialize(
        self, items: Sequence[tuple[str, Destination, bool]], advance: Advance = no_progress
    ) -> dict[str, os.stat_result]:
        return self.store.materialize(items, advance=advance)


class RemoteObjects:
    """A server's object store, through the blob operations (remote mode)."""

    def __init__(self, objects: ObjectsClient) -> None:
        self.objects = objects

    def store_files(
        self, paths: list[str], sizes: list[int], advance: Advance = no_progress
    ) -> list[tuple[str, bool]]:
        with ThreadPoolExecutor(UPLOAD_WORKERS) as pool:
            hashes = [digest for digest, _ in pool.map(lambda p: hash_file(Path(p)), paths)]
            missing = self.objects.missing(sorted(set(hashes)))
            first: dict[str, str] = {}
            for path, digest, size in zip(paths, hashes, sizes, strict=True):
                if digest in missing and digest not in first:
                    first[digest] = path
                else:
                    advance(1, size)  # nothing to send
            size_of = dict(zip(paths, sizes, strict=True))

            def upload(digest: str, path: str) -> None:
                self._upload(digest, path)
                advance(1, size_of[path])

            list(pool.map(lambda item: upload(*item), first.items()))
        return [(digest, digest in missing) for digest in hashes]

    def _upload(self, digest: str, path: str) -> None:
        with Path(path).open("rb") as f:
            self.objects.upload(digest, f)

    def store_bytes(self, data: bytes) -> str:
        return self.objects.upload_bytes(data).hash

    def store_manifest(self, manifest: Manifest) -> str:
        return self.store_bytes(manifest.to_bytes())

    def store_manifest_bytes(self, data: bytes) -> str:
        return self.store_bytes(data)

    def present(self, hashes: set[str]) -> set[str]:
        return self.objects.present(hashes) if hashes else set()

    def manifest(self, digest: str) -> Manifest:
        return Manifest.from_bytes(self.objects.read_bytes(digest), digest)

    def materialize(
        self, items: Sequence[tuple[str, Destination, bool]], advance: Advance = no_progress
    ) -> dict[str, os.stat_result]:
        def one(item: tuple[str, Destination, bool]) -> tuple[str, os.stat_result]:
            digest, to, executable = item
            dest = Path(to)
            self.objects.download_file(digest, dest)
            info = dest.stat()
            if executable:
                dest.chmod(info.st_mode | 0o111)
                info = dest.stat()
            advance(1, info.st_size)
            return os.fspath(to), info

        with ThreadPoolExecutor(UPLOAD_WORKERS) as pool:
            try:
                return dict(pool.map(one, items))
            except KeyboardInterrupt:  # start no other download (as the store's materialize)
                pool.shutdown(cancel_futures=True)
                raise
