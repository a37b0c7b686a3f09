"""Garbage collection: remove from a store what no live object needs.

The caller names the live objects (what the metadata store references). Everything else that
is older than a grace period goes: a client may have stored objects a moment ago and not yet
recorded the version or artifact that names them. Removed are unreferenced loose objects,
packs with no live object (index first, then pack, so no reader sees an index without its
pack), packs mostly dead (their live objects are first written into a new pack, which is
published before the old one is removed), packs left without an index by an interrupted
writer, and stale temporaries. A dry run reports the same numbers and changes nothing.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slipway.errors import IntegrityError
from slipway.objects._backend import ObjectBackend
from slipway.objects._hashing import hash_bytes
from slipway.objects._local import TMP_DIRNAME, LocalBackend
from slipway.objects._pack import (
    PACK_DIR,
    PACK_TARGET,
    PackedObject,
    PackWriter,
    decode_index,
    index_key,
    pack_key,
)
from slipway.objects._store import ObjectStore

# A pack whose dead bytes exceed this share of it is rewritten with its live objects only.
REPACK_DEAD_SHARE = 0.5
_LOOSE = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{62}$")
_PACK_FILE = re.compile(r"^packs/([0-9a-f]{64})\.(pack|idx)$")


@dataclass
class GcReport:
    dry_run: bool
    grace_s: int
    live: int = 0  # live objects the store holds
    missing: int = 0  # live objects it lacks (never pulled here, or lost)
    loose: int = 0  # unreferenced loose objects removed
    loose_bytes: int = 0
    packs: int = 0  # packs removed whole (no live object in them)
    pack_objects: int = 0
    pack_bytes: int = 0
    repacked: int = 0  # packs rewritten with their live objects only
    repacked_objects: int = 0  # dead objects dropped by that
    repacked_bytes: int = 0  # bytes freed by that
    new_packs: int = 0
    orphans: int = 0  # packs without an index (an interrupted writer)
    orphan_bytes: int = 0
    temporaries: int = 0
    temporary_bytes: int = 0
    recent: int = 0  # unreferenced objects kept because they are newer than the grace period

    @property
    def objects(self) -> int:
        return self.loose + self.pack_objects + self.repacked_objects

    @property
    def bytes(self) -> int:
        return (
            self.loose_bytes
            + self.pack_bytes
            + self.repacked_bytes
            + self.orphan_bytes
            + self.temporary_bytes
        )


@dataclass(frozen=True)
class _File:
    size: int
    mtime: float | None  # None when the backend cannot tell: such a file is never removed


def collect_garbage(
    store: ObjectStore,
    live: set[str],
    *,
    grace_s: int = 3600,
    dry_run: bool = True,
    now: float | None = None,
) -> GcReport:
    """Remove (or with `dry_run`, count) what `store` holds beyond `live`."""
    backend = store.backend
    report = GcReport(dry_run=dry_run, grace_s=grace_s)
    cutoff = (time.time() if now is None else now) - grace_s

    def old(item: _File) -> bool:
        return item.mtime is not None and item.mtime < cutoff

    files = dict(_inventory(backend))
    loose: dict[str, _File] = {}
    packs: dict[str, _File] = {}
    indexes: dict[str, _File] = {}
    temporaries: dict[str, _File] = {}
    for key, item in files.items():
        if _LOOSE.match(key):
            loose[key.replace("/", "")] = item
        elif match := _PACK_FILE.match(key):
            (packs if match[2] == "pack" else indexes)[match[1]] = item
        elif key.startswith(f"{TMP_DIRNAME}/"):
            temporaries[key] = item

    present: set[str] = set()
    drop_loose: list[str] = []
    for digest, item in sorted(loose.items()):
        if digest in live:
            present.add(digest)
        elif old(item):
            drop_loose.append(digest)
            report.loose += 1
            report.loose_bytes += item.size
        else:
            report.recent += 1

    drop_packs: list[str] = []
    repack: dict[str, dict[str, PackedObject]] = {}
    kept_packed: set[str] = set()  # live objects in packs that stay as they are
    for pack_id in sorted(indexes):
        if pack_id not in packs:
            continue  # an index without its pack: not ours to judge; reads report it
        with backend.open_read(index_key(pack_id)) as f:
            entries = decode_index(f.read(), pack_id)
        alive = {d: p for d, p in entries.items() if d in live}
        present.update(alive)
        item = packs[pack_id]
        if not old(item):
            report.recent += len(entries) - len(alive)
            kept_packed.update(alive)
            continue
        dead_bytes = item.size - sum(p.size for p in alive.values())
        if not alive:
            drop_packs.append(pack_id)
            report.packs += 1
            report.pack_objects += len(entries)
            report.pack_bytes += item.size + indexes[pack_id].size
        elif dead_bytes > REPACK_DEAD_SHARE * item.size:
            repack[pack_id] = alive
            report.repacked += 1
            report.repacked_objects += len(entries) - len(alive)
            report.repacked_bytes += dead_bytes
        else:
            kept_packed.update(alive)

    orphans = [p for p in sorted(packs) if p not in indexes and old(packs[p])]
    report.orphans = len(orphans)
    report.orphan_bytes = sum(packs[p].size for p in orphans)
    stale = [k for k, item in sorted(temporaries.items()) if old(item)]
    report.temporaries = len(stale)
    report.temporary_bytes = sum(temporaries[k].size for k in stale)
    report.live = len(present)
    report.missing = len(live - present)

    if dry_run:
        return report
    # Live objects kept loose or in a kept pack need no copy in the new packs.
    elsewhere = kept_packed | {d for d in present if d in loose}
    report.new_packs = _repack(store, repack, elsewhere)
    for pack_id in [*drop_packs, *repack]:
        backend.delete(index_key(pack_id))  # no reader finds it any more, then its bytes go
        store.packs.forget(pack_id)
        backend.delete(pack_key(pack_id))
    for digest in drop_loose:
        store.delete(digest)
    for pack_id in orphans:
        backend.delete(pack_key(pack_id))
    for key in stale:
        backend.delete(key)
    return report


def _repack(
    store: ObjectStore, repack: dict[str, dict[str, PackedObject]], elsewhere: set[str]
) -> int:
    """Write the live objects of `repack`'s packs into new packs; how many were published."""
    backend = store.backend
    published = 0
    writer: PackWriter | None = None
    try:
        for pack_id, alive in sorted(repack.items()):
            with backend.open_read(pack_key(pack_id)) as raw:
                for digest, found in sorted(alive.items(), key=lambda item: item[1].offset):
                    if digest in elsewhere or (writer is not None and digest in writer):
                        continue
                    raw.seek(found.offset)
                    data = raw.read(found.size)
                    if len(data) != found.size or hash_bytes(data) != digest:
                        raise IntegrityError(
                            f"object {digest} in pack {pack_id} of {store.url} is corrupt; "
                            "gc stopped before removing anything of that pack"
                        )
                    writer = writer or PackWriter(backend)
                    writer.add(digest, data)
                    if writer.size >= PACK_TARGET:
                        published += _publish(store, writer)
                        writer = None
        if writer is not None:
            published += _publish(store, writer)
            writer = None
    finally:
        if writer is not None:
            writer.abort()
    return published


def _publish(store: ObjectStore, writer: PackWriter) -> int:
    entries = writer.entries()
    pack_id = writer.finish()
    if pack_id is None:
        return 0
    store.packs.add(pack_id, {d: PackedObject(pack_id, o, s) for d, o, s in entries})
    return 1


def _inventory(backend: ObjectBackend) -> Iterator[tuple[str, _File]]:
    """Every file of the store (objects, packs, temporaries) with its size and age."""
    if isinstance(backend, LocalBackend):
        yield from _local_inventory(backend)
        return
    from slipway.objects._fsspec import FsspecBackend

    if isinstance(backend, FsspecBackend):
        prefix = backend.root + "/"
        try:
            found = backend.fs.find(backend.root, detail=True)
        except FileNotFoundError:
            return
        for path, info in found.items():
            if info.get("type", "file") == "file" and path.startswith(prefix):
                yield path[len(prefix) :], _File(int(info.get("size") or 0), _mtime(info))
        return
    # Another backend: sizes only; without an age nothing is old enough to remove.
    for key in backend.iter_keys():
        yield key, _File(backend.size(key), None)
    for folder in (PACK_DIR, TMP_DIRNAME):
        for name in backend.list_folder(folder):
            yield f"{folder}/{name}", _File(backend.size(f"{folder}/{name}"), None)


def _local_inventory(backend: LocalBackend) -> Iterator[tuple[str, _File]]:
    for top in os.scandir(backend.root):
        if not top.is_dir(follow_symlinks=False):
            continue
        for entry in os.scandir(top.path):
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed meanwhile
            if entry.is_file(follow_symlinks=False):
                yield f"{top.name}/{entry.name}", _File(info.st_size, info.st_mtime)


def _mtime(info: dict[str, Any]) -> float | None:
    for name in ("LastModified", "last_modified", "mtime", "created", "creation_time"):
        value = info.get(name)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None
