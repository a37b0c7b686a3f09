"""Directory trees as manifest objects: a sorted, canonical JSON list of entries."""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slipway.errors import IntegrityError, InvalidInput
from slipway.objects._hashing import check_hash

FORMAT = "slipway.manifest/1"


@dataclass(frozen=True, slots=True)
class Entry:
    path: str  # POSIX, relative to the tree root
    hash: str
    size: int
    executable: bool = False


@dataclass(frozen=True, slots=True)
class Manifest:
    entries: tuple[Entry, ...]
    empty_dirs: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)

    def to_bytes(self) -> bytes:
        # Dicts built by hand with their keys in sorted order, so json needs no sort_keys:
        # dataclasses.asdict deep-copies, and both took long on 50,000 entries.
        body = {
            "empty_dirs": sorted(self.empty_dirs),
            "entries": [
                {"executable": e.executable, "hash": e.hash, "path": e.path, "size": e.size}
                for e in sorted(self.entries, key=lambda e: e.path)
            ],
            "format": FORMAT,
        }
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes, digest: str) -> Manifest:
        try:
            body: dict[str, Any] = json.loads(data)
            if body.get("format") != FORMAT:
                raise ValueError("not a manifest")
            rows = body["entries"]
            paths = [e["path"] for e in rows]
            hashes = [e["hash"] for e in rows]
            dirs = body.get("empty_dirs", [])
            # Checked in bulk (one regex over all paths, one over all hashes): 50,000 entries
            # are read on every status, checkout and version record.
            _check_paths([*paths, *dirs])
            _check_hashes(hashes)
            entries = tuple(
                Entry(path, digest_, int(e["size"]), bool(e["executable"]))
                for path, digest_, e in zip(paths, hashes, rows, strict=True)
            )
        except (ValueError, KeyError, TypeError, InvalidInput) as exc:
            raise IntegrityError(
                f"object {digest} is not a valid directory manifest: {exc}"
            ) from None
        return cls(entries, tuple(dirs))


def _check_paths(paths: list[Any]) -> None:
    if not all(isinstance(p, str) for p in paths):
        raise InvalidInput("a path in the tree is not text")
    joined = "\x00".join(paths)
    if paths and (joined.count("\x00") != len(paths) - 1 or _BAD_PATHS.search(joined)):
        bad = next(p for p in paths if _BAD_PATHS.search(p) or not p or "\x00" in p)
        safe_relpath(bad)  # raises with the message for that path
        raise InvalidInput(f"invalid path in tree: {bad!r}")


def _check_hashes(hashes: list[Any]) -> None:
    if not all(isinstance(h, str) for h in hashes):
        raise InvalidInput("a hash in the tree is not text")
    if hashes and not _HASHES.fullmatch("\n".join(hashes)):
        for value in hashes:
            _hash(value)


def safe_relpath(value: str) -> str:
    """A relative POSIX path that stays inside its root (no '..', no absolute, no empty parts)."""
    if not isinstance(value, str) or not value or "\x00" in value or "\\" in value:
        raise InvalidInput(f"invalid path in tree: {value!r}")
    # Plain string checks: a manifest of 50,000 entries is checked on every read.
    if value.startswith("/") or not _NOT_NAMES.isdisjoint(value.split("/")):
        raise InvalidInput(f"path {value!r} escapes its folder or is not normalized")
    return value


_NOT_NAMES = frozenset({"", ".", ".."})
_HASH = re.compile(r"[0-9a-f]{64}")
_HASHES = re.compile(r"[0-9a-f]{64}(?:\n[0-9a-f]{64})*")
# In NUL-joined paths: an empty path or part, a "." or ".." part, a leading "/", a backslash.
_BAD_PATHS = re.compile(r"(?:^|\x00)(?:/|\x00|$)|(?:^|/|\x00)\.{1,2}(?:/|\x00|$)|//|/(?:\x00|$)|\\")


def _hash(value: Any) -> str:
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        check_hash(value)  # raises with the usual message
    return str(value)


def walk(root: Path) -> tuple[list[tuple[str, Path, bool]], list[str]]:
    """Files (relative path, absolute path, executable) and empty folders under `root`.

    Symlinks to files inside `root` are stored as their content; a symlink leading outside
    `root`, or to a folder, is refused, so a tree never captures data it does not own.
    """
    files: list[tuple[str, Path, bool]] = []
    empty: list[str] = []
    resolved_root = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        for name in dirnames:
            if (here / name).is_symlink():
                raise InvalidInput(f"{here / name} is a symlink to a folder; these are not stored")
        dirnames.sort()
        for name in sorted(filenames):
            full = here / name
            if full.is_symlink() and not full.resolve().is_relative_to(resolved_root):
                raise InvalidInput(f"{full} links outside {root}; copy the data in instead")
            info = full.stat()
            if not stat.S_ISREG(info.st_mode):
                raise InvalidInput(f"{full} is not a regular file")
            rel = full.relative_to(root).as_posix()
            files.append((rel, full, bool(info.st_mode & stat.S_IXUSR)))
        if not dirnames and not filenames and here != root:
            empty.append(here.relative_to(root).as_posix())
    return files, empty
