"""A persistent cache of file hashes keyed by (path, size, mtime, inode): unchanged files are
never hashed twice, so `slipway data status` over 50,000 files only stats them. A folder's
entries are kept together as one snapshot, read in one query; single files one row each.

Kept in the workspace (`.slipway/cache/stats.db`, SQLite), private to this checkout. A file
modified within a moment of being hashed could keep its size and mtime (timestamps are
coarse on some filesystems), so an entry is trusted only when the file's mtime is well
before the time it was hashed, as git does with its index ("racy clean"); such a file is
hashed again next time, and trusted from then on.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from slipway.workspace._parts import Part, Recorded, records_of

if TYPE_CHECKING:
    from slipway.workspace._scan import ScannedFile

RACY_NS = 2_000_000_000  # an mtime this close to the hashing time is not trusted
FINE_RACY_NS = 50_000_000  # the same where timestamps have sub-second precision
PARTS_FORMAT = 2


@dataclass(frozen=True, slots=True)
class Head:
    signature: str
    tree_hash: str
    trusted_before: int  # an mtime at or after this was too close to the snapshot to trust
    empty_dirs: list[str]


@dataclass(frozen=True, slots=True)
class Snapshot:
    files: dict[str, tuple[int, int, int, str]]  # rel -> (size, mtime_ns, inode, hash)
    empty_dirs: list[str]
    tree_hash: str
    trusted_before: int  # an mtime at or after this was too close to the snapshot to trust

    def hash_of(self, rel: str, size: int, mtime_ns: int, inode: int) -> str | None:
        """The file's hash if its stat is exactly as recorded (and not racy)."""
        known = self.files.get(rel)
        if known is None or known[:3] != (size, mtime_ns, inode):
            return None
        return known[3] if mtime_ns < self.trusted_before else None

    def vouch(self, files: Iterable[ScannedFile]) -> tuple[dict[str, str], list[ScannedFile]]:
        """rel -> hash of the files this snapshot vouches for; the files it cannot."""
        hashes: dict[str, str] = {}
        todo: list[ScannedFile] = []
        for f in files:
            digest = self.hash_of(f.rel, *f.stat[1:])
            if digest is None:
                todo.append(f)
            else:
                hashes[f.rel] = digest
        return hashes, todo


class FileStat(NamedTuple):  # a tuple: 50,000 are made per scan, a frozen dataclass is slower
    path: str  # absolute
    size: int
    mtime_ns: int
    inode: int


class StatCache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS stats (path TEXT PRIMARY KEY, size INTEGER NOT NULL, "
            "mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, hash TEXT NOT NULL, "
            "checked_ns INTEGER NOT NULL) WITHOUT ROWID"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS profiles (hash TEXT PRIMARY KEY, profile TEXT NOT NULL) "
            "WITHOUT ROWID"
        )
        # Checkouts under way: a row outlives a checkout that was killed, so the next one
        # knows the half-written files there are its own to replace.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS checkouts (root TEXT PRIMARY KEY, hash TEXT NOT NULL) "
            "WITHOUT ROWID"
        )
        # A tracked folder: its stat signature and hash when last added or checked out (so a
        # no-op status reads one short row), and its empty folders ({d: [...], v: 2}); every
        # object it names is in the store. Its files are kept in parts, one per subfolder
        # (`_folder_parts`): adding it again rewrites only the parts of changed subfolders.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS folders (root TEXT PRIMARY KEY, signature TEXT NOT NULL, "
            "tree_hash TEXT NOT NULL, trusted_before INTEGER NOT NULL, data TEXT NOT NULL) "
            "WITHOUT ROWID"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS folder_parts (root TEXT NOT NULL, folder TEXT NOT NULL, "
            "digest TEXT NOT NULL, newest INTEGER NOT NULL, files INTEGER NOT NULL, "
            "size INTEGER NOT NULL, first TEXT NOT NULL, last TEXT NOT NULL, "
            "tables TEXT NOT NULL, fragment TEXT NOT NULL, stats TEXT NOT NULL, "
            "PRIMARY KEY (root, folder)) WITHOUT ROWID"
        )

    def lookup(self, files: Iterable[FileStat], under: str) -> dict[str, str]:
        """Hashes of the files whose entry matches their stat exactly: path -> hash."""
        wanted = {f.path: f for f in files}
        found: dict[str, str] = {}
        # One range read of everything under the folder beats one query per file.
        rows = self._db.execute(
            "SELECT path, size, mtime_ns, inode, hash, checked_ns FROM stats "
            "WHERE path >= ? AND path < ?",
            (under, under + "\U0010ffff"),
        )
        for path, size, mtime_ns, inode, digest, checked_ns in rows:
            stat = wanted.get(path)
            if (
                stat is not None
                and (stat.size, stat.mtime_ns, stat.inode) == (size, mtime_ns, inode)
                and mtime_ns < checked_ns - RACY_NS
            ):
                found[path] = digest
        return found

    def record(self, entries: Iterable[tuple[FileStat, str]]) -> None:
        now = time.time_ns()
        rows = [(f.path, f.size, f.mtime_ns, f.inode, digest, now) for f, digest in entries]
        if rows:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR REPLACE INTO stats VALUES (?, ?, ?, ?, ?, ?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def head(self, root: str) -> Head | None:
        """A tracked folder's snapshot without its files, or None."""
        row = self._db.execute(
            "SELECT signature, tree_hash, trusted_before, data FROM folders WHERE root = ?",
            (root,),
        ).fetchone()
        if row is None:
            return None
        body = json.loads(row[3])
        if body.get("v") != PARTS_FORMAT:
            return None  # written by an earlier Slipway: taken again at the next add
        return Head(row[0], row[1], row[2], body["d"])

    def parts(self, root: str) -> dict[str, Part]:
        """folder -> its part, without the files' stat."""
        rows = self._db.execute(
            "SELECT folder, digest, newest, files, size, first, last, tables, fragment "
            "FROM folder_parts WHERE root = ?",
            (root,),
        )
        return {
            folder: Part(folder, digest, newest, files, size, first, last, tables, fragment)
            for folder, digest, newest, files, size, first, last, listed, fragment in rows
            for tables in [[(path, held) for path, held in json.loads(listed)]]
        }

    def snapshot(self, root: str, folders: Iterable[str] | None = None) -> Snapshot | None:
        """What a folder held when it was last added or checked out, or None; of its files,
        only those right in `folders` when given."""
        head = self.head(root)
        if head is None:
            return None
        files = self._records(root, folders)
        return Snapshot(files, head.empty_dirs, head.tree_hash, head.trusted_before)

    def _records(
        self, root: str, folders: Iterable[str] | None
    ) -> dict[str, tuple[int, int, int, str]]:
        found: dict[str, tuple[int, int, int, str]] = {}
        if folders is None:
            rows = self._db.execute(
                "SELECT folder, stats FROM folder_parts WHERE root = ?", (root,)
            ).fetchall()
        else:
            rows = [
                row
                for folder in folders
                for row in self._db.execute(
                    "SELECT folder, stats FROM folder_parts WHERE root = ? AND folder = ?",
                    (root, folder),
                )
            ]
        for folder, stats in rows:
            found.update(records_of(stats, folder))
        return found

    def unchanged(self, root: str, signature: str, newest_mtime_ns: int) -> str | None:
        """The folder's hash if its stat signature is the snapshot's and no file is too new
        to trust: a no-op status reads one short row, not the whole snapshot."""
        head = self.head(root)
        if head is None or head.signature != signature or newest_mtime_ns >= head.trusted_before:
            return None
        return head.tree_hash

    def save_snapshot(
        self,
        root: str,
        parts: list[Recorded],
        empty_dirs: list[str],
        tree_hash: str,
        signature: str,
        *,
        removed: Iterable[str] | None = None,
    ) -> None:
        """Remember a folder's parts (every object they name in the store): all of them
        when `removed` is None, else these in place of their former selves, and the parts
        of the `removed` folders dropped."""
        # On a filesystem with sub-second timestamps a write after our stat moves the mtime
        # by more than a few ms; on one with whole seconds, allow the full racy window.
        fine = any(part.newest % 1_000_000_000 for part, _ in parts[:256] if part.files)
        trusted_before = time.time_ns() - (FINE_RACY_NS if fine else RACY_NS)
        data = json.dumps({"v": PARTS_FORMAT, "d": empty_dirs}, separators=(",", ":"))
        rows = [
            (root, p.folder, p.digest, p.newest, p.files, p.size, p.first, p.last, *extra)
            for p, stats in parts
            for extra in [(json.dumps(p.tables), p.fragment, stats)]
        ]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if removed is None:
                self._db.execute("DELETE FROM folder_parts WHERE root = ?", (root,))
            else:
                self._db.executemany(
                    "DELETE FROM folder_parts WHERE root = ? AND folder = ?",
                    [(root, folder) for folder in removed],
                )
            self._db.executemany(
                "INSERT OR REPLACE INTO folder_parts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self._db.execute(
                "INSERT OR REPLACE INTO folders VALUES (?, ?, ?, ?, ?)",
                (root, signature, tree_hash, trusted_before, data),
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def start_checkout(self, root: str, digest: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO checkouts VALUES (?, ?)", (root, digest))

    def checkout_started(self, root: str) -> str | None:
        """The version a checkout of `root` was writing when it was interrupted, if one was."""
        row = self._db.execute("SELECT hash FROM checkouts WHERE root = ?", (root,)).fetchone()
        return str(row[0]) if row else None

    def end_checkout(self, root: str) -> None:
        self._db.execute("DELETE FROM checkouts WHERE root = ?", (root,))

    def profile(self, digest: str) -> str | None:
        """A table profile (JSON) computed before for content `digest`."""
        row = self._db.execute("SELECT profile FROM profiles WHERE hash = ?", (digest,)).fetchone()
        return str(row[0]) if row else None

    def remember_profile(self, digest: str, profile: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO profiles VALUES (?, ?)", (digest, profile))

    def close(self) -> None:
        self._db.close()
