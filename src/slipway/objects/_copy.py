"""Copy a large file into the store and hash the copy, both at disk speed.

One thread copies in the kernel (`copy_file_range`: no bytes pass through Python) and asks
the kernel to start writing each copied stretch to disk at once (`sync_file_range`), so
the fsync before publishing finds little left to do; the calling thread hashes what has
been copied, mapped from the page cache (`mmap`: reading it into a buffer is one more copy
of every byte, and on the VM measured, reading 2 GiB back cost more than hashing it). The
hash is taken of the copy, not the source, so the object's name is the hash of what it
holds even if the source changes meanwhile. Where the kernel cannot copy between the two
files, the bytes go through a buffer instead; where it cannot start writeback early, the
final fsync does it all.
"""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import os
import queue
import sys
import threading
from collections.abc import Callable

from slipway.objects._hashing import Hasher, hasher
from slipway.objects._progress import Advance

STEP = 32 << 20  # per copy call: small enough to hash while the next one copies
_SYNC_FILE_RANGE_WRITE = 2  # start writeback of dirty pages, do not wait for it
_Done = tuple[int, int] | BaseException | None


def copy_hashing(src: int, dst: int, advance: Advance | None = None) -> tuple[str, int]:
    """Copy `src` from its start to its end into `dst` (empty, opened for reading and
    writing); return the copy's hash and size. `advance(0, n)` is told of each stretch."""
    copied: queue.SimpleQueue[_Done] = queue.SimpleQueue()
    stop = threading.Event()
    copier = threading.Thread(target=_copy, args=(src, dst, copied, stop), daemon=True)
    copier.start()
    h, size = hasher(), 0
    try:
        while (done := copied.get()) is not None:
            if isinstance(done, BaseException):
                raise done
            offset, length = done
            _hash_stretch(h, dst, offset, length)  # what was copied is what gets published
            size += length
            if advance is not None:
                advance(0, length)
    finally:
        stop.set()  # on an error here, the copier stops after its current stretch
        copier.join()
    return str(h.hexdigest()), size


def _hash_stretch(h: Hasher, fd: int, offset: int, length: int) -> None:
    """Hash `length` bytes of `fd` from `offset`."""
    if os.fstat(fd).st_size < offset + length:
        raise OSError(f"the copy ended early: {length} bytes at offset {offset} are missing")
    skip = offset % mmap.ALLOCATIONGRANULARITY  # a short copy leaves offsets unaligned
    with mmap.mmap(fd, skip + length, access=mmap.ACCESS_READ, offset=offset - skip) as mapped:
        view = memoryview(mapped)
        try:
            h.update(view[skip:])
        finally:
            view.release()  # or closing the map fails: it is still exported


def _copy(src: int, dst: int, copied: queue.SimpleQueue[_Done], stop: threading.Event) -> None:
    try:
        offset = 0
        copy = _kernel_copy if hasattr(os, "copy_file_range") else _buffered_copy
        while not stop.is_set():
            try:
                length = copy(src, dst, offset)
            except OSError:
                if copy is _buffered_copy or offset:
                    raise
                copy = _buffered_copy  # e.g. across filesystems on an older kernel
                continue
            if length == 0:
                break
            _start_writeback(dst, offset, length)
            copied.put((offset, length))
            offset += length
        copied.put(None)
    except BaseException as exc:  # handed to the hashing thread, which raises it
        copied.put(exc)


def _kernel_copy(src: int, dst: int, offset: int) -> int:
    return os.copy_file_range(src, dst, STEP, offset, offset)


def _buffered_copy(src: int, dst: int, offset: int) -> int:
    data = os.pread(src, STEP, offset)
    written = 0
    while written < len(data):
        written += os.pwrite(dst, data[written:], offset + written)
    return len(data)


def _writeback_call() -> Callable[[int, int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    with contextlib.suppress(OSError, AttributeError):
        call = ctypes.CDLL(None, use_errno=True).sync_file_range
        call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
        call.restype = ctypes.c_int
        return call
    return None


_sync_file_range = _writeback_call()


def _start_writeback(fd: int, offset: int, length: int) -> None:
    # Only a head start for the fsync at commit, which alone guarantees durability: a
    # failure here changes nothing but speed.
    if _sync_file_range is not None:
        _sync_file_range(fd, offset, length, _SYNC_FILE_RANGE_WRITE)
