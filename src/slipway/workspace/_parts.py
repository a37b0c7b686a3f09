"""A tracked folder's snapshot in parts, one per subfolder, so that adding it again after a
few changes touches only the subfolders that changed.

Each part holds what its subfolder's own files were when last added or checked out: their
stat and hash (to vouch for them), the folder's stat digest (the one `_tree_signature`
takes: equal means untouched), and the folder's stretch of the manifest text. A manifest is
its entries in path order, and the files of one folder usually form one unbroken stretch
of that order, so the manifest of the next version is the stretches of the untouched parts
with those of the changed ones rebuilt. Where folders' stretches interleave (`a/b/x` sorts
between `a/a` and `a/c`), `manifest_bytes` says so and the caller builds it whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

from slipway.objects import Entry, assemble, fragment

if TYPE_CHECKING:
    from slipway.workspace._scan import ScannedFile
    from slipway.workspace._signature import Folders


@dataclass(frozen=True, slots=True)
class Part:
    """One subfolder's files, enough to write its stretch of a manifest."""

    folder: str  # relative to the tracked folder, "" for itself
    digest: str  # its stat digest when recorded
    newest: int  # the newest mtime among its files then
    files: int
    size: int
    first: str  # the first and last paths of its stretch ("" when it has no files)
    last: str
    tables: list[tuple[str, str]]  # (path, hash) of its table files
    fragment: str  # its manifest stretch


Recorded = tuple[Part, str]  # a part and the JSON columns of its files' stat (`records_of`)
TABLE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".parquet", ".pq")


def is_table(name: str) -> bool:
    """Whether a file is a table `data add` profiles (CSV or Parquet, by its name)."""
    return name.lower().endswith(TABLE_SUFFIXES)


def build_parts(
    files: Sequence[ScannedFile],
    hashes: dict[str, str],
    folders: Folders,
) -> list[Recorded]:
    """Parts for `files` (all of one or more folders, every file's hash known), one per
    folder named in `folders` (the digests taken from the same stat)."""
    grouped: dict[str, list[ScannedFile]] = {folder: [] for folder in folders}
    for f in files:
        grouped[f.rel.rpartition("/")[0]].append(f)
    return [_part(name, found, hashes, folders[name]) for name, found in grouped.items()]


def _part(
    folder: str,
    files: list[ScannedFile],
    hashes: dict[str, str],
    signature: tuple[str, int, bool],
) -> Recorded:
    files = sorted(files, key=lambda f: f.rel)
    entries = [Entry(f.rel, hashes[f.rel], f.stat.size, f.executable) for f in files]
    columns = {
        "n": [f.rel.rpartition("/")[2] for f in files],
        "s": [f.stat.size for f in files],
        "m": [f.stat.mtime_ns for f in files],
        "i": [f.stat.inode for f in files],
        "x": [e.hash for e in entries],
    }
    part = Part(
        folder=folder,
        digest=signature[0],
        newest=signature[1],
        files=len(files),
        size=sum(e.size for e in entries),
        first=files[0].rel if files else "",
        last=files[-1].rel if files else "",
        tables=[(e.path, e.hash) for e in entries if is_table(e.path)],
        fragment=fragment(entries),
    )
    return part, json.dumps(columns, separators=(",", ":"))


def records_of(part_stats: str, folder: str) -> dict[str, tuple[int, int, int, str]]:
    """rel path -> (size, mtime_ns, inode, hash) as a part recorded each of its files."""
    body = json.loads(part_stats)
    prefix = f"{folder}/" if folder else ""
    fields = zip(body["s"], body["m"], body["i"], body["x"], strict=True)
    return {prefix + name: held for name, held in zip(body["n"], fields, strict=True)}


def manifest_bytes(parts: Iterable[Part], empty_dirs: Iterable[str]) -> bytes | None:
    """The manifest of the parts' files, or None where their stretches interleave."""
    stretches = sorted((p for p in parts if p.files), key=lambda p: p.first)
    if any(a.last >= b.first for a, b in pairwise(stretches)):
        return None
    return assemble([p.fragment for p in stretches], empty_dirs)


def empty_folders(folders: Folders) -> list[str]:
    """The folders that hold nothing at all (the tracked folder itself aside)."""
    return sorted(folder for folder, (_, _, holds) in folders.items() if folder and not holds)
