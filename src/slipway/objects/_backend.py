"""The object backend protocol: keys in, bytes out, atomic publish. Hashing lives above it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol


class TempObject(Protocol):
    """A write in progress under a temporary name; never visible under a final key until commit."""

    file: BinaryIO

    def commit(self, key: str) -> bool:
        """Publish under `key`; return False (and discard) if `key` already exists."""

    def abort(self) -> None: ...


class ObjectBackend(Protocol):
    url: str

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def open_read(self, key: str) -> BinaryIO: ...

    def begin_write(self) -> TempObject: ...

    def delete(self, key: str) -> None: ...

    def iter_keys(self) -> Iterator[str]:
        """Keys of published loose objects (never temporaries, never packs)."""

    def list_folder(self, folder: str) -> list[str]:
        """Names of the files directly in `folder` (e.g. "packs"); empty if it does not exist."""

    def local_path(self, key: str) -> Path | None:
        """The file holding `key` when the backend is a local folder, for linking."""

    def ping(self) -> None: ...

    def close(self) -> None: ...
