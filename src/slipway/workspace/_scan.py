"""Walk a data folder fast: one `scandir` per folder and one `stat` per file, nothing more.

Symlink policy (as for run artifacts): a symlink to a file inside the tracked path is stored
as that file's content (checkout writes a regular file); a symlink leading outside it, or to
a folder, is refused, so a dataset never captures data it does not own. Anything that is not
a regular file (a socket, a FIFO) is refused too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from slipway.errors import InvalidInput
from slipway.workspace._stat_cache import FileStat

if TYPE_CHECKING:
    from slipway.workspace._signature import Row

# Never part of a dataset: Slipway's own files and VCS metadata.
SKIPPED = frozenset({".slipway", ".git", ".dvc"})


class ScannedFile(NamedTuple):
    rel: str  # POSIX path relative to the tree root
    stat: FileStat
    executable: bool


@dataclass(frozen=True, slots=True)
class Tree:
    files: list[ScannedFile]  # sorted by rel
    empty_dirs: list[str]


def scan(root: Path) -> Tree:
    """The files and empty folders under `root` (a folder), with their stat."""
    files: list[ScannedFile] = []
    empty: list[str] = []
    real_root = root.resolve()
    _scan_dir(str(root), "", real_root, files, empty)
    files.sort(key=lambda f: f.rel)
    empty.sort()
    return Tree(files, empty)


def files_of(root: Path, folder: str, rows: Iterable[Row]) -> list[ScannedFile]:
    """The files right in `root/folder` as its stat digest saw them (`_signature` rows),
    named relative to `root`: no second `stat` of a folder that walk just read."""
    prefix = f"{folder}/" if folder else ""
    where = f"{root}/{prefix}"  # as `scandir` names them: the stat cache's keys
    return [
        ScannedFile(prefix + name, FileStat(where + name, size, mtime, inode), bool(x))
        for name, size, mtime, inode, x in rows
    ]


def stat_file(path: Path) -> FileStat:
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(f"{path} is not a regular file")
    return FileStat(str(path), info.st_size, info.st_mtime_ns, info.st_ino)


def _scan_dir(
    folder: str,
    prefix: str,
    real_root: Path,
    files: list[ScannedFile],
    empty: list[str],
) -> None:
    try:
        entries = list(os.scandir(folder))
    except PermissionError as exc:
        raise InvalidInput(f"cannot read {folder}: {exc.strerror}") from None
    if not entries and prefix:
        empty.append(prefix.rstrip("/"))
    make = tuple.__new__  # NamedTuples built without their Python-level __new__: hot loop
    append = files.append
    for entry in entries:
        name = entry.name
        if name in SKIPPED:
            continue
        if entry.is_file(follow_symlinks=False):  # a regular file (the common case)
            info = entry.stat(follow_symlinks=False)
            stat_ = make(FileStat, (entry.path, info.st_size, info.st_mtime_ns, info.st_ino))
            append(make(ScannedFile, (prefix + name, stat_, bool(info.st_mode & stat.S_IXUSR))))
            continue
        rel = prefix + name
        if entry.is_symlink():
            target = Path(entry.path).resolve()
            if target.is_dir():
                raise InvalidInput(f"{entry.path} is a symlink to a folder; these are not stored")
            if not target.is_relative_to(real_root):
                raise InvalidInput(f"{entry.path} links outside the data; copy the data in instead")
            info = target.stat()
        elif entry.is_dir(follow_symlinks=False):
            _scan_dir(entry.path, rel + "/", real_root, files, empty)
            continue
        else:
            info = entry.stat(follow_symlinks=False)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInput(f"{entry.path} is not a regular file")
        append(
            ScannedFile(
                rel,
                FileStat(entry.path, info.st_size, info.st_mtime_ns, info.st_ino),
                bool(info.st_mode & stat.S_IXUSR),
            )
        )
