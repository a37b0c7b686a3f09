"""Moving files and folders to and from the object store through operations.

The same code serves embedded and remote mode: hashes are computed here, only missing objects
are uploaded, and everything downloaded is verified before it replaces a file.
"""

from __future__ import annotations

import io
import os
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

from slipway.errors import IntegrityError, InvalidInput
from slipway.objects import Entry, Manifest, hash_bytes, hash_file
from slipway.objects._hashing import CHUNK, hasher
from slipway.objects._manifest import safe_relpath, walk
from slipway.services.blobs.schemas import HashList, StoredObject

if TYPE_CHECKING:
    from slipway.client._backends import Backend


# Digests this client stored or saw stored, oldest forgotten first past this many.
REMEMBERED = 4096


class ObjectsClient:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        # An object stored once is nearly always still there, so `upload_bytes` need not ask
        # again about one it stored before: each run start stores the same package list, for
        # instance. Should it be gone (collected as garbage, a store restored from backup),
        # recording it fails with NotFound and the caller stores it again (`forget`).
        self._stored: dict[str, None] = {}
        self._lock = threading.Lock()

    def missing(self, hashes: list[str]) -> set[str]:
        found = cast(HashList, self._backend.call("missing_objects", body=HashList(hashes=hashes)))
        return set(found.hashes)

    def upload(self, digest: str, data: BinaryIO) -> StoredObject:
        return cast(StoredObject, self._backend.call("upload_object", digest=digest, data=data))

    def upload_bytes(self, data: bytes) -> StoredObject:
        """Store `data` unless this client knows it is stored already."""
        digest = hash_bytes(data)
        if digest not in self._stored and self.missing([digest]):
            self.upload(digest, io.BytesIO(data))
        with self._lock:
            self._stored[digest] = None
            if len(self._stored) > REMEMBERED:
                del self._stored[next(iter(self._stored))]
        return StoredObject(hash=digest, size=len(data))

    def forget(self, digest: str) -> None:
        """Ask the store again next time: it no longer has `digest`."""
        with self._lock:
            self._stored.pop(digest, None)

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
