"""A persistent cache of file hashes keyed by (path, size, mtime, inode): unchanged files are
never hashed twice, so `slipway data status` over 50,000 files only stats them.

Kept in the workspace (`.slipway/cache/stats.db`, SQLite), private to this checkout. A file
modified within a moment of being hashed could keep its size and mtime (timestamps are
coarse on some filesystems), so an entry is trusted only when the file's mtime is well
before the time it was hashed, as git does with its index ("racy clean"); such a file is
hashed again next time, and trusted from then on.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

RACY_NS = 2_000_000_000  # an mtime this close to the hashing time is not trusted


@dataclass(frozen=True, slots=True)
class FileStat:
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
        # A whole folder at once: the signature of every file's stat -> the folder's hash.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS trees (path TEXT PRIMARY KEY, signature TEXT NOT NULL, "
            "hash TEXT NOT NULL) WITHOUT ROWID"
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

    def tree(self, path: str, signature: str) -> str | None:
        """The hash of folder `path` if its files' stat still has this signature."""
        row = self._db.execute(
            "SELECT hash FROM trees WHERE path = ? AND signature = ?", (path, signature)
        ).fetchone()
        return str(row[0]) if row else None

    def remember_tree(self, path: str, signature: str | None, digest: str) -> None:
        if signature is not None:
            self._db.execute(
                "INSERT OR REPLACE INTO trees VALUES (?, ?, ?)", (path, signature, digest)
            )

    def profile(self, digest: str) -> str | None:
        """A table profile (JSON) computed before for content `digest`."""
        row = self._db.execute("SELECT profile FROM profiles WHERE hash = ?", (digest,)).fetchone()
        return str(row[0]) if row else None

    def remember_profile(self, digest: str, profile: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO profiles VALUES (?, ?)", (digest, profile))

    def close(self) -> None:
        self._db.close()
