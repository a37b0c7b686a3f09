"""A data folder's stat signature, for `slipway data status` on a folder nothing touched.

The signature digests every file's name, size, mtime, inode and owner-execute bit, folder by
folder, and the folders themselves: equal signatures mean no file was touched since it was
taken (the stat cache's snapshot records the one taken at add or checkout). Taking it from
the disk needs no per-file objects, only one `stat` per file: on a folder of 50,000 files,
that `stat` is most of a no-op status.

`of_tree` computes the same signature from a full scan (`Tree`), so the two must build the
same rows: (name, size, mtime_ns, inode, 0o100 or 0) per file, sorted by name, per folder.
"""

from __future__ import annotations

import marshal
import os
import stat

from slipway.objects import hash_bytes
from slipway.workspace._scan import SKIPPED, Tree

MARSHAL_VERSION = 2  # no back-references: the bytes depend only on the values
_EXECUTABLE = stat.S_IXUSR


class _NotPlain(Exception):
    """A symlink or special file: the full scan decides what to do with it."""


# folder rel path ("" = root) -> (digest of its own files, their newest mtime, whether it holds
# anything at all: a folder that does not is one of a manifest's empty folders)
Folders = dict[str, tuple[str, int, bool]]
# A file as the digest sees it: (name, size, mtime_ns, inode, owner-execute bit)
Row = tuple[str, int, int, int, int]


def of_disk(root: str) -> tuple[str, int] | None:
    """(signature, newest mtime) of the folder `root` as it is now; None if it holds anything
    but regular files and folders (symlinks: the full scan handles those)."""
    folders = folders_on_disk(root)
    return None if folders is None else combine(folders)


def folders_on_disk(root: str, rows: dict[str, list[Row]] | None = None) -> Folders | None:
    """Each folder's digest under `root` as it is now; None as for `of_disk`. `rows`, when
    given, gets each folder's files as they were stat'ed (sorted by name)."""
    folders: Folders = {}
    try:
        _walk(root, "", folders, rows)
    except _NotPlain:
        return None
    digest, newest, _ = folders[""]
    folders[""] = (digest, newest, True)  # the tracked folder itself is never "empty"
    return folders


def of_tree(tree: Tree) -> tuple[str, int]:
    """The signature `of_disk` gives the folder `tree` was scanned from, while untouched."""
    return combine(folders_of_tree(tree))


def folders_of_tree(tree: Tree) -> Folders:
    """What `folders_on_disk` gives the folder `tree` was scanned from, while untouched."""
    rows: dict[str, list[Row]] = {"": []}
    for folder in tree.empty_dirs:
        _add_folder(rows, folder)
    for f in tree.files:
        folder, _, name = f.rel.rpartition("/")
        if folder not in rows:
            _add_folder(rows, folder)
        bit = _EXECUTABLE if f.executable else 0
        rows[folder].append((name, f.stat.size, f.stat.mtime_ns, f.stat.inode, bit))
    empty = set(tree.empty_dirs)
    return {folder: (*_digest(found), folder not in empty) for folder, found in rows.items()}


def _add_folder(rows: dict[str, list[Row]], folder: str) -> None:
    """A folder and its parents, each with no files yet."""
    while folder and folder not in rows:
        rows[folder] = []
        folder = folder.rpartition("/")[0]


def _walk(path: str, rel: str, folders: Folders, rows: dict[str, list[Row]] | None) -> None:
    try:
        entries = list(os.scandir(path))
    except OSError:
        raise _NotPlain from None
    found: list[Row] = []
    for entry in entries:
        name = entry.name
        if name in SKIPPED:
            continue
        if entry.is_file(follow_symlinks=False):
            info = entry.stat(follow_symlinks=False)
            bit = info.st_mode & _EXECUTABLE
            found.append((name, info.st_size, info.st_mtime_ns, info.st_ino, bit))
        elif entry.is_dir(follow_symlinks=False):
            _walk(entry.path, f"{rel}/{name}" if rel else name, folders, rows)
        else:
            raise _NotPlain
    folders[rel] = (*_digest(found), bool(entries))
    if rows is not None:
        rows[rel] = found


def _digest(rows: list[Row]) -> tuple[str, int]:
    rows.sort()
    newest = max((row[2] for row in rows), default=0)
    return hash_bytes(marshal.dumps(rows, MARSHAL_VERSION)), newest


def combine(folders: Folders) -> tuple[str, int]:
    """The signature of a whole tree from its folders' digests."""
    listing = sorted((rel, folder[0]) for rel, folder in folders.items())
    newest = max(folder[1] for folder in folders.values())
    return hash_bytes(marshal.dumps(listing, MARSHAL_VERSION)), newest
