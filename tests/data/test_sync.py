"""`slipway data push` and `pull`: a fresh clone gets its data back byte for byte, corruption
in the remote is caught before anything reaches the workspace, and an interrupted transfer
completes when run again."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from slipway.errors import IntegrityError
from slipway.objects import ObjectStore, hash_bytes
from slipway.objects._local import LocalTempObject
from slipway.objects._transfer import copy_objects
from tests.data.conftest import Cli, cli_runner

MiB = 1 << 20


@pytest.fixture
def cli(workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> Cli:
    """`slipway ARGS` in this process, in the current folder; checks the exit code.

    Every workspace of a test shares one metadata database, as a team shares a server's:
    a clone knows the versions its pointers name."""
    monkeypatch.setenv("SLIPWAY_METADATA_URL", f"sqlite:///{tmp_path / 'shared-meta.db'}")

    run = cli_runner(capsys)
    run("init")
    return run


def make_data(root: Path) -> None:
    """Nested folders, an empty file and folder, unicode names, a large file, a table."""
    images = root / "data" / "images"
    (images / "nested" / "deeper").mkdir(parents=True)
    (images / "hollow").mkdir()  # an empty folder
    (images / "a.txt").write_text("alpha\n")
    (images / "empty.bin").write_bytes(b"")
    (images / "nested" / "deeper" / "ünïcödé ✓.txt").write_text("snow ☃\n", encoding="utf-8")
    (images / "nested" / "日本語.bin").write_bytes(os.urandom(3000))
    (images / "big.bin").write_bytes(os.urandom(MiB + 12345))  # past the pack limit: loose
    (images / "table.csv").write_text("id,score\n1,0.5\n2,0.75\n3,1.0\n")
    (root / "data" / "single.bin").write_bytes(os.urandom(2048))  # a file version


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) under `root`."""
    return {
        path.relative_to(root).as_posix(): None if path.is_dir() else path.read_bytes()
        for path in sorted(root.rglob("*"))
    }


def clone(origin: Path, dest: Path) -> Path:
    """What `git clone` of the project gives: pointers, .gitignore files, slipway.toml."""
    for path in origin.rglob("*"):
        rel = path.relative_to(origin)
        tracked = path.name.endswith((".slipway", ".gitignore")) or rel.as_posix() in (
            ".slipway/slipway.toml",
        )
        if path.is_file() and tracked and not (rel.parts[0] == ".slipway" and len(rel.parts) > 2):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / rel)
    return dest


def store_files(store: Path) -> set[str]:
    return {p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file()}


def added(out: str) -> int:
    """The object count of a 'pushed N objects ...' or 'pulled N objects ...' line."""
    return int(out.split()[1])


@pytest.mark.s3
def test_push_to_s3_and_pull_into_a_fresh_clone(
    cli: Cli,
    workspace: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    moto_endpoint: str,
    s3_bucket: str,
) -> None:
    make_data(workspace)
    cli("data", "add", "data/images")
    cli("data", "add", "data/single.bin")
    origin = snapshot(workspace / "data")
    cli(
        "data", "remote", "add", "s3", f"s3://{s3_bucket}/store",
        "-o", f"endpoint_url={moto_endpoint}",
        "-o", "key=testing",
        "-o", "secret=testing",
        "-o", 'client_kwargs={"region_name": "us-east-1"}',
        "-o", "skip_instance_cache=true",
    )  # fmt: skip

    out, _ = cli("data", "push")
    # 9 objects: 2 versions' own, 6 files (small ones packed, a pack per add), 1 profile.
    assert out.startswith("pushed 9 objects (") and out.endswith(" in 2 packs to s3\n"), out
    out, _ = cli("data", "push")
    assert out == "pushed 0 objects (0.0 MiB) in 0 packs to s3 (9 were there already)\n"
    remote = ObjectStore.from_url(
        f"s3://{s3_bucket}/store",
        {
            "endpoint_url": moto_endpoint,
            "key": "testing",
            "secret": "testing",
            "skip_instance_cache": True,
        },
    )
    assert len(set(remote.iter_hashes())) == 9
    assert remote.backend.list_folder("tmp") == []  # no temporaries left behind

    fresh = clone(workspace, tmp_path / "fresh")
    monkeypatch.chdir(fresh)
    assert not (fresh / "data" / "images").exists()
    out, _ = cli("data", "pull")
    assert out.splitlines() == [
        out.splitlines()[0],
        "data/images: images@v1 (6 written, 0 removed)",
        "data/single.bin: single.bin@v1 (1 written, 0 removed)",
    ]
    assert added(out) == 9
    assert snapshot(fresh / "data") == origin  # byte for byte, empty file and folder included
    out, _ = cli("data", "show", "images@v1")  # the table's profile came along
    assert "table.csv: 3 rows" in out
    out, _ = cli("data", "status")
    assert "modified" not in out and "missing" not in out
    out, _ = cli("data", "pull")
    assert out.startswith("pulled 0 objects")


def two_versions_and_a_clone(cli: Cli, workspace: Path, tmp_path: Path) -> tuple[Path, Path]:
    """v1 pushed and pulled into a clone; v2 (a changed small file, a new large one) pushed."""
    make_data(workspace)
    cli("data", "add", "data/images")
    cli("data", "remote", "add", "origin", "file://../remote")
    cli("data", "push")
    fresh = clone(workspace, tmp_path / "fresh")
    os.chdir(fresh)
    cli("data", "pull")
    os.chdir(workspace)
    (workspace / "data" / "images" / "a.txt").write_text("alpha, revised\n")
    (workspace / "data" / "images" / "big2.bin").write_bytes(os.urandom(MiB + 1))
    cli("data", "add", "data/images")
    cli("data", "push")
    return fresh, workspace.parent / "remote"


@pytest.mark.parametrize("damaged", ["pack", "loose object"])
def test_a_corrupt_remote_is_caught_and_the_workspace_left_alone(
    cli: Cli, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damaged: str
) -> None:
    fresh, remote = two_versions_and_a_clone(cli, workspace, tmp_path)
    before = snapshot(fresh / "data")
    revised = hash_bytes(b"alpha, revised\n")
    big2 = hash_bytes((workspace / "data" / "images" / "big2.bin").read_bytes())
    if damaged == "pack":
        pack = ObjectStore.from_url(f"file://{remote}").packs.objects()[revised].pack
        name, victim = pack, remote / "packs" / f"{pack}.pack"
    else:
        name, victim = big2, remote / big2[:2] / big2[2:]
    good = victim.read_bytes()
    victim.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))  # one bit flipped

    shutil.copyfile(workspace / "data" / "images.slipway", fresh / "data" / "images.slipway")
    monkeypatch.chdir(fresh)  # `git pull` brought the pointer to v2
    _, err = cli("data", "pull", code=6)  # IntegrityError
    kind = "pack" if damaged == "pack" else "object"
    assert err.startswith("error: ") and f"{kind} {name} in file://{remote}" in err
    assert "is corrupt" in err and "it was not copied" in err
    assert snapshot(fresh / "data") == {  # nothing checked out: still v1, only the pointer moved
        **before,
        "images.slipway": (fresh / "data" / "images.slipway").read_bytes(),
    }
    local = fresh / ".slipway" / "objects"
    assert not any(name in path for path in store_files(local))  # none of it installed
    assert not list((local / "tmp").iterdir())

    victim.write_bytes(good)  # repaired in the remote: the same pull now completes
    # --force: checkout takes v1's files for unsaved changes once the pointer names v2.
    cli("data", "pull", "--force")
    assert snapshot(fresh / "data" / "images") == snapshot(workspace / "data" / "images")


def test_a_push_stopped_between_a_pack_and_its_index_completes_when_run_again(
    cli: Cli, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_data(workspace)
    cli("data", "add", "data/images")
    cli("data", "remote", "add", "origin", "file://../remote")
    commit = LocalTempObject.commit

    def crash_on_index(self: LocalTempObject, key: str) -> bool:
        if key.endswith(".idx"):
            raise OSError(28, "No space left on device")
        return commit(self, key)

    with monkeypatch.context() as patch:
        patch.setattr(LocalTempObject, "commit", crash_on_index)
        _, err = cli("data", "push", code=8)  # Unavailable
    assert "No space left on device" in err
    remote = workspace.parent / "remote"
    packs = sorted(p.name for p in (remote / "packs").iterdir())
    assert len(packs) == 1 and packs[0].endswith(".pack")  # a pack without its index: unseen
    assert ObjectStore.from_url(f"file://{remote}").packs.objects() == {}

    out, _ = cli("data", "push")
    assert "in 1 packs to origin" in out
    assert len(list((remote / "packs").iterdir())) == 2
    fresh = clone(workspace, tmp_path / "fresh")
    monkeypatch.chdir(fresh)
    cli("data", "pull")
    assert snapshot(fresh / "data" / "images") == snapshot(workspace / "data" / "images")


def test_push_and_pull_take_paths_and_versions(
    cli: Cli, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_data(workspace)
    cli("data", "add", "data/images")
    cli("data", "add", "data/single.bin")
    cli("data", "remote", "add", "origin", "file://../remote")
    out, _ = cli("data", "push", "data/single.bin")
    assert added(out) == 1 and "in 1 packs" in out  # a small file travels in its pack
    out, _ = cli("data", "push", "images@v1")
    assert added(out) == 8
    _, err = cli("data", "push", "data/nothing-here", code=2)
    assert "data/nothing-here does not exist" in err
    _, err = cli("data", "push", "missing@v1", code=3)
    assert "dataset 'missing' does not exist" in err

    fresh = clone(workspace, tmp_path / "fresh")
    monkeypatch.chdir(fresh)
    out, _ = cli("data", "pull", "images@v1")  # a version is fetched, not checked out
    assert not (fresh / "data" / "images").exists()
    out, _ = cli("data", "pull", "data/images")
    assert out.startswith("pulled 0 objects")  # all there already
    assert out.splitlines()[1] == "data/images: images@v1 (6 written, 0 removed)"
    assert not (fresh / "data" / "single.bin").exists()


# A `slipway` whose every publish of an object at the destination takes a while, announced on
# stdout: the test kills it, with SIGKILL, in the middle of a transfer.
SLOW_SLIPWAY = """
import sys, time
from slipway.objects import _local

commit = _local.LocalTempObject.commit

def slow_commit(self, key):
    time.sleep(0.15)
    done = commit(self, key)
    print("published", key, flush=True)
    return done

_local.LocalTempObject.commit = slow_commit
from slipway.cli.main import main
main(sys.argv[1:])
"""


def kill_after(published: int, *args: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_SLIPWAY, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert child.stdout is not None
    seen = []
    while len(seen) < published:
        line = child.stdout.readline()
        assert line, f"slipway ended before it was killed: {seen}"
        seen += [line] if line.startswith("published") else []
    os.kill(child.pid, signal.SIGKILL)
    child.wait()


def test_killed_push_and_pull_complete_when_run_again(
    cli: Cli, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_data(workspace)
    for n in range(8):
        (workspace / "data" / "images" / f"large-{n}.bin").write_bytes(os.urandom(MiB + n))
    cli("data", "add", "data/images")
    cli("data", "remote", "add", "origin", "file://../remote")
    remote = workspace.parent / "remote"
    total = 1 + 9 + 5 + 1  # manifest, 9 large files, 5 small ones, the table profile

    kill_after(3, "data", "push", "--jobs", "2")
    partial = ObjectStore.from_url(f"file://{remote}")
    copied = set(partial.iter_hashes())
    assert 0 < len(copied) < total
    for digest in copied:
        partial.verify(digest)  # whatever is visible is whole; the rest were temporaries
    out, _ = cli("data", "push")
    assert added(out) == total - len(copied) and f"({len(copied)} were there already)" in out
    assert len(set(ObjectStore.from_url(f"file://{remote}").iter_hashes())) == total

    fresh = clone(workspace, tmp_path / "fresh")
    monkeypatch.chdir(fresh)
    kill_after(3, "data", "pull", "--jobs", "2")
    assert not (fresh / "data" / "images").exists()  # checkout comes after every transfer
    partial = ObjectStore.from_url(f"file://{fresh / '.slipway' / 'objects'}")
    for digest in partial.iter_hashes():
        partial.verify(digest)
    out, _ = cli("data", "pull")
    assert 0 < added(out) < total
    assert snapshot(fresh / "data" / "images") == snapshot(workspace / "data" / "images")


def test_a_few_objects_of_a_large_pack_travel_in_a_new_pack(tmp_path: Path) -> None:
    src = ObjectStore.from_url(f"file://{tmp_path / 'src'}")
    dst = ObjectStore.from_url(f"file://{tmp_path / 'dst'}")
    folder = tmp_path / "files"
    folder.mkdir()
    contents = {f"f{n}": os.urandom(20_000 + n) for n in range(6)}
    for name, data in contents.items():
        (folder / name).write_bytes(data)
    infos = src.put_files(sorted(folder.iterdir()))
    wanted = [infos[0].hash, infos[3].hash]  # a third of the pack: not worth all of it

    report = copy_objects(src, dst, wanted)
    assert (report.objects, report.packs, report.present) == (2, 1, 0)
    assert report.bytes == 20_000 + 20_003
    (pack,) = {p.pack for p in dst.packs.objects().values()}
    assert pack not in {p.pack for p in src.packs.objects().values()}  # a new pack
    assert set(dst.iter_hashes()) == set(wanted)
    for digest in wanted:
        dst.verify(digest)

    report = copy_objects(src, dst, [i.hash for i in infos])  # most of it: the whole pack
    assert (report.objects, report.packs, report.present) == (6, 1, 2)
    assert set(dst.iter_hashes()) == {i.hash for i in infos}


def test_a_corrupt_object_inside_a_pack_is_not_copied(tmp_path: Path) -> None:
    src = ObjectStore.from_url(f"file://{tmp_path / 'src'}")
    dst = ObjectStore.from_url(f"file://{tmp_path / 'dst'}")
    (tmp_path / "a").write_bytes(b"a" * 1000)
    (tmp_path / "b").write_bytes(b"b" * 9000)
    a, _ = src.put_files([tmp_path / "a", tmp_path / "b"])
    found = src.packs.find(a.hash)
    assert found is not None
    pack_file = tmp_path / "src" / "packs" / f"{found.pack}.pack"
    data = bytearray(pack_file.read_bytes())
    data[found.offset] ^= 1
    pack_file.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=f"object {a.hash} in pack {found.pack} .* corrupt"):
        copy_objects(src, dst, [a.hash])  # a small share: copied alone, checked alone
    assert list(dst.iter_hashes()) == []
    assert not list((tmp_path / "dst" / "tmp").iterdir())


def test_objects_missing_on_either_side_are_named(
    cli: Cli, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _ = cli("data", "remote", "add", "origin", "file://../remote")
    out, _ = cli("data", "push")
    assert out == "nothing to push: no tracked data here; `slipway data add PATH` starts\n"
    make_data(workspace)
    cli("data", "add", "data/images")
    big = hash_bytes((workspace / "data" / "images" / "big.bin").read_bytes())
    cli("data", "push")
    (workspace.parent / "remote" / big[:2] / big[2:]).unlink()  # lost in the remote
    fresh = clone(workspace, tmp_path / "fresh")
    monkeypatch.chdir(fresh)
    _, err = cli("data", "pull", code=3)
    assert f"1 object(s) are not in file://{workspace.parent / 'remote'}: {big}" in err
    assert "remote 'origin' lacks data the pointers name" in err
    assert not (fresh / "data" / "images").exists()
    _, err = cli("data", "push", code=3)  # this clone has not got it either
    assert f"{big}; this workspace lacks data its pointers name" in err


def test_push_reads_what_to_send_from_the_pointers_alone(
    cli: Cli, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pointers name the version's table profiles too, so a push of them never opens the
    metadata store; a pointer written before they did still gets its profile sent."""
    make_data(workspace)
    cli("data", "add", "data/images")
    cli("data", "remote", "add", "origin", "file://../remote")
    pointer = workspace / "data" / "images.slipway"
    assert "\nprofile: " in pointer.read_text()

    def no_metadata_store(settings: object, store: object) -> None:
        raise AssertionError("push opened the metadata store")

    with monkeypatch.context() as patched:
        patched.setattr("slipway.data._data._connect", no_metadata_store)
        out, _ = cli("data", "push")
    assert added(out) == 8  # the manifest, 6 files, the profile
    old_style = "".join(
        line for line in pointer.read_text().splitlines(True) if not line.startswith("profile:")
    )
    pointer.write_text(old_style)
    shutil.rmtree(workspace.parent / "remote")
    out, _ = cli("data", "push")
    assert added(out) == 8
