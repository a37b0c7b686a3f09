"""Materialize a local object as a workspace file: reflink, hardlink or copy."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path

FICLONE = 0x40049409  # from linux/fs.h: share extents copy-on-write (btrfs, xfs)


class LinkMode(StrEnum):
    REFLINK = "reflink"
    HARDLINK = "hardlink"
    COPY = "copy"


# Safe by default: both leave the workspace file independent of the store.
# Hardlinks are fast but share the inode, so they are opt-in only.
DEFAULT_LINK_MODES: tuple[LinkMode, ...] = (LinkMode.REFLINK, LinkMode.COPY)


def reflink(src: Path, dst: Path) -> None:
    with src.open("rb") as s, dst.open("xb") as d:
        try:
            fcntl.ioctl(d.fileno(), FICLONE, s.fileno())
        except OSError:
            d.close()
            dst.unlink(missing_ok=True)
            raise


def place(src: Path, dst: Path, modes: Sequence[LinkMode]) -> LinkMode:
    """Create `dst` (which must not exist) from `src` by the first mode that works."""
    last: OSError | None = None
    for mode in modes:
        try:
            if mode is LinkMode.REFLINK:
                reflink(src, dst)
            elif mode is LinkMode.HARDLINK:
                # The store copy becomes read-only so an in-place edit cannot corrupt it.
                with contextlib.suppress(OSError):
                    os.chmod(src, 0o444)
                os.link(src, dst)
            else:
                shutil.copyfile(src, dst)
            return mode
        except OSError as exc:
            if exc.errno not in {
                errno.EOPNOTSUPP,
                errno.EXDEV,
                errno.EINVAL,
                errno.ENOTTY,
                errno.EPERM,
                errno.EMLINK,
                errno.ENOSYS,
            }:
                raise
            last = exc
    raise OSError(f"none of the link modes {[m.value for m in modes]} work here: {last}")
