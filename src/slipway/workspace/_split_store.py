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

from collections.abc import Callable

from slipway.client._fork import fork_value
from slipway.objects._progress import Advance, no_progress

SPLIT_FROM = 4_000  # files: below this a fork costs more than it saves

StoreFiles = Callable[[list[str], list[int], Advance], list[tuple[str, bool]]]


class SplitStore:
    """Started before any progress bar runs (its thread would make forking unsafe): the
    child is forked at once; `finish` stores this process's half and gathers the child's."""

    def __init__(self, store_files: StoreFiles, paths: list[str], sizes: list[int]) -> None:
        half = len(paths) // 2
        self._store_files = store_files
        self._mine = paths[:half], sizes[:half]
        self._theirs = paths[half:], sizes[half:]
        self._child = fork_value(lambda: store_files(*self._theirs, no_progress))

    def finish(self, advance: Advance) -> list[tuple[str, bool]]:
        """(hash, newly stored) per file, in order, as `store_files` would give them."""
        mine = self._store_files(*self._mine, advance)
        # If the child failed, its half is stored here: what went wrong happens again
        # where it can be reported.
        stored = self._child.result() if self._child is not None else None
        paths, sizes = self._theirs
        if stored is None or len(stored) != len(paths):
            theirs = self._store_files(paths, sizes, advance)
        else:
            theirs = [(str(digest), bool(created)) for digest, created in stored]
            advance(len(paths), sum(sizes))
        stored_here = {digest for digest, created in mine if created}
        return mine + [(digest, made and digest not in stored_here) for digest, made in theirs]
