"""A local folder backend using plain `os` calls: fsync, then rename into place."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from slipway.errors import NotFound, Unavailable

TMP_DIRNAME = "tmp"


class LocalTempObject:
    def __init__(self, backend: LocalBackend) -> None:
        self._backend = backend
        self.path = backend.root / TMP_DIRNAME / uuid.uuid4().hex
        self.file: BinaryIO = self.path.open("xb+")  # + : large copies are hashed read back

    def commit(self, key: str) -> bool:
        final = self._backend.path(key)
        self.file.flush()
        # Durable before visible: a crash after the rename must not leave an empty object.
        os.fsync(self.file.fileno())
        self.file.close()
        if final.exists():
            self.path.unlink(missing_ok=True)
            return False
        final.parent.mkdir(exist_ok=True)
        os.replace(self.path, final)
        _fsync_dir(final.parent)
        return True

    def abort(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


class LocalBackend:
    """Objects under `root/ab/cdef...`, temporaries under `root/tmp/` on the same filesystem."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = f"file://{root}"
        try:
            (root / TMP_DIRNAME).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise Unavailable(f"cannot create the object store folder {root}: {exc}") from None

    def path(self, key: str) -> Path:
        return self.root / key

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"object {key} is not in {self.url}") from None

    def open_read(self, key: str) -> BinaryIO:
        try:
            return self.path(key).open("rb")
        except FileNotFoundError:
            raise NotFound(f"object {key} is not in {self.url}") from None

    def begin_write(self) -> LocalTempObject:
        return LocalTempObject(self)

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def iter_keys(self) -> Iterator[str]:
        for shard in sorted(os.scandir(self.root), key=lambda e: e.name):
            if shard.name == TMP_DIRNAME or not shard.is_dir() or len(shard.name) != 2:
                continue
            for entry in sorted(os.scandir(shard.path), key=lambda e: e.name):
                if entry.is_file():
                    yield f"{shard.name}/{entry.name}"

    def list_folder(self, folder: str) -> list[str]:
        try:
            return sorted(e.name for e in os.scandir(self.root / folder) if e.is_file())
        except FileNotFoundError:
            return []

    def local_path(self, key: str) -> Path | None:
        return self.path(key)

    def ping(self) -> None:
        probe = self.root / TMP_DIRNAME / f"ping-{uuid.uuid4().hex}"
        try:
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise Unavailable(f"cannot write to the object store {self.url}: {exc}") from None

    def close(self) -> None:
        pass


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem allows fsync on a directory
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
