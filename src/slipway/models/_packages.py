"""Model packages between a folder and the object store: stored as a tree, materialized into
the workspace cache and checked against their hash each time they are loaded.

A registered package is trusted as its author saved it (`vouched_types`): its bytes match the
hash the registry recorded when a principal allowed to write models logged it, so the types
its skops file needed then (or its pyfunc or torch class) are not a stranger's choice.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slipway.client import staged, write_tree
from slipway.objects import Entry, Manifest, hash_file, walk

if TYPE_CHECKING:
    from slipway.client import DataObjects


def store_package(objects: DataObjects, folder: Path) -> str:
    """Store a package folder's files and its manifest; the manifest's hash (what a version
    records as its `package_hash`)."""
    files, empty = walk(Path(folder))
    paths = [str(path) for _, path, _ in files]
    sizes = [os.stat(p).st_size for p in paths]  # noqa: PTH116
    stored = objects.store_files(paths, sizes)
    entries = tuple(
        Entry(rel, digest, size, executable)
        for (rel, _, executable), (digest, _), size in zip(files, stored, sizes, strict=True)
    )
    return objects.store_manifest(Manifest(entries, tuple(empty)))


def cached_package(objects: DataObjects, workspace: Path, package_hash: str) -> Path:
    """The package folder under `workspace/cache/models/`, materialized once and checked
    against its manifest on every call (the cache is an ordinary, writable folder)."""
    cached = workspace / "cache" / "models" / package_hash
    manifest = objects.manifest(package_hash)
    if cached.exists():
        if _matches(cached, manifest):
            return cached
        shutil.rmtree(cached)  # changed since: materialize it again
    with staged(cached) as staging:
        write_tree(objects, manifest, staging)
    return cached


def _matches(folder: Path, manifest: Manifest) -> bool:
    """Whether `folder` holds exactly the manifest's files with their content."""
    expected = {e.path: e.hash for e in manifest.entries}
    found = [p for p in folder.rglob("*") if p.is_file() or p.is_symlink()]
    if len(found) != len(expected):
        return False
    for path in found:
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink() or expected.get(rel) != hash_file(path)[0]:
            return False
    return True


def vouched_types(flavor_data: dict[str, Any]) -> list[str]:
    """What the package's author trusted by saving it: the types its skops file needed, or
    its pyfunc class."""
    if "untrusted_types" in flavor_data:
        return [str(t) for t in flavor_data["untrusted_types"]]
    if "class" in flavor_data:
        return [str(flavor_data["class"])]
    return []
