"""Moving files and folders to and from the object store through operations.

The same code serves embedded and remote mode: hashes are computed here, only missing objects
are uploaded, and everything downloaded is verified before it replaces a file.
"""

from __future__ import annotations

import io
import os
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

from slipway.errors import IntegrityError, InvalidInput
from slipway.objects import Entry, Manifest, hash_bytes, hash_file, hasher, safe_relpath, walk
from slipway.services.blobs.schemas import GcRequest, GcResult, HashList, StoredObject

if TYPE_CHECKING:
    from slipway.client._backends import Backend


# Digests this client stored or saw stored, oldest forgotten first past this many.
REMEMBERED = 4096
CHUNK = 4 << 20


class ObjectsClient:
    """The object operations of one client; the one place it remembers what is stored."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        # An object stored once is nearly always still there, so this client need not ask
        # again about one it stored or saw stored: each run start stores the same package
        # list, for instance. Should it be gone (collected as garbage, a store restored from
        # backup), recording it fails with NotFound and the caller stores it again (`forget`).
        self._stored: dict[str, None] = {}
        self._lock = threading.Lock()

    def missing(self, hashes: list[str]) -> set[str]:
        """Which of `hashes` the store lacks (asked of the store, whatever this client knows)."""
        found = cast(HashList, self._backend.call("missing_objects", body=HashList(hashes=hashes)))
        absent = set(found.hashes)
        self._remember(h for h in hashes if h not in absent)
        return absent

    def present(self, hashes: Iterable[str]) -> set[str]:
        """Which of `hashes` the store holds: those this client knows of, and those it says."""
        wanted = set(hashes)
        with self._lock:
            known = {h for h in wanted if h in self._stored}
        unknown = sorted(wanted - known)
        return known | (set(unknown) - self.missing(unknown) if unknown else set())

    def upload(self, digest: str, data: BinaryIO) -> StoredObject:
        stored = cast(StoredObject, self._backend.call("upload_object", digest=digest, data=data))
        self._remember([digest])
        return stored

    def upload_bytes(self, data: bytes) -> StoredObject:
        """Store `data` unless this client knows it is stored already."""
        digest = hash_bytes(data)
        if not self.present([digest]):
            self.upload(digest, io.BytesIO(data))
        return StoredObject(hash=digest, size=len(data))

    def forget(self, digest: str) -> None:
        """Ask the store again next time: it no longer has `digest`."""
        with self._lock:
            self._stored.pop(digest, None)

    def _remember(self, digests: Iterable[str]) -> None:
        with self._lock:
            for digest in digests:
                self._stored[digest] = None
            while len(self._stored) > REMEMBERED:
                del self._stored[next(iter(self._stored))]

    def upload_path(self, path: Path) -> tuple[str, int, bool]:
        """Store a file or a folder; returns (hash, size, is_dir). Present objects are skipped."""
        if path.is_file():
            digest, size = hash_file(path)
            if self.missing([digest]):
                with path.open("rb") as f:
                    self.upload(digest, f)
            return digest, size, False
        if not path.is_dir():
            raise InvalidInput(f"{path} is neither a file nor a folder")
        files, empty = walk(path)
        hashed = [(rel, full, exe, *hash_file(full)) for rel, full, exe in files]
        todo = self.missing(sorted({h for *_, h, _ in hashed}))
        for _, full, _, digest, _ in hashed:
            if digest in todo:
                with full.open("rb") as f:
                    self.upload(digest, f)
                todo.discard(digest)
        manifest = Manifest(
            tuple(Entry(rel, digest, size, exe) for rel, _, exe, digest, size in hashed),
            tuple(empty),
        )
        stored = self.upload_bytes(manifest.to_bytes())
        return stored.hash, manifest.size, True

    def open(self, digest: str) -> BinaryIO:
        return cast(BinaryIO, self._backend.call("download_object", digest=digest))

    def read_bytes(self, digest: str) -> bytes:
        with self.open(digest) as reader:
            data = reader.read()
        if hash_bytes(data) != digest:
            raise IntegrityError(f"object {digest} arrived corrupt; nothing was written")
        return data

    def download_file(self, digest: str, dest: Path) -> None:
        """Write object `digest` to `dest`, replacing it only once the bytes are verified."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.tmp"
        try:
            h = hasher()
            with self.open(digest) as reader, tmp.open("xb") as out:
                while chunk := reader.read(CHUNK):
                    h.update(chunk)
                    out.write(chunk)
            if h.hexdigest() != digest:
                raise IntegrityError(f"object {digest} arrived corrupt; {dest} was left as it was")
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    def download_tree(self, digest: str, dest: Path) -> Manifest:
        manifest = Manifest.from_bytes(self.read_bytes(digest), digest)
        root = dest.resolve()
        for entry in manifest.entries:
            target = root / safe_relpath(entry.path)
            self.download_file(entry.hash, target)
            if entry.executable:
                target.chmod(target.stat().st_mode | 0o111)
        for folder in manifest.empty_dirs:
            (root / safe_relpath(folder)).mkdir(parents=True, exist_ok=True)
        return manifest

    def collect_garbage(self, *, dry_run: bool = True, grace_s: int = 3600) -> GcResult:
        """Remove (or, in a dry run, count) what no version, artifact or model needs."""
        request = GcRequest(dry_run=dry_run, grace_s=grace_s)
        return cast(GcResult, self._backend.call("collect_garbage", body=request))
