"""Packs: many small objects in one file, found through an index, as git keeps its packs.

    packs/<id>.pack   the objects' bytes back to back; <id> is the BLAKE3 of the whole file
    packs/<id>.idx    MAGIC, a count, (hash, offset, size) per object sorted by hash, then the
                      BLAKE3 of everything before it

50,000 files of a few KiB become a handful of files: what costs on disks and object stores
is the number of files and requests, not bytes. A pack is published before its index and
readers only see packs that have one, so an interrupted write leaves nothing visible (gc
removes the orphan). Objects are still verified by their own hash on every read.
"""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO, NamedTuple

import blake3

from slipway.errors import IntegrityError
from slipway.objects._backend import ObjectBackend, TempObject

PACK_DIR = "packs"
MAGIC = b"SLIPWAY-PACK-IDX1"
PACK_TARGET = 64 << 20  # bytes per pack: large transfers, yet a gc repack stays cheap
PACK_BELOW = 1 << 20  # files smaller than this are packed; larger ones stay loose objects
_COUNT = struct.Struct(">Q")
_ENTRY = struct.Struct(">32sQQ")
_DIGEST = 32
# A miss in the index reloads it at most this often while writing (every new object misses);
# reads that miss reload at once, since another process may have just written a pack.
_REFRESH_EVERY_S = 1.0
_BLOCK = 4 << 20  # bytes a pack writer gathers before it writes and hashes them
_BISECT_LOOKUPS = 512  # lookups answered by bisecting the indexes before merging them


def pack_key(pack_id: str) -> str:
    return f"{PACK_DIR}/{pack_id}.pack"


def index_key(pack_id: str) -> str:
    return f"{PACK_DIR}/{pack_id}.idx"


class PackedObject(NamedTuple):  # a tuple: one is made per object of every pack loaded
    pack: str
    offset: int
    size: int


def encode_index(entries: Iterable[tuple[str, int, int]]) -> bytes:
    rows = sorted(entries)
    body = [MAGIC, _COUNT.pack(len(rows))]
    body += [_ENTRY.pack(bytes.fromhex(digest), offset, size) for digest, offset, size in rows]
    data = b"".join(body)
    return data + blake3.blake3(data).digest()


class IndexTable:
    """One pack's verified index, kept as its raw sorted entries: a few lookups bisect it
    (loading 50,000 entries into a dict costs more than a re-add of 10 files needs)."""

    def __init__(self, data: bytes, pack_id: str) -> None:
        body, checksum = data[:-_DIGEST], data[-_DIGEST:]
        if (
            len(data) < len(MAGIC) + _COUNT.size + _DIGEST
            or not body.startswith(MAGIC)
            or blake3.blake3(body).digest() != checksum
        ):
            raise IntegrityError(
                f"the index of pack {pack_id} is damaged; restore it from a remote"
            )
        (count,) = _COUNT.unpack_from(body, len(MAGIC))
        start = len(MAGIC) + _COUNT.size
        if len(body) != start + count * _ENTRY.size:
            raise IntegrityError(f"the index of pack {pack_id} has a wrong length")
        self.pack = pack_id
        self.count = count
        self._rows = memoryview(body)[start:]

    def find(self, raw: bytes) -> PackedObject | None:
        rows, width = self._rows, _ENTRY.size
        lo, hi = 0, self.count
        while lo < hi:
            mid = (lo + hi) // 2
            key = bytes(rows[mid * width : mid * width + _DIGEST])
            if key < raw:
                lo = mid + 1
            elif key > raw:
                hi = mid
            else:
                _, offset, size = _ENTRY.unpack_from(rows, mid * width)
                return PackedObject(self.pack, offset, size)
        return None

    def entries(self) -> dict[str, PackedObject]:
        return {
            raw.hex(): PackedObject(self.pack, offset, size)
            for raw, offset, size in _ENTRY.iter_unpack(self._rows)
        }


def decode_index(data: bytes, pack_id: str) -> dict[str, PackedObject]:
    """The index's entries; IntegrityError if it is truncated, altered or not an index."""
    return IndexTable(data, pack_id).entries()


class PackWriter:
    """Appends objects to one new pack; `finish()` publishes the pack, then its index."""

    def __init__(self, backend: ObjectBackend) -> None:
        self._backend = backend
        self._temp: TempObject = backend.begin_write()
        self._hash = blake3.blake3(max_threads=blake3.blake3.AUTO)
        self._entries: list[tuple[str, int, int]] = []
        self._seen: set[str] = set()
        # Objects are a few KiB: written and hashed in large blocks, one write and one
        # (multi-threaded) hash update per block instead of per object. A thread of the
        # writer's own does both while the caller reads and hashes the next objects (the
        # write and blake3's update release the GIL): the writes were a fifth of the time
        # 50,000 small files took to add. One block at a time, so memory stays two blocks.
        self._block = bytearray()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="slipway-pack")
        self._written: Future[None] | None = None
        self.size = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, digest: object) -> bool:
        return digest in self._seen

    def entries(self) -> list[tuple[str, int, int]]:
        return list(self._entries)

    def add(self, digest: str, data: bytes) -> None:
        """Append `data` (whose BLAKE3 the caller computed as `digest`) unless already in."""
        if digest in self._seen:
            return
        self._seen.add(digest)
        self._block += data
        if len(self._block) >= _BLOCK:
            self._flush()
        self._entries.append((digest, self.size, len(data)))
        self.size += len(data)

    def _flush(self) -> None:
        if self._block:
            block, self._block = self._block, bytearray()
            self._wait()  # the block before, written (or its error raised here)
            self._written = self._writer.submit(self._write, block)

    def _write(self, block: bytearray) -> None:
        self._temp.file.write(block)
        self._hash.update(block)

    def _wait(self) -> None:
        if self._written is not None:
            written, self._written = self._written, None
            written.result()

    def finish(self) -> str | None:
        """Publish; the pack's id, or None (nothing written) if no object was added."""
        return self.finish_later().result()

    def finish_later(self) -> Future[str | None]:
        """`finish` in the writer's own thread, after the blocks queued before it: the caller
        reads the next files while this pack is made durable (an fsync of up to PACK_TARGET
        bytes, then its index). A pack that fails to publish is removed; the error is the
        future's."""
        if not self._entries:
            self.abort()
            done: Future[str | None] = Future()
            done.set_result(None)
            return done
        self._flush()
        last, self._written = self._written, None
        published = self._writer.submit(self._publish, last)
        self._writer.shutdown(wait=False)
        return published

    def _publish(self, last_block: Future[None] | None) -> str | None:
        try:
            if last_block is not None:
                last_block.result()  # the block before, written (one thread: it is done)
            pack_id = str(self._hash.hexdigest())
            self._temp.commit(pack_key(pack_id))
        except BaseException:
            self._temp.abort()
            raise
        index = self._backend.begin_write()
        try:
            index.file.write(encode_index(self._entries))
            index.commit(index_key(pack_id))
        except BaseException:
            index.abort()
            raise
        return pack_id

    def abort(self) -> None:
        self._writer.shutdown()  # waits for a block being written; its error no longer matters
        self._temp.abort()


class PackIndex:
    """Which pack holds each packed object, from every index in a store; reloaded on demand.

    Indexes loaded from the store are searched in place for the first lookups, then turned
    into one dict once lookups are many (as when 50,000 files are added).
    """

    def __init__(self, backend: ObjectBackend) -> None:
        self._backend = backend
        self._objects: dict[str, PackedObject] = {}
        self._tables: list[IndexTable] = []
        self._lookups = 0
        self._loaded: set[str] = set()
        self._lock = threading.Lock()
        self._refreshed_at = -1.0

    def find(self, digest: str, *, fresh: bool = False) -> PackedObject | None:
        found = self._lookup(digest)
        if found is None and (fresh or self._stale()):
            self.refresh()
            found = self._lookup(digest)
        return found

    def _lookup(self, digest: str) -> PackedObject | None:
        found = self._objects.get(digest)
        if found is not None or not self._tables:
            return found
        self._lookups += 1
        if self._lookups > _BISECT_LOOKUPS:
            self._merge()
            return self._objects.get(digest)
        raw = bytes.fromhex(digest)
        for table in self._tables:
            hit = table.find(raw)
            if hit is not None:
                return hit
        return None

    def _merge(self) -> None:
        with self._lock:
            for table in self._tables:
                self._objects.update(table.entries())
            self._tables = []

    def refresh(self) -> None:
        """Load the indexes of packs published since the last look."""
        with self._lock:
            self._refreshed_at = time.monotonic()
            for name in self._backend.list_folder(PACK_DIR):
                pack_id, dot, suffix = name.rpartition(".")
                if dot and suffix == "idx" and pack_id not in self._loaded:
                    with self._backend.open_read(index_key(pack_id)) as f:
                        self._tables.append(IndexTable(f.read(), pack_id))
                    self._loaded.add(pack_id)

    def add(self, pack_id: str, entries: dict[str, PackedObject]) -> None:
        """Know a pack this process just wrote (or loaded) without listing the store again."""
        self._objects.update(entries)
        self._loaded.add(pack_id)

    def packs(self) -> set[str]:
        self.refresh()
        return set(self._loaded)

    def objects(self) -> dict[str, PackedObject]:
        self.refresh()
        self._merge()
        return dict(self._objects)

    def forget(self, pack_id: str) -> None:
        with self._lock:
            self._loaded.discard(pack_id)
            self._tables = [t for t in self._tables if t.pack != pack_id]
            self._objects = {h: p for h, p in self._objects.items() if p.pack != pack_id}

    def _stale(self) -> bool:
        return time.monotonic() - self._refreshed_at > _REFRESH_EVERY_S


class SliceReader:
    """Reads `size` bytes from `offset` of an open pack file, then end of stream."""

    def __init__(self, raw: BinaryIO, offset: int, size: int) -> None:
        raw.seek(offset)
        self._raw = raw
        self._left = size

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        want = self._left if size < 0 else min(size, self._left)
        data = self._raw.read(want)
        if not data:
            raise IntegrityError("a pack file is shorter than its index says; it is truncated")
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> SliceReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
