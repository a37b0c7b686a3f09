"""Adding a folder again reads only the subfolders that changed, and the version it records
is the one a first add of the same files would record (its snapshot kept in parts)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from slipway.data import Data
from slipway.objects import Entry, Manifest, hash_bytes, hash_file, walk
from slipway.workspace import _add as _folder_add
from tests.conftest import SLIPWAY, clean_env, settings_for

MANY = 4_200  # files: enough that storing them fills more than one progress report

PAST = 1_700_000_000_000_000_000  # well before the racy window: the snapshot may vouch


@pytest.fixture
def datasets(workspace: Path, sqlite_url: str) -> Iterator[Data]:
    made = Data(settings=settings_for(workspace, sqlite_url))
    yield made
    made.close()


def expected_hash(root: Path) -> str:
    """The manifest hash of `root` computed from scratch, with no snapshot involved."""
    files, empty = walk(root)
    entries = [Entry(rel, hash_file(full)[0], full.stat().st_size, x) for rel, full, x in files]
    return hash_bytes(Manifest(tuple(entries), tuple(empty)).to_bytes())


def dated(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        os.utime(path, ns=(PAST, PAST), follow_symlinks=False)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_folders(root: Path, folders: int = 8, files: int = 20) -> None:
    for f in range(folders):
        for i in range(files):
            write(root / f"part-{f}" / f"file-{i:02d}.txt", f"{f}/{i}\n")
    write(root / "top.txt", "top\n")


def test_a_few_changes_are_read_alone_and_give_the_same_version_as_a_first_add(
    datasets: Data, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = workspace / "data"
    make_folders(data)
    dated(data)
    first = datasets.add(data)
    assert first.hashed == 161
    write(data / "part-3" / "file-05.txt", "changed\n")
    write(data / "part-6" / "new.txt", "new\n")
    dated(data)

    def whole_scan(root: Path) -> None:
        raise AssertionError(f"{root} was scanned whole")

    monkeypatch.setattr(_folder_add, "scan", whole_scan)
    again = datasets.add(data)
    assert again.version.version == 2
    assert again.hashed == 2  # the other 159 files were vouched for by their parts
    assert again.version.object_hash == expected_hash(data)
    assert (again.version.file_count, again.version.size) == (162, _size(data))


@pytest.mark.parametrize(
    "change",
    [
        "remove a folder",
        "add a nested folder",
        "empty a folder",
        "make a folder empty and keep it",
        "interleave",
        "executable bit",
        "rename a file",
    ],
)
def test_every_kind_of_change_records_what_a_first_add_would(
    datasets: Data, workspace: Path, change: str
) -> None:
    data = workspace / "data"
    make_folders(data, folders=4, files=5)
    (data / "empty").mkdir()
    dated(data)
    datasets.add(data)
    if change == "remove a folder":
        shutil.rmtree(data / "part-1")
    elif change == "add a nested folder":
        write(data / "empty" / "inner" / "x.txt", "x\n")
    elif change == "empty a folder":
        for path in (data / "part-2").iterdir():
            path.unlink()
    elif change == "make a folder empty and keep it":
        (data / "part-0" / "sub").mkdir()
    elif change == "interleave":  # part-1/sub/... sorts between part-1/a and part-1/z
        write(data / "part-1" / "a", "a\n")
        write(data / "part-1" / "sub" / "m.txt", "m\n")
        write(data / "part-1" / "z", "z\n")
    elif change == "executable bit":
        (data / "part-3" / "file-01.txt").chmod(0o755)
    elif change == "rename a file":
        (data / "part-2" / "file-00.txt").rename(data / "part-2" / "renamed.txt")
    dated(data)
    result = datasets.add(data)
    assert result.version.object_hash == expected_hash(data)
    assert datasets.status()[0].state == "unchanged"
    unchanged = datasets.add(data)
    assert not unchanged.version.created
    assert unchanged.hashed == 0


def test_the_cli_records_a_version_and_reports_its_errors(workspace: Path) -> None:
    """`slipway data add` records the version it stored, and says why it cannot (a bad
    project name) before it stores or writes anything."""
    data = workspace / "data"
    make_folders(data, folders=2, files=3)

    def slipway(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SLIPWAY, *args], cwd=workspace, env=clean_env(), capture_output=True, text=True
        )

    assert slipway("init").returncode == 0
    refused = slipway("data", "add", "data", "--project", "bad name!")
    assert refused.returncode == 2
    assert "invalid name 'bad name!'" in refused.stderr
    assert not (workspace / "data.slipway").exists()
    done = slipway("data", "add", "data")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["data@v1", expected_hash(data)]
    assert "version: 1" in (workspace / "data.slipway").read_text()
    assert slipway("data", "log", "data").stdout.count("v1") >= 1


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def test_many_files_are_stored_and_repeated_content_counted_once(workspace: Path) -> None:
    """The CLI stores thousands of files: same version as computed from scratch, every file
    readable back, and content found many times counted as one new object."""
    data = workspace / "data"
    count = MANY
    for i in range(count):
        # Every 100th file repeats one content, across the whole batch.
        text = "shared\n" if i % 100 == 0 else f"file {i}\n"
        write(data / f"part-{i % 20:02d}" / f"f-{i:05d}.txt", text)
    dated(data)

    def slipway(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SLIPWAY, *args], cwd=workspace, env=clean_env(), capture_output=True, text=True
        )

    assert slipway("init").returncode == 0
    added = slipway("data", "add", "data")
    assert added.returncode == 0, added.stderr
    assert added.stdout.split() == ["data@v1", expected_hash(data)]
    unique = count - count // 100 + 1
    assert f"hashed {count}, stored {unique} new objects" in added.stderr
    shutil.rmtree(data)
    restored = slipway("data", "checkout")
    assert restored.returncode == 0, restored.stderr
    assert (data / "part-00" / "f-00000.txt").read_text() == "shared\n"
    assert (data / "part-07" / "f-04007.txt").read_text() == "file 4007\n"
    assert expected_hash(data) == added.stdout.split()[1]
