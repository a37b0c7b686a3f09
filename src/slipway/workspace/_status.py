"""What a tracked path holds now: the hash `data add` would give it, found without storing
anything (status and checkout compare it with a pointer). An untouched folder costs one
stat per file; only files the stat cache cannot vouch for are read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from slipway.objects import Entry, Manifest, hash_bytes, hash_file
from slipway.workspace import _signature as tree_signature
from slipway.workspace._pointers import data_path, read_pointer
from slipway.workspace._scan import ScannedFile, Tree, scan, stat_file
from slipway.workspace._stat_cache import Snapshot, StatCache

if TYPE_CHECKING:
    from slipway.client import DataObjects

HASH_WORKERS = 8


@dataclass(frozen=True)
class PathStatus:
    path: Path  # the tracked data, relative to the workspace root
    ref: str  # what its pointer names
    state: str  # "unchanged", "modified" or "missing"
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)


def status_of(
    root: Path, cache: StatCache, objects: Callable[[], DataObjects], pointer_file: Path
) -> PathStatus:
    """How the data of `pointer_file` differs from the version it names; `objects` is asked
    for only when a folder's files must be compared with that version's manifest."""
    pointer = read_pointer(pointer_file)
    target = data_path(pointer_file)
    rel = target.relative_to(root)
    if not target.exists():
        return PathStatus(rel, pointer.ref, "missing")
    current = state_of(cache, target)
    if current.hash == pointer.hash:
        return PathStatus(rel, pointer.ref, "unchanged")
    if pointer.kind == "file" or current.hash_of is None:
        return PathStatus(rel, pointer.ref, "modified", modified=[target.name])
    old = {e.path: e.hash for e in objects().manifest(pointer.hash).entries}
    new = current.hash_of()
    return PathStatus(
        rel,
        pointer.ref,
        "modified",
        added=sorted(new.keys() - old.keys()),
        removed=sorted(old.keys() - new.keys()),
        modified=sorted(p for p in new.keys() & old.keys() if new[p] != old[p]),
    )


@dataclass(frozen=True)
class Current:
    hash: str
    hash_of: Callable[[], dict[str, str]] | None  # for a folder: rel path -> file hash


def state_of(cache: StatCache, target: Path) -> Current:
    """The hash `add` would give `target` now; for a folder, also its files' hashes."""
    if target.is_file():
        stat = stat_file(target)
        digest = cache.lookup([stat], stat.path).get(stat.path)
        if digest is None:
            [digest] = hash_files([stat.path])
            cache.record([(stat, digest)])
        return Current(digest, None)
    signature = tree_signature.of_disk(str(target))
    if signature is not None:
        unchanged = cache.unchanged(str(target), *signature)
        if unchanged is not None:  # nothing moved since the snapshot: nothing more to read
            return Current(unchanged, lambda: compare(cache, target, scan(target))[1])
    tree = scan(target)
    snapshot, hashes, todo = compare(cache, target, tree)
    if (
        snapshot is not None
        and not todo
        and len(hashes) == len(snapshot.files)
        and tree.empty_dirs == snapshot.empty_dirs
    ):
        return Current(snapshot.tree_hash, lambda: hashes)
    digests = hash_files([f.stat.path for f in todo])
    hashes.update((f.rel, digest) for f, digest in zip(todo, digests, strict=True))
    entries = [Entry(f.rel, hashes[f.rel], f.stat.size, f.executable) for f in tree.files]
    digest = hash_bytes(Manifest(tuple(entries), tuple(tree.empty_dirs)).to_bytes())
    return Current(digest, lambda: hashes)


def compare(
    cache: StatCache, target: Path, tree: Tree
) -> tuple[Snapshot | None, dict[str, str], list[ScannedFile]]:
    """rel -> hash of the files the folder's snapshot vouches for; the files it cannot."""
    snapshot = cache.snapshot(str(target))
    if snapshot is None:
        return None, {}, list(tree.files)
    return snapshot, *snapshot.vouch(tree.files)


def hash_files(paths: list[str]) -> list[str]:
    """Each file's hash, read by a few threads (blake3 lets go of the GIL)."""
    if not paths:
        return []
    if len(paths) == 1:
        return [hash_file(Path(paths[0]))[0]]
    from concurrent.futures import ThreadPoolExecutor  # here: most calls hash nothing

    with ThreadPoolExecutor(HASH_WORKERS) as pool:
        return list(pool.map(lambda path: hash_file(Path(path))[0], paths))
