"""Storing a tracked path for `data add`: a file, or a folder's changed files and manifest.

When a folder was added (or checked out) before, only the subfolders whose stat digest moved
are read again: their files are compared with what their part of the snapshot recorded, the
changed ones stored, their parts rebuilt, and the manifest assembled from every part's
stretch (`_parts`). Otherwise, or when most subfolders moved, or their stretches of the
manifest interleave, or the folder holds a symlink (whose policy the full scan applies), the
whole folder is scanned and its snapshot taken again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from slipway.objects import Entry, Manifest
from slipway.workspace import _signature as tree_signature
from slipway.workspace._parts import Part, build_parts, empty_folders, is_table, manifest_bytes
from slipway.workspace._scan import ScannedFile, Tree, files_of, scan, stat_file
from slipway.workspace._stat_cache import Head, StatCache

if TYPE_CHECKING:
    from slipway.client import DataObjects
    from slipway.workspace._progress import Progress


@dataclass(frozen=True)
class Stored:
    """A tracked path as `data add` stored it."""

    object_hash: str  # a folder's manifest, or a file's content
    kind: Literal["file", "dir"]
    size: int
    files: int
    tables: list[tuple[str, str]]  # (path inside it, hash) of its table files
    hashed: int  # files read because the stat cache could not vouch for them
    stored: int  # objects the store did not have


@dataclass(frozen=True)
class Adder:
    cache: StatCache
    objects: DataObjects
    progress: Progress

    def add(self, target: Path) -> Stored:
        """Store `target` (a file or folder) and what the stat cache needs to vouch for it."""
        if not target.is_dir():
            return self._add_file(target)
        root = str(target)
        head = self.cache.head(root)  # first: with no snapshot, walking for digests is waste
        rows: dict[str, list[tree_signature.Row]] = {}
        folders = tree_signature.folders_on_disk(root, rows) if head is not None else None
        if folders is not None and head is not None:
            added = self._add_changes(target, folders, rows, head)
            if added is not None:
                return added
        return self._add_whole(target)

    def _add_file(self, target: Path) -> Stored:
        stat = stat_file(target)
        digest = self.cache.lookup([stat], stat.path).get(stat.path)
        hashed = stored = 0
        if digest is None or not self.objects.present({digest}):
            with self.progress.task("storing", 1, stat.size) as advance:
                [(stored_as, created)] = self.objects.store_files([stat.path], [stat.size], advance)
            if digest is None:
                self.cache.record([(stat, stored_as)])
                hashed = 1
            digest, stored = stored_as, int(created)
        tables = [(target.name, digest)] if is_table(target.name) else []
        return Stored(digest, "file", stat.size, 1, tables, hashed, stored)

    def _add_changes(
        self,
        target: Path,
        folders: tree_signature.Folders,
        rows: dict[str, list[tree_signature.Row]],
        head: Head,
    ) -> Stored | None:
        root = str(target)
        parts = self.cache.parts(root)
        changed = [
            folder
            for folder, (digest, newest, _) in folders.items()
            if (part := parts.get(folder)) is None
            or part.digest != digest
            or newest >= head.trusted_before
        ]
        if len(changed) * 2 > len(folders):
            return None  # most of it moved: as quick to take it whole
        files = [f for folder in changed for f in files_of(target, folder, rows[folder])]
        snapshot = self.cache.snapshot(root, changed)
        if snapshot is None:
            return None
        hashes, todo = snapshot.vouch(files)
        hashed, stored = self._store(todo, hashes)
        rebuilt = build_parts(files, hashes, {f: folders[f] for f in changed})
        moved = set(changed)
        kept = [part for folder, part in parts.items() if folder in folders and folder not in moved]
        every = kept + [part for part, _ in rebuilt]
        empty = empty_folders(folders)
        data = manifest_bytes(every, empty)
        if data is None:
            return None
        object_hash = self.objects.store_manifest_bytes(data)
        signature, _ = tree_signature.combine(folders)
        removed = [folder for folder in parts if folder not in folders]
        self.cache.save_snapshot(root, rebuilt, empty, object_hash, signature, removed=removed)
        return _folder(object_hash, every, hashed, stored)

    def _add_whole(self, target: Path) -> Stored:
        tree = scan(target)
        snapshot = self.cache.snapshot(str(target))
        hashes, todo = ({}, list(tree.files)) if snapshot is None else snapshot.vouch(tree.files)
        hashed, stored = self._store(todo, hashes)
        folders = tree_signature.folders_of_tree(tree)
        parts = build_parts(tree.files, hashes, folders)
        data = manifest_bytes([part for part, _ in parts], tree.empty_dirs)
        if data is None:
            entries = [Entry(f.rel, hashes[f.rel], f.stat.size, f.executable) for f in tree.files]
            data = Manifest(tuple(entries), tuple(tree.empty_dirs)).to_bytes()
        object_hash = self.objects.store_manifest_bytes(data)
        signature, _ = tree_signature.combine(folders)
        self.cache.save_snapshot(str(target), parts, tree.empty_dirs, object_hash, signature)
        return _folder(object_hash, [part for part, _ in parts], hashed, stored)

    def _store(self, todo: Sequence[ScannedFile], hashes: dict[str, str]) -> tuple[int, int]:
        """Store the files, adding their hashes; (files read, objects new to the store)."""
        paths, sizes = [f.stat.path for f in todo], [f.stat.size for f in todo]
        with self.progress.task("storing", len(todo), sum(sizes)) as advance:
            infos = self.objects.store_files(paths, sizes, advance)
        hashes.update((f.rel, digest) for f, (digest, _) in zip(todo, infos, strict=True))
        return len(todo), sum(1 for _, created in infos if created)


def remember_tree(
    cache: StatCache, target: Path, tree: Tree, hashes: dict[str, str], tree_hash: str
) -> None:
    """Take the snapshot of a folder as scanned (every file's hash known, all stored)."""
    folders = tree_signature.folders_of_tree(tree)
    parts = build_parts(tree.files, hashes, folders)
    signature, _ = tree_signature.combine(folders)
    cache.save_snapshot(str(target), parts, tree.empty_dirs, tree_hash, signature)


def _folder(object_hash: str, parts: list[Part], hashed: int, stored: int) -> Stored:
    return Stored(
        object_hash=object_hash,
        kind="dir",
        size=sum(p.size for p in parts),
        files=sum(p.files for p in parts),
        tables=[table for p in parts for table in p.tables],
        hashed=hashed,
        stored=stored,
    )
