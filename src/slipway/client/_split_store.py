"""Storing many small files from two processes at once.

Storing a small file is a few syscalls and a hash, most of it Python's own time, so one
process keeps one core busy while the other idles (the metadata helper only needs it for
its first half second). For a large batch the CLI forks a child that stores the second half
of the files (contiguous, so each folder's files stay together in packs) while this process
stores the first; the child sends back each file's hash. Packs are written under unique
names and published by rename, so two writers in one store need no coordination. Content
found in both halves is stored twice (once per half) and counted once. If the child fails,
this process stores its half too.
"""

from __future__ import annotations

import marshal
import os
from collections.abc import Callable

from slipway.client._fork import fork
from slipway.objects._progress import Advance, no_progress

SPLIT_FROM = 4_000  # files: below this a fork costs more than it saves
MARSHAL_VERSION = 4

StoreFiles = Callable[[list[str], list[int], Advance], list[tuple[str, bool]]]


class SplitStore:
    """Started before any progress bar runs (its thread would make forking unsafe): the
    child is forked at once; `finish` stores this process's half and gathers the child's."""

    def __init__(self, store_files: StoreFiles, paths: list[str], sizes: list[int]) -> None:
        half = len(paths) // 2
        self._store_files = store_files
        self._mine = paths[:half], sizes[:half]
        self._theirs = paths[half:], sizes[half:]
        self._child = _Child.start(store_files, *self._theirs)

    def finish(self, advance: Advance) -> list[tuple[str, bool]]:
        """(hash, newly stored) per file, in order, as `store_files` would give them."""
        mine = self._store_files(*self._mine, advance)
        theirs = self._child.result() if self._child is not None else None
        paths, sizes = self._theirs
        if theirs is None or len(theirs) != len(paths):
            theirs = self._store_files(paths, sizes, advance)
        else:
            advance(len(paths), sum(sizes))
        stored_here = {digest for digest, created in mine if created}
        return mine + [(digest, made and digest not in stored_here) for digest, made in theirs]


class _Child:
    def __init__(self, pid: int, read_fd: int) -> None:
        self.pid, self.read_fd = pid, read_fd

    @classmethod
    def start(cls, store_files: StoreFiles, paths: list[str], sizes: list[int]) -> _Child | None:
        read_fd, write_fd = os.pipe()

        def child() -> None:
            os.close(read_fd)
            stored = store_files(paths, sizes, no_progress)  # the parent counts them at the end
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(marshal.dumps(stored, MARSHAL_VERSION))

        pid = fork(child)
        os.close(write_fd)
        if pid is None:
            os.close(read_fd)
            return None
        return cls(pid, read_fd)

    def result(self) -> list[tuple[str, bool]] | None:
        """What the child stored, or None if it failed (the caller then stores its half:
        whatever went wrong there happens again where it can be reported)."""
        with os.fdopen(self.read_fd, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0 or not data:
            return None
        stored = marshal.loads(data)  # noqa: S302 (our own child, a private pipe)
        return [(str(digest), bool(created)) for digest, created in stored]
