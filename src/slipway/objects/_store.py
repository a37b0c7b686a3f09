"""The content-addressed object store: BLAKE3 over the plaintext, verified reads, dedup."""

from __future__ import annotations

import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from slipway.config import mask_url
from slipway.errors import InvalidInput
from slipway.objects._backend import ObjectBackend
from slipway.objects._copy import copy_hashing
from slipway.objects._hashing import (
    CHUNK,
    VerifyingReader,
    check_hash,
    hash_bytes,
    hash_file,
    hasher,
    key_of,
)
from slipway.objects._link import DEFAULT_LINK_MODES, LinkMode, place
from slipway.objects._manifest import (
    Entry,
    Manifest,
    counted_totals,
    entry_hashes,
    safe_relpath,
    totals,
    walk,
)
from slipway.objects._materialize import REMOTE_WORKERS, Destination, materialize
from slipway.objects._pack import (
    PACK_BELOW,
    PACK_TARGET,
    PackedObject,
    PackIndex,
    PackWriter,
    SliceReader,
    pack_key,
)
from slipway.objects._progress import Advance, no_progress
from slipway.objects._reading import read_ahead
from slipway.objects._registry import open_backend

T = TypeVar("T")
R = TypeVar("R")
# Creating and writing many small files is syscall-bound and releases the GIL: threads help
# even on a local disk.
FILE_WORKERS = 8
REMEMBERED_MANIFESTS = 4  # manifests written, kept per store (50,000 entries: ~15 MB each)
REMEMBERED_TOTALS = 64
_ADVANCE_EVERY = 256  # files stored between progress reports


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    hash: str
    size: int
    created: bool = False  # False when identical content was already stored


class ObjectStore:
    """Objects live at `ab/cdef...` under the backend root; they are immutable once published."""

    def __init__(self, backend: ObjectBackend) -> None:
        self.backend = backend
        self.packs = PackIndex(backend)
        # Manifests this process wrote lately, by hash. In embedded mode `data add` stores a
        # manifest and the data service checks it straight away: parsing its 50,000 entries
        # back took 0.2-0.3 s.
        self._manifests: OrderedDict[str, Manifest] = OrderedDict()
        # Totals of manifests written here as bytes, or told by the process that wrote them.
        self._totals: OrderedDict[str, tuple[int, int]] = OrderedDict()
        self._manifests_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, options: Mapping[str, Any] | None = None) -> ObjectStore:
        return cls(open_backend(url, options))

    @property
    def url(self) -> str:
        return mask_url(self.backend.url)

    @property
    def is_local(self) -> bool:
        return self.backend.local_path(key_of("0" * 64)) is not None

    # -- writing ---------------------------------------------------------------------------

    def put_stream(self, reader: BinaryIO, advance: Advance | None = None) -> ObjectInfo:
        """Store a stream in one pass, constant memory: hash while writing a temporary.
        `advance(0, bytes)` is told of each chunk written."""
        temp = self.backend.begin_write()
        try:
            h, size = hasher(), 0
            while chunk := reader.read(CHUNK):
                h.update(chunk)
                temp.file.write(chunk)
                size += len(chunk)
                if advance is not None:
                    advance(0, len(chunk))
            digest = str(h.hexdigest())
            created = temp.commit(key_of(digest))
        except BaseException:
            temp.abort()
            raise
        return ObjectInfo(digest, size, created)

    def put_bytes(self, data: bytes) -> ObjectInfo:
        import io

        return self.put_stream(io.BytesIO(data))

    def put_manifest(self, manifest: Manifest) -> ObjectInfo:
        info = self.put_bytes(manifest.to_bytes())
        self._remember(info.hash, manifest)
        return info

    def put_manifest_bytes(self, data: bytes) -> ObjectInfo:
        """Store a manifest's bytes as `assemble` wrote them, noting their totals (counted
        in the bytes, not taken from the caller) for `manifest_totals`."""
        info = self.put_bytes(data)
        counted = counted_totals(data)
        if counted is not None:
            self._note_totals(info.hash, *counted)
        return info

    def put_file(self, path: Path) -> ObjectInfo:
        """Store a file; content already present is only hashed, never written again."""
        if not path.is_file():
            raise InvalidInput(f"{path} is not a file")
        digest, size = hash_file(path)
        if self.backend.exists(key_of(digest)):
            return ObjectInfo(digest, size, False)
        with path.open("rb") as f:
            # Hashed again while copying: if the file changed meanwhile, the stored object
            # is still named by the content it really holds.
            return self.put_stream(f)

    def put_files(
        self,
        paths: Sequence[str | Path],
        sizes: Sequence[int] | None = None,
        advance: Advance | None = None,
    ) -> list[ObjectInfo]:
        """Store many files at once, in order: small new ones go into packs, large ones loose.

        Each small file is read once: hashed, and appended to a pack if the store lacks it.
        Small files are read in this thread, the next few announced to the kernel ahead of
        time (`_read_ahead`): with a thread pool instead, 8 threads contending for the GIL
        over 50,000 small reads took five times longer. Large files are copied by a pool.
        `sizes`, if the caller has just stat'ed the files, saves stat-ing them again.
        `advance(files, bytes)` is told of the files read as it goes (a progress bar).
        """
        names = [os.fspath(path) for path in paths]
        if sizes is None:
            sizes = [os.stat(name).st_size for name in names]  # noqa: PTH116
        infos: list[ObjectInfo | None] = [None] * len(names)
        small = [n for n, size in enumerate(sizes) if size < PACK_BELOW]
        large = [n for n, size in enumerate(sizes) if size >= PACK_BELOW]
        workers = FILE_WORKERS if self.is_local else REMOTE_WORKERS
        with ThreadPoolExecutor(workers) as pool:
            stored = pool.map(lambda n: self._put_one_pass(names[n], advance), large)
            for n, info in zip(large, stored, strict=True):
                infos[n] = info
                if advance is not None:
                    advance(1, 0)  # its bytes were counted as they were copied
        # One listing of the loose objects instead of one stat (or HEAD) per small file.
        loose = set(self.backend.iter_keys()) if small else set()
        writer: PackWriter | None = None
        # Full packs are made durable in their writers' threads while the next files are
        # read (each fsync waited for in turn cost a tenth of adding 50,000 files); they are
        # known to the index once all are published.
        publishing: list[tuple[PackWriter, Future[str | None]]] = []
        in_flight: set[str] = set()  # the objects of those packs, until they are known
        try:
            read = read_ahead([names[n] for n in small], [sizes[n] for n in small])
            for done, (n, data) in enumerate(zip(small, read, strict=True), start=1):
                digest = hash_bytes(data)
                created = not (
                    (writer is not None and digest in writer)
                    or self.packs.find(digest) is not None
                    or key_of(digest) in loose
                    or digest in in_flight
                )
                infos[n] = ObjectInfo(digest, len(data), created)
                if created:
                    writer = writer or PackWriter(self.backend)
                    writer.add(digest, data)
                    if writer.size >= PACK_TARGET:
                        publishing.append((writer, writer.finish_later()))
                        in_flight.update(d for d, _, _ in writer.entries())
                        writer = None
                if advance is not None and (done % _ADVANCE_EVERY == 0 or done == len(small)):
                    group = small[(done - 1) // _ADVANCE_EVERY * _ADVANCE_EVERY : done]
                    advance(len(group), sum(sizes[k] for k in group))
            if writer is not None:
                publishing.append((writer, writer.finish_later()))
                writer = None
        finally:
            if writer is not None:
                writer.abort()
            # Every pack is published (or removed) before this returns, even on an error.
            wait(future for _, future in publishing)
        for full, future in publishing:
            self._known(full, future.result())
        return [info for info in infos if info is not None]

    def _known(self, writer: PackWriter, pack_id: str | None) -> None:
        if pack_id is not None:
            entries = writer.entries()
            self.packs.add(pack_id, {d: PackedObject(pack_id, o, s) for d, o, s in entries})

    def _put_one_pass(self, name: str, advance: Advance | None) -> ObjectInfo:
        """Copy and hash a large file in one read. put_files is given files its caller could
        not vouch for, so their content is probably new: hashing first to skip a copy would
        read every new file twice. Content already stored is discarded at commit."""
        with open(name, "rb") as f:  # noqa: PTH123
            if not self.is_local:
                return self.put_stream(f, advance)
            temp = self.backend.begin_write()  # a local file, opened for reading too
            try:
                digest, size = copy_hashing(f.fileno(), temp.file.fileno(), advance)
                created = temp.commit(key_of(digest))
            except BaseException:
                temp.abort()
                raise
            return ObjectInfo(digest, size, created)

    def put_tree(self, root: Path) -> ObjectInfo:
        """Store every file under `root` and a manifest of them; returns the manifest object."""
        if not root.is_dir():
            raise InvalidInput(f"{root} is not a folder")
        files, empty = walk(root)
        stored = self.put_files([path for _, path, _ in files])
        entries = tuple(
            Entry(rel, info.hash, info.size, executable)
            for (rel, _, executable), info in zip(files, stored, strict=True)
        )
        manifest = Manifest(entries, tuple(empty))
        info = self.put_manifest(manifest)
        return ObjectInfo(info.hash, manifest.size, info.created)

    # -- reading ---------------------------------------------------------------------------

    def exists(self, digest: str, *, fresh: bool = False) -> bool:
        """Whether the store holds `digest`; `fresh` also looks for packs that another
        process published within the last second (otherwise seen a moment later)."""
        return self._locate(check_hash(digest), fresh=fresh) is not None

    def size(self, digest: str) -> int:
        packed = self._locate(check_hash(digest), fresh=True)
        if isinstance(packed, PackedObject):
            return packed.size
        return self.backend.size(key_of(digest))

    def open(self, digest: str) -> VerifyingReader:
        """A reader that raises IntegrityError at end of stream if the content is corrupt."""
        packed = self._locate(check_hash(digest), fresh=True)
        if isinstance(packed, PackedObject):
            raw = self.backend.open_read(pack_key(packed.pack))
            reader: BinaryIO = SliceReader(raw, packed.offset, packed.size)  # type: ignore[assignment]
        else:
            reader = self.backend.open_read(key_of(digest))
        return VerifyingReader(reader, digest, self.url)

    def _locate(self, digest: str, *, fresh: bool = False) -> PackedObject | bool | None:
        """Where an object is: its pack, True if loose, None if the store lacks it."""
        packed = self.packs.find(digest)
        if packed is not None:
            return packed
        if self.backend.exists(key_of(digest)):
            return True
        return self.packs.find(digest, fresh=fresh)

    def read_bytes(self, digest: str) -> bytes:
        with self.open(digest) as reader:
            return reader.readall()

    def verify(self, digest: str) -> None:
        with self.open(digest) as reader:
            while reader.read(CHUNK):
                pass

    def get_file(
        self, digest: str, dest: Path, modes: Sequence[LinkMode] = DEFAULT_LINK_MODES
    ) -> None:
        """Write object `digest` to `dest`, replacing it only once the content is verified."""
        key = key_of(check_hash(digest))
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.tmp"
        try:
            local = self.backend.local_path(key)
            if self.packs.find(digest) is not None:
                local = None  # inside a pack file: only a copy can bring it out
            if local is not None and LinkMode.COPY not in modes[:1]:
                self.verify(digest)  # links share the stored bytes: check them first
                place(local, tmp, modes)
            else:
                with self.open(digest) as reader, tmp.open("xb") as out:
                    while chunk := reader.read(CHUNK):
                        out.write(chunk)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    def materialize(
        self,
        items: Sequence[tuple[str, Destination, bool]],
        modes: Sequence[LinkMode] = DEFAULT_LINK_MODES,
        advance: Advance | None = None,
    ) -> dict[str, os.stat_result]:
        """Write many objects to files: (hash, destination, executable) each, in parallel;
        returns each destination's stat (by `os.fspath`) as its writer left it.

        Every object is verified before it reaches its file (see `_materialize`).
        `advance(files, bytes)` is told of the files written as it goes (a progress bar).
        Destinations may be plain strings: a checkout of 50,000 files spent half a second
        of the thread that feeds the writers building and hashing `Path` objects. The stats
        come from the open files: a checkout needs them for its snapshot, and a second walk
        of what it just wrote cost a tenth of its time.
        """
        return materialize(self, items, modes, advance or no_progress)

    def read_manifest(self, digest: str) -> Manifest:
        return Manifest.from_bytes(self.read_bytes(digest), digest)

    def manifest_hashes(self, digest: str) -> list[str]:
        """The object hashes a stored manifest lists, without building or checking its
        entries' paths (a push of 50,000 files spent a tenth of its time on them)."""
        written = self.written_manifest(digest)
        if written is not None:
            return [e.hash for e in written.entries]
        return entry_hashes(self.read_bytes(digest), digest)

    def manifest_totals(self, digest: str) -> tuple[int, int]:
        """(bytes, files) of a stored manifest, without building its entries (a check of a
        version's totals; reading its files goes through `read_manifest`, which checks every
        path)."""
        written = self.written_manifest(digest)
        if written is not None:
            return written.size, len(written.entries)
        with self._manifests_lock:
            noted = self._totals.get(digest)
        return noted if noted is not None else totals(self.read_bytes(digest), digest)

    def noted_totals(self, digest: str) -> tuple[int, int] | None:
        """The totals `put_manifest_bytes` noted for `digest`, if this store wrote it."""
        with self._manifests_lock:
            return self._totals.get(digest)

    def _note_totals(self, digest: str, size: int, files: int) -> None:
        """Remember (bytes, files) of manifest `digest`, as `put_manifest_bytes` counted them."""
        with self._manifests_lock:
            self._totals[digest] = (size, files)
            self._totals.move_to_end(digest)
            while len(self._totals) > REMEMBERED_TOTALS:
                self._totals.popitem(last=False)

    def written_manifest(self, digest: str) -> Manifest | None:
        """The manifest this process stored as `digest` lately, without reading it back
        (reads that must check the stored bytes, such as gc's, use `read_manifest`)."""
        with self._manifests_lock:
            return self._manifests.get(digest)

    def _remember(self, digest: str, manifest: Manifest) -> None:
        with self._manifests_lock:
            self._manifests[digest] = manifest
            self._manifests.move_to_end(digest)
            while len(self._manifests) > REMEMBERED_MANIFESTS:
                self._manifests.popitem(last=False)

    def get_tree(
        self, digest: str, dest: Path, modes: Sequence[LinkMode] = DEFAULT_LINK_MODES
    ) -> Manifest:
        """Materialize a stored tree under `dest` (existing files at its paths are replaced)."""
        manifest = self.read_manifest(digest)
        root = dest.resolve()
        targets = []
        for entry in manifest.entries:
            target = root / safe_relpath(entry.path)
            if not target.resolve().is_relative_to(root):
                raise InvalidInput(f"tree entry {entry.path!r} would be written outside {dest}")
            targets.append((entry, target))
        self.materialize([(e.hash, target, e.executable) for e, target in targets], modes)
        for folder in manifest.empty_dirs:
            (root / safe_relpath(folder)).mkdir(parents=True, exist_ok=True)
        return manifest

    # -- housekeeping ----------------------------------------------------------------------

    def iter_hashes(self) -> Iterator[str]:
        """Every object in the store, loose or packed (an object may be in both)."""
        for key in self.backend.iter_keys():
            yield key.replace("/", "")
        yield from self.packs.objects()

    def delete(self, digest: str) -> None:
        self.backend.delete(key_of(check_hash(digest)))

    def ping(self) -> None:
        self.backend.ping()

    def close(self) -> None:
        self.backend.close()
