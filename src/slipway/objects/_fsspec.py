"""Any fsspec filesystem (s3://, gs://, az://, memory://): write a temporary key, then move.

On object stores a PUT is atomic, so a reader never sees a partial object under its final key;
the move is a server-side copy.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from slipway.config import mask_url
from slipway.errors import NotFound, Unavailable

TMP_DIRNAME = "tmp"


class FsspecTempObject:
    def __init__(self, backend: FsspecBackend) -> None:
        self._backend = backend
        self.key = f"{TMP_DIRNAME}/{uuid.uuid4().hex}"
        self.file: BinaryIO = cast(BinaryIO, backend.fs.open(backend.full(self.key), "wb"))

    def commit(self, key: str) -> bool:
        self.file.close()
        fs, tmp, final = self._backend.fs, self._backend.full(self.key), self._backend.full(key)
        if fs.exists(final):
            fs.rm(tmp)
            return False
        fs.mv(tmp, final)
        return True

    def abort(self) -> None:
        try:
            self.file.close()
        finally:
            self._backend.fs.rm(self._backend.full(self.key))


class FsspecBackend:
    def __init__(self, fs: Any, root: str, url: str) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.url = url

    def full(self, key: str) -> str:
        return f"{self.root}/{key}"

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self.full(key)))

    def size(self, key: str) -> int:
        try:
            return int(self.fs.size(self.full(key)))
        except FileNotFoundError:
            raise NotFound(f"object {key} is not in {mask_url(self.url)}") from None

    def open_read(self, key: str) -> BinaryIO:
        try:
            return cast(BinaryIO, self.fs.open(self.full(key), "rb"))
        except FileNotFoundError:
            raise NotFound(f"object {key} is not in {mask_url(self.url)}") from None

    def begin_write(self) -> FsspecTempObject:
        return FsspecTempObject(self)

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(self.full(key))

    def iter_keys(self) -> Iterator[str]:
        prefix = self.root + "/"
        try:
            found = self.fs.find(self.root)
        except FileNotFoundError:
            return
        for path in sorted(found):
            key = path[len(prefix) :] if path.startswith(prefix) else path
            shard, _, rest = key.partition("/")
            if shard != TMP_DIRNAME and len(shard) == 2 and rest and "/" not in rest:
                yield key

    def list_folder(self, folder: str) -> list[str]:
        try:
            found = self.fs.ls(self.full(folder), detail=True, refresh=True)
        except FileNotFoundError:
            return []
        return sorted(
            str(item["name"]).rstrip("/").rpartition("/")[2]
            for item in found
            if item.get("type") == "file"
        )

    def local_path(self, key: str) -> Path | None:
        return None

    def ping(self) -> None:
        probe = self.full(f"{TMP_DIRNAME}/ping-{uuid.uuid4().hex}")
        try:
            self.fs.pipe(probe, b"ok")
            self.fs.rm(probe)
        except Exception as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise Unavailable(
                f"cannot write to the object store {mask_url(self.url)}: {reason}"
            ) from None

    def close(self) -> None:
        pass
