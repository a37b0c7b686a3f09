"""`data checkout` of one tracked path: make it hold what a pointer names.

Only the files that differ are written, each verified before it lands; files the version
lacks are removed. A checkout is marked as started in the stat cache, so one killed half way
may be run again even though the files it left match no version. Afterwards the folder's
snapshot is taken, so `status` needs only a `stat` per file.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from slipway.errors import Conflict
from slipway.workspace._add import remember_tree
from slipway.workspace._pointers import Pointer, data_path, read_pointer
from slipway.workspace._scan import ScannedFile, Tree, scan, stat_file
from slipway.workspace._stat_cache import FileStat, StatCache
from slipway.workspace._status import Current, state_of

if TYPE_CHECKING:
    from slipway.client import DataObjects
    from slipway.objects import Manifest
    from slipway.workspace._progress import Progress


@dataclass(frozen=True)
class CheckoutResult:
    path: Path
    ref: str
    written: int
    deleted: int


@dataclass(frozen=True)
class Checkout:
    root: Path  # the workspace's
    objects: DataObjects
    cache: StatCache
    progress: Progress

    def run(self, pointer_file: Path, wanted: Pointer, force: bool) -> CheckoutResult:
        """Make the path of `pointer_file` hold `wanted`; unsaved changes stop it unless
        `force`."""
        target = data_path(pointer_file)
        rel = target.relative_to(self.root)
        current = state_of(self.cache, target) if target.exists() else None
        if current is not None and current.hash == wanted.hash:
            return CheckoutResult(rel, wanted.ref, 0, 0)
        interrupted = self.cache.checkout_started(str(target))
        if current is not None and not force and interrupted is None:
            # Saved content is safe to replace: what the pointer names, or anything whose
            # object the store holds (after a `git pull` moved the pointer, say). A checkout
            # killed half way left files of its own, which it may replace too.
            saved = read_pointer(pointer_file).hash if pointer_file.exists() else None
            if current.hash != saved and not self.objects.present({current.hash}):
                raise Conflict(
                    f"{rel} has changes that are not in any version; `slipway data add {rel}` "
                    "saves them, or checkout with --force discards them"
                )
        self.cache.start_checkout(str(target), wanted.hash)
        result = self._write(target, rel, wanted, current)
        self.cache.end_checkout(str(target))
        return result

    def _write(
        self, target: Path, rel: Path, wanted: Pointer, current: Current | None
    ) -> CheckoutResult:
        if wanted.kind == "file":
            if target.is_dir():
                shutil.rmtree(target)
            with self.progress.task("writing", 1, wanted.size) as advance:
                self.objects.materialize([(wanted.hash, target, False)], advance)
            self.cache.record([(stat_file(target), wanted.hash)])
            return CheckoutResult(rel, wanted.ref, 1, 0)
        manifest = self.objects.manifest(wanted.hash)
        have = current.hash_of() if current is not None and current.hash_of else {}
        if target.is_file():
            target.unlink()
        fresh = not target.exists()
        todo = [e for e in manifest.entries if have.get(e.path) != e.hash]
        extra = set(have) - {e.path for e in manifest.entries}
        for stale in sorted(extra):
            (target / stale).unlink(missing_ok=True)
        with self.progress.task("writing", len(todo), sum(e.size for e in todo)) as advance:
            # Plain strings (manifest paths are checked relative POSIX paths): 50,000 `Path`
            # objects cost the thread feeding the writers half a second.
            into = str(target)
            items = [(e.hash, f"{into}/{e.path}", e.executable) for e in todo]
            written = self.objects.materialize(items, advance)
        for folder in manifest.empty_dirs:
            (target / folder).mkdir(parents=True, exist_ok=True)
        # What is there now is exactly the version: remember it, so status only stats. A
        # folder that did not exist holds just what was written, as the writers saw it;
        # one that did may hold more, which only a walk finds (and then nothing is vouched).
        if fresh:
            tree = _as_written(manifest, into, written)
        else:
            tree = scan(target)
            if {f.rel for f in tree.files} != {e.path for e in manifest.entries}:
                return CheckoutResult(rel, wanted.ref, len(todo), len(extra))
        hashes = {e.path: e.hash for e in manifest.entries}
        remember_tree(self.cache, target, tree, hashes, wanted.hash)
        return CheckoutResult(rel, wanted.ref, len(todo), len(extra))


def _as_written(manifest: Manifest, into: str, written: dict[str, os.stat_result]) -> Tree:
    """The tree `scan` would find in a new folder that holds just the manifest's files,
    from the stat each writer took of its file (`written`, by path)."""
    make = tuple.__new__  # NamedTuples built without their Python-level __new__, as in `scan`
    files = []
    for entry in manifest.entries:  # in path order, as `scan` sorts
        path = f"{into}/{entry.path}"
        info = written[path]
        stat_ = make(FileStat, (path, info.st_size, info.st_mtime_ns, info.st_ino))
        files.append(make(ScannedFile, (entry.path, stat_, bool(info.st_mode & stat.S_IXUSR))))
    return Tree(files, sorted(manifest.empty_dirs))
