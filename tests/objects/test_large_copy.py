"""Large files enter a local store by a kernel copy hashed as it goes (objects/_copy.py)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from slipway.objects import ObjectStore, _copy, hash_file

SMALL_STEP = 64 << 10  # so that a few hundred KiB make several stretches


@pytest.fixture(autouse=True)
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_copy, "STEP", SMALL_STEP)


def _copy_file(tmp_path: Path, data: bytes) -> tuple[str, int, bytes, list[int]]:
    source, dest = tmp_path / "source.bin", tmp_path / "dest.bin"
    source.write_bytes(data)
    told: list[int] = []
    with source.open("rb") as src, dest.open("xb+") as dst:
        digest, size = _copy.copy_hashing(
            src.fileno(), dst.fileno(), lambda files, n: told.append(n)
        )
    return digest, size, dest.read_bytes(), told


@pytest.mark.parametrize(
    "size", [0, 1, SMALL_STEP - 1, SMALL_STEP, SMALL_STEP + 1, 5 * SMALL_STEP + 7]
)
def test_the_copy_is_byte_exact_and_named_by_its_hash(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    digest, copied, written, told = _copy_file(tmp_path, data)
    assert written == data
    assert (digest, copied) == hash_file(tmp_path / "source.bin")
    assert sum(told) == size  # the progress bar saw every byte


def test_without_a_kernel_copy_the_bytes_go_through_a_buffer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> int:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "copy_file_range", refuse)
    data = os.urandom(3 * SMALL_STEP + 11)
    digest, size, written, _ = _copy_file(tmp_path, data)
    assert written == data
    assert (digest, size) == hash_file(tmp_path / "source.bin")


def test_a_failure_half_way_reaches_the_caller_and_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.copy_file_range

    def fail_late(src: int, dst: int, count: int, offset_src: int, offset_dst: int) -> int:
        if offset_src >= 2 * SMALL_STEP:
            raise OSError(errno.EIO, "Input/output error")
        return real(src, dst, count, offset_src, offset_dst)

    monkeypatch.setattr(os, "copy_file_range", fail_late)
    store = ObjectStore.from_url(f"file://{tmp_path / 'objects'}")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(4 << 20))  # large enough to be stored loose, not packed
    with pytest.raises(OSError, match="Input/output error"):
        store.put_files([big])
    assert list(store.iter_hashes()) == []
    assert list((tmp_path / "objects" / "tmp").iterdir()) == []  # the temporary is gone


def test_a_large_file_is_stored_loose_under_its_hash(tmp_path: Path) -> None:
    store = ObjectStore.from_url(f"file://{tmp_path / 'objects'}")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom((4 << 20) + 3))
    [info] = store.put_files([big])
    assert (info.hash, info.size, info.created) == (*hash_file(big), True)
    assert store.read_bytes(info.hash) == big.read_bytes()
    assert (tmp_path / "objects" / info.hash[:2] / info.hash[2:]).is_file()
    [again] = store.put_files([big])
    assert (again.hash, again.created) == (info.hash, False)
