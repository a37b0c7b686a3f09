"""How long object work reports progress: a callable told (files, bytes) done, from any
thread (a progress bar's `advance`). Its own module, so the light paths importing it do not
load the store."""

from __future__ import annotations

from collections.abc import Callable

Advance = Callable[[int, int], None]


def no_progress(files: int, nbytes: int) -> None:
    """An `Advance` that shows nothing."""
