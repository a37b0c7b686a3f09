"""BLAKE3 content hashes, computed in a streaming pass with constant memory."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import blake3

from slipway.errors import IntegrityError, InvalidInput

CHUNK = 4 << 20  # large enough for blake3's threads to help, small enough to stay flat in RAM
_HEX = re.compile(r"[0-9a-f]{64}")


Hasher = blake3.blake3


def hasher() -> Hasher:
    return blake3.blake3(max_threads=blake3.blake3.AUTO)


def hash_bytes(data: bytes) -> str:
    return str(blake3.blake3(data).hexdigest())


def hash_file(path: Path) -> tuple[str, int]:
    h, size = hasher(), 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return str(h.hexdigest()), size


def check_hash(value: str) -> str:
    """Reject anything but a 64-hex digest: hashes become paths, so this blocks traversal."""
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise InvalidInput(f"{value!r} is not an object hash (64 lowercase hex characters)")
    return value


def check_hashes(values: Iterable[str]) -> list[str]:
    """`check_hash` for many at once (50,000 one by one took 35 ms of every push, a regex
    over them joined 25 ms); the first bad one raises as `check_hash` would."""
    found = list(values)
    if not _all_hex64(found):
        for value in found:
            check_hash(value)
    return found


def _all_hex64(values: list[str]) -> bool:
    """Whether every value is 64 lowercase hex digits, by C-level calls on them joined:
    each is a str of 64 characters; `bytes.fromhex` reads hex digits and skips whitespace,
    so 32 bytes from each means hex digits only; and none is upper case."""
    if not all(type(v) is str for v in values) or set(map(len, values)) - {64}:
        return False
    joined = "".join(values)
    try:
        read = len(bytes.fromhex(joined))
    except ValueError:
        return False
    return read == 32 * len(values) and joined == joined.lower()


def key_of(digest: str) -> str:
    return f"{digest[:2]}/{digest[2:]}"


class VerifyingReader:
    """Reads an object and checks its hash at end of stream: corruption raises IntegrityError."""

    def __init__(self, raw: BinaryIO, digest: str, where: str) -> None:
        self._raw = raw
        self._digest = digest
        self._where = where
        self._hasher = hasher()
        self._checked = False

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if data:
            self._hasher.update(data)
        elif not self._checked:
            self._checked = True
            actual = self._hasher.hexdigest()
            if actual != self._digest:
                raise IntegrityError(
                    f"object {self._digest} in {self._where} is corrupt (its content hashes to "
                    f"{actual}); restore it from a remote or delete it and add the data again"
                )
        return data

    def readall(self) -> bytes:
        parts = []
        while chunk := self.read(CHUNK):
            parts.append(chunk)
        self.read()
        return b"".join(parts)

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> VerifyingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
