"""How the working copy shows long work: a task of so many files and bytes, advanced as it
goes (the CLI draws a progress bar; the SDK shows nothing)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from slipway.objects import Advance, no_progress


class Progress(Protocol):
    def task(self, label: str, files: int, nbytes: int) -> AbstractContextManager[Advance]:
        """A task of `files` files, `nbytes` bytes; the callable is told (files, bytes) done,
        from any thread."""


class NoProgress:
    """Shows nothing."""

    @contextlib.contextmanager
    def task(self, label: str, files: int, nbytes: int) -> Iterator[Advance]:
        yield no_progress
