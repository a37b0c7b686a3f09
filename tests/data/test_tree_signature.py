"""The stat signature a no-op `slipway data status` compares: taken from the disk it equals
the one taken from a full scan, and any touch changes it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from slipway.workspace import _signature as signature
from slipway.workspace._scan import scan


def _tree(root: Path) -> Path:
    for rel, body in {
        "top.csv": b"a,b\n1,2\n",
        "empty.bin": b"",
        "part-0/x.bin": b"x" * 100,
        "part-0/deeper/y.bin": b"y",
        "part-1/z.bin": b"z" * 7,
        "part-1/ünïcode näme.txt": "é".encode(),
        "only-folders/inner/leaf.txt": b"leaf",
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    (root / "part-1" / "run.sh").write_text("#!/bin/sh\n")
    (root / "part-1" / "run.sh").chmod(0o755)
    (root / "no-files" / "empty").mkdir(parents=True)
    (root / "part-2").mkdir()
    return root


def test_from_disk_equals_from_a_scan(tmp_path: Path) -> None:
    root = _tree(tmp_path / "data")
    assert signature.of_disk(str(root)) == signature.of_tree(scan(root))


CHANGES: dict[str, Callable[[Path], None]] = {
    "append": lambda r: (r / "part-1" / "z.bin").open("ab").write(b"!"),
    "touch": lambda r: os.utime(r / "part-0" / "deeper" / "y.bin", ns=(1, 1)),
    "rename": lambda r: (r / "top.csv").rename(r / "top2.csv"),
    "delete": lambda r: (r / "empty.bin").unlink(),
    "new empty folder": lambda r: (r / "part-0" / "new").mkdir(),
    "remove empty folder": lambda r: (r / "no-files" / "empty").rmdir(),
    "executable bit": lambda r: (r / "part-0" / "x.bin").chmod(0o755),
    "replace in place": lambda r: _replace(r / "part-1" / "z.bin"),
}


def _replace(path: Path) -> None:
    """Same size and mtime, another inode: what a `cp` over it or an editor's save may do."""
    info = path.stat()
    copy = path.with_name("tmp")
    copy.write_bytes(path.read_bytes())
    os.utime(copy, ns=(info.st_atime_ns, info.st_mtime_ns))
    copy.replace(path)


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_change_moves_it(tmp_path: Path, change: str) -> None:
    root = _tree(tmp_path / "data")
    before = signature.of_disk(str(root))
    CHANGES[change](root)
    after = signature.of_disk(str(root))
    assert after is not None and after != before
    assert after == signature.of_tree(scan(root))


def test_a_symlink_leaves_it_to_the_full_scan(tmp_path: Path) -> None:
    root = _tree(tmp_path / "data")
    (root / "part-0" / "link.bin").symlink_to(root / "part-0" / "x.bin")
    assert signature.of_disk(str(root)) is None
    assert "part-0/link.bin" in {f.rel for f in scan(root).files}  # stored as its content


def test_the_newest_mtime_comes_with_it(tmp_path: Path) -> None:
    root = _tree(tmp_path / "data")
    newest = 1_800_000_000 * 10**9
    os.utime(root / "part-1" / "z.bin", ns=(newest, newest))
    found = signature.of_disk(str(root))
    assert found is not None and found[1] == newest
