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
from typing import NamedTuple

RACY_NS = 2_000_000_000  # an mtime this close to the hashing time is not trusted
FINE_RACY_NS = 50_000_000  # the same where timestamps have sub-second precision


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
        # A folder at once (one row, read in one go): what it held when last added or checked
        # out, every object of which is in the store. JSON: {b: mtimes trusted before, h: hash,
        # d: empty folders, then one list per column, a file per index: r: rel paths, s: sizes,
        # m: mtime_ns, i: inodes, x: hashes}.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS folders (root TEXT PRIMARY KEY, signature TEXT NOT NULL, "
            "tree_hash TEXT NOT NULL, trusted_before INTEGER NOT NULL, data TEXT NOT NULL) "
            "WITHOUT ROWID"
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

    def snapshot(self, root: str) -> Snapshot | None:
        """What a folder held when it was last added or checked out, or None."""
        row = self._db.execute("SELECT data FROM folders WHERE root = ?", (root,)).fetchone()
        if row is None:
            return None
        body = json.loads(row[0])
        if "r" not in body:
            return None  # written by an earlier Slipway, as rows: taken again at the next add
        fields = zip(body["s"], body["m"], body["i"], body["x"], strict=True)
        return Snapshot(dict(zip(body["r"], fields, strict=True)), body["d"], body["h"], body["b"])

    def unchanged(self, root: str, signature: str, newest_mtime_ns: int) -> str | None:
        """The folder's hash if its stat signature is the snapshot's and no file is too new
        to trust: a no-op status reads one short row, not the whole snapshot."""
        row = self._db.execute(
            "SELECT signature, tree_hash, trusted_before FROM folders WHERE root = ?", (root,)
        ).fetchone()
        if row is None or row[0] != signature or newest_mtime_ns >= row[2]:
            return None
        return str(row[1])

    def save_snapshot(
        self,
        root: str,
        files: Iterable[tuple[str, int, int, int, str]],
        empty_dirs: list[str],
        tree_hash: str,
        signature: str,
    ) -> None:
        """Remember a folder's files (rel, size, mtime_ns, inode, hash), all in the store."""
        rows = list(files)
        # On a filesystem with sub-second timestamps a write after our stat moves the mtime
        # by more than a few ms; on one with whole seconds, allow the full racy window.
        fine = any(row[2] % 1_000_000_000 for row in rows[:256])
        trusted_before = time.time_ns() - (FINE_RACY_NS if fine else RACY_NS)
        # In columns: JSON reads and writes flat lists of 50,000 values twice as fast as
        # 50,000 small lists.
        columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(5)]
        rels, sizes, mtimes, inodes, hashes = columns
        body = {"b": trusted_before, "h": tree_hash, "d": empty_dirs, "r": rels, "s": sizes}
        body |= {"m": mtimes, "i": inodes, "x": hashes}
        data = json.dumps(body, separators=(",", ":"))
        self._db.execute(
            "INSERT OR REPLACE INTO folders VALUES (?, ?, ?, ?, ?)",
            (root, signature, tree_hash, trusted_before, data),
        )

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
