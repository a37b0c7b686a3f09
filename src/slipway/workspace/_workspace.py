"""One working copy: the folder holding `.slipway/`, the data tracked in it by pointer files,
and the stat cache that vouches for files it has hashed before."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from slipway.config import Settings
from slipway.errors import InvalidInput
from slipway.workspace._add import Adder, Stored
from slipway.workspace._checkout import Checkout, CheckoutResult
from slipway.workspace._pointers import SUFFIX, Pointer, find_pointers, pointer_path, read_pointer
from slipway.workspace._progress import NoProgress, Progress
from slipway.workspace._stat_cache import StatCache
from slipway.workspace._status import PathStatus, status_of

if TYPE_CHECKING:
    from slipway.client import DataObjects


class Workspace:
    """The working copy the settings name. `objects` gives the object store to use; it is
    called only when a verb needs one (a status of untouched data never does)."""

    def __init__(
        self,
        settings: Settings,
        objects: Callable[[], DataObjects],
        progress: Progress | None = None,
    ) -> None:
        self.root = settings.workspace.parent
        self.own = settings.workspace  # Slipway's folder, `.slipway`
        self.objects = objects
        self.progress: Progress = progress or NoProgress()
        self._cache: StatCache | None = None

    @property
    def cache(self) -> StatCache:
        if self._cache is None:
            self._cache = StatCache(self.own / "cache" / "stats.db")
        return self._cache

    def inside(self, path: str | Path) -> Path:
        """`path` made absolute; refused if it leaves the working copy or enters `.slipway`."""
        raw = Path(path)
        full = Path(os.path.normpath(raw if raw.is_absolute() else Path.cwd() / raw))
        if not full.is_relative_to(self.root) or full == self.root:
            raise InvalidInput(f"{path} is outside the workspace {self.root}")
        if full.is_relative_to(self.own):
            raise InvalidInput(f"{path} is inside Slipway's own folder {self.own}")
        return full

    def pointers(self, paths: Sequence[str | Path] = ()) -> list[Path]:
        """The pointer files of `paths` (tracked data or the pointers themselves), or every
        pointer in the working copy."""
        if not paths:
            return find_pointers(self.root)
        found = []
        for path in paths:
            full = self.inside(path)
            pointer = full if full.name.endswith(SUFFIX) else pointer_path(full)
            if not pointer.exists():
                raise InvalidInput(
                    f"{path} is not tracked (no {pointer.name}); `slipway data add` it"
                )
            found.append(pointer)
        return found

    def pointer_of(self, target: str | Path) -> Path | None:
        """The pointer file that `target` names, or None if it names no path (a NAME@vN)."""
        text = str(target)
        raw = Path(text)
        full = Path(os.path.normpath(raw if raw.is_absolute() else Path.cwd() / raw))
        pointer = full if full.name.endswith(SUFFIX) else pointer_path(full)
        if not pointer.exists():
            if full.exists():
                raise InvalidInput(
                    f"{target} is not tracked (no {pointer.name}); `slipway data add` it"
                )
            if "@" in text or not ("/" in text or text.endswith(SUFFIX)):
                return None  # NAME@vN, or a bare NAME
            raise InvalidInput(f"{target} does not exist")
        if not pointer.is_relative_to(self.root):
            raise InvalidInput(f"{target} is outside the workspace {self.root}")
        return pointer

    def tracking(self, name: str) -> list[Path]:
        """The pointer files naming dataset `name`."""
        return [p for p in find_pointers(self.root) if read_pointer(p).name == name]

    def status(self, paths: Sequence[str | Path] = ()) -> list[PathStatus]:
        """Which tracked paths differ from their pointer, and how."""
        return [status_of(self.root, self.cache, self.objects, p) for p in self.pointers(paths)]

    def add(self, target: Path) -> Stored:
        """Store a file or folder of the working copy (what the store has is not stored)."""
        return Adder(self.cache, self.objects(), self.progress).add(target)

    def checkout(self, pointer_file: Path, wanted: Pointer, force: bool) -> CheckoutResult:
        """Make the data of `pointer_file` hold `wanted` (the pointer file is the caller's)."""
        checkout = Checkout(self.root, self.objects(), self.cache, self.progress)
        return checkout.run(pointer_file, wanted, force)

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None
