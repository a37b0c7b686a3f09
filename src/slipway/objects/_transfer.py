"""Copy objects from one store to another (data push and pull), verified on the way.

The destination is listed once (its pack indexes and loose keys) instead of asked about each
object. Objects packed at the source travel as whole packs when most of a pack is wanted:
the pack is hashed while it streams and must equal its id, its index must decode, and the
pack is published before its index, each from a temporary, so a reader (or a process killed
mid-way) never leaves a visible half. When only a few objects of a pack are wanted, they are
read, checked one by one, and written into a new pack. Loose objects are copied one by one,
verified by their hash before they are published. Everything runs on a thread pool; a run
that was interrupted leaves only temporaries behind and completes when run again.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from typing import BinaryIO, Protocol, TypeVar

import blake3

from slipway.config import mask_url
from slipway.errors import ConfigError, IntegrityError, NotFound, SlipwayError, Unavailable
from slipway.objects._backend import ObjectBackend
from slipway.objects._hashing import CHUNK, check_hashes, hash_bytes, hasher, key_of
from slipway.objects._pack import (
    PACK_TARGET,
    PackedObject,
    PackWriter,
    decode_index,
    index_key,
    pack_key,
)
from slipway.objects._registry import _REMOTE_SCHEMES
from slipway.objects._store import ObjectStore

WORKERS = 8
# A pack travels whole when at least this share of its bytes is wanted; otherwise only the
# wanted objects do, in a new pack (a pack may hold a few objects of a version among many).
WHOLE_PACK_SHARE = 0.5
_SHOWN = 3  # objects or packs named in an error; the rest are counted
T = TypeVar("T")


class TransferProgress(Protocol):
    def start(self, objects: int) -> None:
        """`objects` more objects are about to travel."""

    def advance(self, objects: int, nbytes: int) -> None: ...


@dataclass
class TransferReport:
    objects: int = 0  # objects the destination gained
    bytes: int = 0  # bytes written to the destination
    packs: int = 0  # packs written there (copied whole or made of parts of source packs)
    present: int = 0  # wanted objects the destination had already

    def add(self, other: TransferReport) -> None:
        self.objects += other.objects
        self.bytes += other.bytes
        self.packs += other.packs
        self.present += other.present


class _Stop(Exception):
    """A job failed in a way that dooms the others."""


@dataclass(frozen=True)
class _Done:
    objects: int
    nbytes: int
    packs: int
    installed: set[str]


class Transfer:
    """Copies from `src` to `dst`; the destination is listed on the first `copy` only."""

    def __init__(
        self,
        src: ObjectStore,
        dst: ObjectStore,
        *,
        workers: int = WORKERS,
        progress: TransferProgress | None = None,
    ) -> None:
        self.src = src
        self.dst = dst
        self.workers = max(1, workers)
        self.progress = progress
        self._present: set[str] | None = None

    def present(self) -> set[str]:
        """What the destination holds, loose or packed (listed once, then kept up to date)."""
        if self._present is None:
            self._present = set(self._guard("list", self.dst.url, self.dst.iter_hashes))
        return self._present

    def copy(self, digests: Iterable[str]) -> TransferReport:
        """Make `dst` hold every object in `digests`.

        Raises IntegrityError naming each corrupt pack or object of the source (none of it is
        installed) and NotFound naming the objects the source lacks; the other objects are
        copied all the same, so a second run has less to do.
        """
        wanted = set(check_hashes(digests))
        present = self.present()
        todo = wanted - present
        report = TransferReport(present=len(wanted) - len(todo))
        if not todo:
            return report
        try:
            packed = self._guard("list", self.src.url, self.src.packs.objects)
        except IntegrityError as exc:
            raise IntegrityError(f"{exc.detail} (in {self.src.url})") from None
        whole, parts, loose = _plan(todo, packed)
        if self.progress is not None:
            self.progress.start(len(todo))
        jobs: list[tuple[str, Callable[[], _Done]]] = [
            (f"pack {pack}", partial(self._copy_pack, pack)) for pack in whole
        ]
        jobs += [(f"{len(g)} packed objects", partial(self._copy_parts, g)) for g in parts]
        jobs += [(f"object {digest}", partial(self._copy_loose, digest)) for digest in loose]
        failures = self._run(jobs, report)
        _raise(failures, self.src.url)
        return report

    # -- running ---------------------------------------------------------------------------

    def _run(
        self, jobs: list[tuple[str, Callable[[], _Done]]], report: TransferReport
    ) -> list[tuple[str, BaseException]]:
        failures: list[tuple[str, BaseException]] = []
        with ThreadPoolExecutor(min(self.workers, len(jobs))) as pool:
            running: dict[Future[_Done], str] = {pool.submit(job): what for what, job in jobs}
            try:
                while running:
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        self._collect(future, running.pop(future), report, failures)
                        if failures and not isinstance(failures[-1][1], IntegrityError | NotFound):
                            raise _Stop
            except _Stop:  # unreachable or refusing writes: start nothing more
                _cancel(running)
            except BaseException:  # interrupted (Ctrl-C): start nothing more either
                _cancel(running)
                raise
        return failures

    def _collect(
        self,
        future: Future[_Done],
        what: str,
        report: TransferReport,
        failures: list[tuple[str, BaseException]],
    ) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            failures.append((what, error))
            return
        done = future.result()
        report.objects += done.objects
        report.bytes += done.nbytes
        report.packs += done.packs
        self.present().update(done.installed)
        if self.progress is not None:
            self.progress.advance(done.objects, done.nbytes)

    def _guard(self, verb: str, url: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except SlipwayError:
            raise
        except Exception as exc:
            raise Unavailable(f"cannot {verb} the object store {url}: {_reason(exc)}") from exc

    # -- one job each ----------------------------------------------------------------------

    def _copy_pack(self, pack_id: str) -> _Done:
        """Copy a whole pack, then its index; the pack must hash to its id."""
        src, dst = self.src.backend, self.dst.backend
        with src.open_read(index_key(pack_id)) as f:
            index = f.read()
        try:
            entries = decode_index(index, pack_id)
        except IntegrityError:
            raise IntegrityError(
                f"the index of pack {pack_id} in {self.src.url} is damaged; it was not copied"
            ) from None
        temp = dst.begin_write()
        try:
            with src.open_read(pack_key(pack_id)) as f:
                actual, size = _copy_hashed(f, temp.file, blake3.blake3())
            if actual != pack_id:
                raise IntegrityError(
                    f"pack {pack_id} in {self.src.url} is corrupt (its content hashes to "
                    f"{actual}); it was not copied"
                )
            if any(p.offset + p.size > size for p in entries.values()):
                raise IntegrityError(
                    f"pack {pack_id} in {self.src.url} is shorter than its index says; "
                    "it was not copied"
                )
        except BaseException:
            temp.abort()
            raise
        # Pack first, then its index: readers only see packs that have one. A pack left
        # without an index by a kill is simply found in place by the next run.
        temp.commit(pack_key(pack_id))
        _write(dst, index_key(pack_id), index)
        self.dst.packs.add(pack_id, entries)
        return _Done(len(entries), size + len(index), 1, set(entries))

    def _copy_parts(self, group: list[tuple[str, PackedObject]]) -> _Done:
        """Copy some objects of source packs into one new pack, each checked by its hash."""
        by_pack: dict[str, list[tuple[str, PackedObject]]] = {}
        for digest, found in group:
            by_pack.setdefault(found.pack, []).append((digest, found))
        writer = PackWriter(self.dst.backend)
        try:
            for pack, members in sorted(by_pack.items()):
                with self.src.backend.open_read(pack_key(pack)) as raw:
                    for digest, found in sorted(members, key=lambda m: m[1].offset):
                        raw.seek(found.offset)
                        data = raw.read(found.size)
                        if len(data) != found.size or hash_bytes(data) != digest:
                            raise IntegrityError(
                                f"object {digest} in pack {pack} of {self.src.url} is corrupt; "
                                "it was not copied"
                            )
                        writer.add(digest, data)
        except BaseException:
            writer.abort()
            raise
        entries = writer.entries()
        pack_id = writer.finish()
        if pack_id is not None:
            self.dst.packs.add(pack_id, {d: PackedObject(pack_id, o, s) for d, o, s in entries})
        return _Done(len(entries), writer.size, 1, {d for d, _, _ in entries})

    def _copy_loose(self, digest: str) -> _Done:
        """Copy one loose object; it is published only once its content hashes to its name."""
        key = key_of(digest)
        # One GET, no HEAD first: the backend says NotFound if the source lacks it.
        reader = self.src.backend.open_read(key)
        temp = self.dst.backend.begin_write()
        try:
            with reader:
                actual, size = _copy_hashed(reader, temp.file, hasher())
            if actual != digest:
                raise IntegrityError(
                    f"object {digest} in {self.src.url} is corrupt (its content hashes to "
                    f"{actual}); it was not copied"
                )
        except BaseException:
            temp.abort()
            raise
        temp.commit(key)
        return _Done(1, size, 0, {digest})


def copy_objects(
    src: ObjectStore,
    dst: ObjectStore,
    digests: Iterable[str],
    *,
    workers: int = WORKERS,
    progress: TransferProgress | None = None,
) -> TransferReport:
    """Copy every object in `digests` that `dst` lacks from `src` to `dst`."""
    return Transfer(src, dst, workers=workers, progress=progress).copy(digests)


def check_remote_url(url: str) -> None:
    """ConfigError unless `url`'s scheme is a known backend whose library is installed."""
    scheme, sep, _ = url.partition("://")
    if not sep or scheme == "file":
        return  # not a URL at all: settings say so
    if scheme not in _REMOTE_SCHEMES:
        raise ConfigError(
            f"unknown object store scheme {scheme!r} in {mask_url(url)!r}; "
            f"supported: file, {', '.join(sorted(_REMOTE_SCHEMES))}"
        )
    module, extra = _REMOTE_SCHEMES[scheme]
    if importlib.util.find_spec(module) is None:
        raise ConfigError(f"{scheme}:// needs {module}: pip install 'slipway[{extra}]'")


# -- helpers -------------------------------------------------------------------------------


def _cancel(running: Iterable[Future[_Done]]) -> None:
    for future in running:
        future.cancel()


def _plan(
    todo: set[str], packed: dict[str, PackedObject]
) -> tuple[list[str], list[list[tuple[str, PackedObject]]], list[str]]:
    """(packs to copy whole, groups of objects to copy into new packs, loose objects)."""
    # One pass over the packed objects, in the order each pack holds them (a push of
    # 50,000 files spent more time sorting digests and looking them up than planning).
    pack_bytes: dict[str, int] = {}
    wanted: dict[str, list[tuple[str, PackedObject]]] = {}
    for digest, where in packed.items():
        end = where.offset + where.size
        if end > pack_bytes.get(where.pack, 0):
            pack_bytes[where.pack] = end
        if digest in todo:
            wanted.setdefault(where.pack, []).append((digest, where))
    loose = sorted(todo.difference(packed))
    whole: list[str] = []
    parts: list[list[tuple[str, PackedObject]]] = []
    group: list[tuple[str, PackedObject]] = []
    group_bytes = 0
    for pack, members in sorted(wanted.items()):
        share = sum(found.size for _, found in members)
        if share >= WHOLE_PACK_SHARE * pack_bytes[pack]:
            whole.append(pack)
            continue
        for member in sorted(members, key=lambda m: m[1].offset):  # each pack front to back
            if group and group_bytes + member[1].size > PACK_TARGET:
                parts.append(group)
                group, group_bytes = [], 0
            group.append(member)
            group_bytes += member[1].size
    if group:
        parts.append(group)
    return whole, parts, loose


def _write(backend: ObjectBackend, key: str, data: bytes) -> None:
    temp = backend.begin_write()
    try:
        temp.file.write(data)
    except BaseException:
        temp.abort()
        raise
    temp.commit(key)


def _raise(failures: list[tuple[str, BaseException]], src_url: str) -> None:
    if not failures:
        return
    corrupt = [e for _, e in failures if isinstance(e, IntegrityError)]
    if corrupt:
        raise IntegrityError(_summary([e.detail for e in corrupt], "corrupt items"))
    missing = [what.removeprefix("object ") for what, e in failures if isinstance(e, NotFound)]
    if len(missing) == len(failures):
        more = f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else ""
        raise NotFound(
            f"{len(missing)} object(s) are not in {src_url}: {', '.join(missing[:_SHOWN])}{more}"
        )
    what, error = next((w, e) for w, e in failures if not isinstance(e, IntegrityError | NotFound))
    if isinstance(error, SlipwayError):
        raise error
    raise Unavailable(f"copying {what} failed: {_reason(error)}") from error


def _summary(details: list[str], label: str) -> str:
    shown = "; ".join(details[:_SHOWN])
    more = len(details) - _SHOWN
    return shown if more <= 0 else f"{shown}; and {more} more {label}"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _copy_hashed(source: BinaryIO, target: BinaryIO, h: blake3.blake3) -> tuple[str, int]:
    """Copy `source` to `target` in chunks, hashing on the way: (hex digest, size)."""
    size = 0
    while chunk := source.read(CHUNK):
        h.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return str(h.hexdigest()), size
