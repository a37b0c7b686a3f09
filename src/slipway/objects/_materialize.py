"""Writing many objects to files at once, each verified before it lands: a checkout.

Packed objects of a local store are read with one open pack file per pack and positional
reads, and a destination that does not exist yet is written in place (a file that exists is
replaced only once its new content is complete); the rest goes through `get_file`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from slipway.errors import IntegrityError
from slipway.objects._hashing import check_hash, hash_bytes
from slipway.objects._link import LinkMode
from slipway.objects._pack import PackedObject, pack_key
from slipway.objects._progress import Advance

if TYPE_CHECKING:
    from slipway.objects._store import ObjectStore

# Where an object is written: a Path, or a plain string (cheaper by the 10,000).
Destination: TypeAlias = "str | os.PathLike[str]"
REMOTE_WORKERS = 8
UNPACK_BATCH = 256  # packed objects written per task
# Creating files contends on the filesystem's locks: more writers than cores made a 50,000
# file checkout half again slower (and triple the system time) on a 2-core machine.
WRITE_WORKERS = max(2, os.cpu_count() or 2)


def materialize(
    store: ObjectStore,
    items: Sequence[tuple[str, Destination, bool]],
    modes: Sequence[LinkMode],
    advance: Advance,
) -> dict[str, os.stat_result]:
    """`ObjectStore.materialize`: (hash, destination, executable) each, in parallel."""
    packed: dict[str, list[tuple[PackedObject, str, Destination, bool]]] = {}
    others: list[tuple[str, Destination, bool]] = []
    local_packs: dict[str, Path | None] = {}
    for digest, dest, executable in items:
        found = store.packs.find(check_hash(digest), fresh=True)
        if found is not None and found.pack not in local_packs:
            local_packs[found.pack] = store.backend.local_path(pack_key(found.pack))
        if found is not None and local_packs[found.pack] is not None:
            packed.setdefault(found.pack, []).append((found, digest, dest, executable))
        else:
            others.append((digest, dest, executable))
    # Folders first, once each, from the main thread: creating them per file cost a
    # mkdir per file and made the writers contend on the same parents. (os.path on the
    # destinations: `Path.parent` of 50,000 of them cost a quarter of a second.)
    folders = {os.path.dirname(dest) for _, dest, _ in items}  # noqa: PTH120
    for folder in sorted(folders):
        Path(folder).mkdir(parents=True, exist_ok=True)
    fds: dict[str, int] = {}
    written: dict[str, os.stat_result] = {}
    try:
        for pack in packed:
            path = local_packs[pack]
            assert path is not None  # sorted into `packed` only when local
            fds[pack] = os.open(path, os.O_RDONLY)
        workers = WRITE_WORKERS if store.is_local else REMOTE_WORKERS
        with ThreadPoolExecutor(workers) as pool:
            jobs = [pool.submit(_place, store, d, t, x, modes, advance) for d, t, x in others]
            for pack, members in packed.items():
                # In sorted runs of files: one task per file cost more than writing it.
                members.sort(key=lambda m: m[0].offset)
                for start in range(0, len(members), UNPACK_BATCH):
                    batch = members[start : start + UNPACK_BATCH]
                    jobs.append(pool.submit(_unpack_all, store, fds[pack], batch, advance))
            try:
                for job in jobs:
                    written.update(job.result())
            except KeyboardInterrupt:
                # Ctrl-C: the writers finish the batches they hold and start no other;
                # leaving the pool would otherwise wait for every file to be written.
                pool.shutdown(cancel_futures=True)
                raise
    finally:
        for fd in fds.values():
            os.close(fd)
    return written


def _unpack_all(
    store: ObjectStore,
    fd: int,
    members: list[tuple[PackedObject, str, Destination, bool]],
    advance: Advance,
) -> list[tuple[str, os.stat_result]]:
    written = [_unpack(store, fd, *member) for member in members]
    advance(len(members), sum(member[0].size for member in members))
    return written


def _place(
    store: ObjectStore,
    digest: str,
    to: Destination,
    executable: bool,
    modes: Sequence[LinkMode],
    advance: Advance,
) -> list[tuple[str, os.stat_result]]:
    dest = Path(to)
    store.get_file(digest, dest, modes)
    info = dest.stat()
    if executable:
        dest.chmod(info.st_mode | 0o111)
        info = dest.stat()
    advance(1, info.st_size)
    return [(os.fspath(to), info)]


def _unpack(
    store: ObjectStore, fd: int, found: PackedObject, digest: str, to: Destination, exe: bool
) -> tuple[str, os.stat_result]:
    data = os.pread(fd, found.size, found.offset)
    if len(data) != found.size or hash_bytes(data) != digest:
        raise IntegrityError(
            f"object {digest} in pack {found.pack} of {store.url} is corrupt; "
            f"{os.fspath(to)} was left as it was"
        )
    mode = 0o777 if exe else 0o666  # the umask applies, as for any new file
    try:
        out = os.open(to, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        dest = Path(to)
        tmp = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.tmp"
        try:
            tmp.write_bytes(data)
            if exe:
                tmp.chmod(tmp.stat().st_mode | 0o111)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        return os.fspath(to), dest.stat()
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(out, view) :]
        return os.fspath(to), os.fstat(out)
    finally:
        os.close(out)
