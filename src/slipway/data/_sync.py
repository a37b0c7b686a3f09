"""`slipway data push` and `pull`: copy what dataset versions need between the workspace's
object store and a remote (an object store of the same layout at an fsspec URL).

A version needs its object (a folder's manifest, or a file's content), every file of the
manifest, and its table profile. Push sends the files before the manifests and profiles, so a
remote that has a manifest has its files. Pull fetches manifests first, reads them from the
workspace's store (verified), fetches the files, and only once every transfer has succeeded
checks out the pointers: a failed pull leaves the workspace's files as they were.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from slipway.config import Remote, mask_url
from slipway.errors import InvalidInput, NotFound
from slipway.workspace import SUFFIX, find_pointers, read_pointer

if TYPE_CHECKING:
    from slipway.data._data import Data
    from slipway.objects import ObjectStore, TransferProgress, TransferReport
    from slipway.workspace import CheckoutResult

WORKERS = 8  # transfers at once


@dataclass(frozen=True)
class Wanted:
    """One version to push or pull."""

    label: str  # the pointer's path or NAME@vN, for messages
    ref: str
    hash: str
    kind: str
    profile: str | None
    pointer: Path | None  # the pointer file, if the version came from one


@dataclass(frozen=True)
class SyncResult:
    remote: str
    url: str  # secrets masked
    versions: list[Wanted]
    report: TransferReport
    checkouts: list[CheckoutResult] = field(default_factory=list)


def push(
    data: Data,
    targets: Sequence[str | Path] = (),
    *,
    remote: str | None = None,
    project: str | None = None,
    workers: int = WORKERS,
    progress: TransferProgress | None = None,
) -> SyncResult:
    """Copy to the remote what the versions need: the pointers' under `targets` (paths or
    NAME@vN), every pointer in the workspace by default."""
    from slipway.objects import Transfer, TransferReport

    local = _workspace_store(data)
    config = data.settings.data_remote(remote)
    wanted = resolve(data, targets, project=project)
    if not wanted:
        return SyncResult(config.name, mask_url(config.url), [], TransferReport())
    files: set[str] = set()
    for item in wanted:
        if item.kind == "dir":
            try:
                hashes = local.manifest_hashes(item.hash)
            except NotFound:
                raise NotFound(
                    f"cannot push {item.label} ({item.ref}): its manifest {item.hash} is not in "
                    "this workspace's object store; `slipway data pull` it first"
                ) from None
            files.update(hashes)
    tops = _tops(wanted)
    with _open(config, local) as store:
        transfer = Transfer(local, store, workers=workers, progress=progress)
        try:
            report = transfer.copy(files - tops)
            report.add(transfer.copy(tops))  # last: a remote that has a manifest has its files
        except NotFound as exc:
            raise NotFound(
                f"{exc.detail}; this workspace lacks data its pointers name: "
                "`slipway data pull` it from where it was pushed"
            ) from None
    return SyncResult(config.name, mask_url(config.url), wanted, report)


def pull(
    data: Data,
    targets: Sequence[str | Path] = (),
    *,
    remote: str | None = None,
    project: str | None = None,
    force: bool = False,
    workers: int = WORKERS,
    progress: TransferProgress | None = None,
) -> SyncResult:
    """Copy from the remote what the versions need, then check out the pointers among them.

    `targets` are pointer paths (every pointer in the workspace by default) or NAME@vN, whose
    objects are fetched into the store without a checkout. `force` is checkout's: discard
    changes that are not in any version.
    """
    from slipway.objects import Transfer, TransferReport

    local = _workspace_store(data)
    config = data.settings.data_remote(remote)
    wanted = resolve(data, targets, project=project)
    if not wanted:
        return SyncResult(config.name, mask_url(config.url), [], TransferReport())
    with _open(config, local) as store:
        transfer = Transfer(store, local, workers=workers, progress=progress)
        try:
            report = transfer.copy(_tops(wanted))
            files: set[str] = set()
            for item in wanted:
                if item.kind == "dir":
                    files.update(local.manifest_hashes(item.hash))
            report.add(transfer.copy(files))
        except NotFound as exc:
            raise NotFound(
                f"{exc.detail}; remote {config.name!r} lacks data the pointers name: "
                "`slipway data push` it from the workspace that added it"
            ) from None
    pointers = [item.pointer for item in wanted if item.pointer is not None]
    checkouts = data.checkout(paths=pointers, force=force) if pointers else []
    return SyncResult(config.name, mask_url(config.url), wanted, report, checkouts)


def resolve(
    data: Data, targets: Sequence[str | Path], *, project: str | None = None
) -> list[Wanted]:
    """The versions `targets` name: a path names its pointer, anything else NAME@vN."""
    root = data.workspace.root
    if not targets:
        return [_from_pointer(data, p) for p in find_pointers(root)]
    found: dict[tuple[str, str], Wanted] = {}
    for target in targets:
        pointer = data.workspace.pointer_of(target)
        if pointer is not None:
            item = _from_pointer(data, pointer)
        else:
            version = data.get(str(target), project=project)
            item = Wanted(
                str(target),
                version.ref,
                version.object_hash,
                version.kind,
                version.profile_hash,
                None,
            )
        found.setdefault((item.label, item.hash), item)
    return list(found.values())


# -- helpers -------------------------------------------------------------------------------


def _workspace_store(data: Data) -> ObjectStore:
    settings = data.settings
    if settings.server_url:
        server = mask_url(settings.server_url)
        raise InvalidInput(
            "data push and pull copy objects between this workspace's own object store and a "
            f"remote, so they need embedded mode; server.url is {server} "
            "(unset SLIPWAY_SERVER to use them)"
        )
    return data.local_store()


@contextmanager
def _open(remote: Remote, local: ObjectStore) -> Iterator[ObjectStore]:
    """The remote's object store, refused if it is the workspace's own; closed on exit."""
    if remote.url.rstrip("/") == local.backend.url.rstrip("/"):
        raise InvalidInput(
            f"remote {remote.name!r} is this workspace's own object store "
            f"({mask_url(remote.url)}); point it elsewhere"
        )
    from slipway.objects import ObjectStore

    store = ObjectStore.from_url(remote.url, remote.options)
    try:
        yield store
    finally:
        store.close()


def _tops(wanted: list[Wanted]) -> set[str]:
    """The versions' own objects (manifests or files) and their profiles."""
    return {item.hash for item in wanted} | {item.profile for item in wanted if item.profile}


def _from_pointer(data: Data, pointer: Path) -> Wanted:
    said = read_pointer(pointer)
    label = os.path.relpath(pointer, data.workspace.root).removesuffix(SUFFIX)
    if said.profile_known:  # the pointer says it all: no metadata store to open
        return Wanted(label, said.ref, said.hash, said.kind, said.profile, pointer)
    try:
        version = data.get(said.ref, project=said.project)
    except NotFound:
        version = None
    # A metadata store that does not know this version (a clone with a store of its own)
    # leaves only the table profile behind: the pointer alone says what the data is.
    profile = version.profile_hash if version and version.object_hash == said.hash else None
    return Wanted(label, said.ref, said.hash, said.kind, profile, pointer)
