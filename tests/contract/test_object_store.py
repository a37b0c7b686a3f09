"""The object store contract, run against a local folder and S3 (moto's server, via s3fs)."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import Any

import blake3
import pytest

from slipway.errors import ConfigError, IntegrityError, InvalidInput, NotFound, Unavailable
from slipway.objects import LinkMode, ObjectStore
from slipway.objects._hashing import key_of

Location = tuple[str, dict[str, object]]


@pytest.fixture
def store(objects_location: Location) -> ObjectStore:
    url, options = objects_location
    return ObjectStore.from_url(url, options)


def corrupt(store: ObjectStore, digest: str, data: bytes) -> None:
    """Overwrite an object's bytes behind the store's back, as disk rot or tampering would."""
    backend = store.backend
    local = backend.local_path(key_of(digest))
    if local is not None:
        local.chmod(0o644)
        local.write_bytes(data)
    else:
        backend.fs.pipe(backend.full(key_of(digest)), data)  # type: ignore[attr-defined]


def test_bytes_round_trip_under_their_blake3_hash(store: ObjectStore) -> None:
    data = b"hello slipway" * 1000
    info = store.put_bytes(data)
    assert info.hash == blake3.blake3(data).hexdigest()
    assert info.size == len(data) and info.created
    assert store.exists(info.hash) and store.size(info.hash) == len(data)
    assert store.read_bytes(info.hash) == data


def test_identical_content_is_stored_once(store: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "a.bin"
    source.write_bytes(os.urandom(100_000))
    first = store.put_file(source)
    second = store.put_file(source)
    third = store.put_stream(io.BytesIO(source.read_bytes()))
    assert first.hash == second.hash == third.hash
    assert (first.created, second.created, third.created) == (True, False, False)
    assert list(store.iter_hashes()) == [first.hash]


def test_large_stream_round_trips(store: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    with source.open("wb") as f:
        for _ in range(12):
            f.write(os.urandom(1 << 20))
    info = store.put_file(source)
    dest = tmp_path / "out" / "big.bin"
    store.get_file(info.hash, dest)
    assert dest.read_bytes() == source.read_bytes()


def test_empty_object(store: ObjectStore) -> None:
    info = store.put_bytes(b"")
    assert store.read_bytes(info.hash) == b""


def test_corrupted_object_raises_integrity_error_on_read(store: ObjectStore) -> None:
    info = store.put_bytes(b"the true content")
    corrupt(store, info.hash, b"the evil content")
    with pytest.raises(IntegrityError, match=info.hash):
        store.read_bytes(info.hash)


def test_corrupted_object_never_reaches_the_workspace(store: ObjectStore, tmp_path: Path) -> None:
    info = store.put_bytes(b"v2 content")
    dest = tmp_path / "workspace" / "data.csv"
    dest.parent.mkdir()
    dest.write_bytes(b"what the user has now")
    corrupt(store, info.hash, b"rotten bytes")
    with pytest.raises(IntegrityError, match=f"object {info.hash} .* is corrupt"):
        store.get_file(info.hash, dest)
    assert dest.read_bytes() == b"what the user has now"
    assert [p.name for p in dest.parent.iterdir()] == ["data.csv"]  # no temporaries left


@pytest.mark.parametrize(
    "bad", ["../../etc/passwd", "ab" * 40, "", "A" * 64, "/" + "a" * 63, "a" * 64 + "\n"]
)
def test_malformed_hashes_are_refused(store: ObjectStore, bad: str) -> None:
    with pytest.raises(InvalidInput, match="not an object hash"):
        store.read_bytes(bad)


@pytest.mark.parametrize(
    "bad", [["a" * 64 + "\n" + "b" * 64], ["a" * 64, "a" * 64 + "\n"], ["a" * 64, "A" * 64]]
)
def test_a_manifest_with_a_malformed_hash_is_refused_by_push_and_checkout(
    store: ObjectStore, bad: list[str]
) -> None:
    """Hashes are checked in bulk (one regex over them joined by newlines): a value that
    holds a newline must not pass as two hashes, or as one."""
    import json

    entries = [
        {"executable": False, "hash": h, "path": f"f{n}", "size": 1} for n, h in enumerate(bad)
    ]
    body = {"empty_dirs": [], "entries": entries, "format": "slipway.manifest/1"}
    digest = store.put_bytes(json.dumps(body).encode()).hash
    with pytest.raises(IntegrityError, match="not an object hash"):
        store.manifest_hashes(digest)
    with pytest.raises(IntegrityError, match="not an object hash"):
        store.read_manifest(digest)


def test_missing_object_is_not_found(store: ObjectStore) -> None:
    with pytest.raises(NotFound, match=r"object .* is not in "):
        store.read_bytes("0" * 64)


def test_tree_round_trips_byte_exactly(store: ObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "src"
    files = {
        "a.txt": b"alpha",
        "empty.bin": b"",
        "nested/deeper/b.csv": b"x,y\n1,2\n",
        "nested/dup.txt": b"alpha",
        "ünïcødé/ファイル.txt": "héllo".encode(),
        "run.sh": b"#!/bin/sh\necho hi\n",
    }
    for rel, data in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    (src / "run.sh").chmod(0o755)
    (src / "empty_dir").mkdir()
    info = store.put_tree(src)
    assert info.size == sum(len(v) for v in files.values())

    dest = tmp_path / "dest"
    manifest = store.get_tree(info.hash, dest)
    assert {e.path for e in manifest.entries} == set(files)
    for rel, data in files.items():
        assert (dest / rel).read_bytes() == data
    assert os.access(dest / "run.sh", os.X_OK)
    assert not os.access(dest / "a.txt", os.X_OK)
    assert (dest / "empty_dir").is_dir()
    # identical files are one object; the manifest is one more
    assert len(list(store.iter_hashes())) == len(set(files.values())) + 1


def test_tree_refuses_symlinks_leading_outside(store: ObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (tmp_path / "secret.txt").write_text("not yours")
    (src / "link.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(InvalidInput, match="links outside"):
        store.put_tree(src)


def test_manifest_with_escaping_paths_is_refused(store: ObjectStore, tmp_path: Path) -> None:
    blob = store.put_bytes(b"payload")
    evil = (
        b'{"empty_dirs":[],"entries":[{"executable":false,"hash":"%s","path":"../escape.txt",'
        b'"size":7}],"format":"slipway.manifest/1"}' % blob.hash.encode()
    )
    manifest = store.put_bytes(evil)
    with pytest.raises(IntegrityError, match="escapes"):
        store.get_tree(manifest.hash, tmp_path / "dest")
    assert not (tmp_path / "escape.txt").exists()


def test_temporaries_are_never_listed(store: ObjectStore) -> None:
    info = store.put_bytes(b"listed")
    temp = store.backend.begin_write()
    temp.file.write(b"half written")
    assert list(store.iter_hashes()) == [info.hash]
    temp.abort()


def test_ping_proves_the_store_is_writable(store: ObjectStore) -> None:
    store.ping()
    info = store.put_bytes(b"written after the ping")
    assert list(store.iter_hashes()) == [info.hash]  # the probe left nothing behind


def test_ping_fails_on_a_local_store_that_cannot_be_written(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    store = ObjectStore.from_url(f"file://{root}")
    # Taken away after the store was opened (a full or unmounted disk, a mistaken cleanup).
    # Tests run as root, so a read-only mode would not stop the write: a file takes its place.
    shutil.rmtree(root / "tmp")
    (root / "tmp").write_text("a file where the store keeps its temporary files")
    with pytest.raises(Unavailable, match=f"cannot write to the object store .*{root}"):
        store.ping()


@pytest.mark.s3
def test_ping_fails_on_a_bucket_that_does_not_exist(s3_options: dict[str, object]) -> None:
    store = ObjectStore.from_url("s3://no-such-bucket-for-slipway/objects", s3_options)
    with pytest.raises(Unavailable, match="cannot write to the object store s3://no-such-bucket"):
        store.ping()


def test_unknown_scheme_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown object store scheme 'ftp'"):
        ObjectStore.from_url("ftp://example/objects")


def test_link_modes_materialize_local_objects(tmp_path: Path) -> None:
    store = ObjectStore.from_url(f"file://{tmp_path / 'objects'}")
    info = store.put_bytes(b"model weights")
    stored = store.backend.local_path(key_of(info.hash))
    assert stored is not None

    copied = tmp_path / "copy.bin"
    store.get_file(info.hash, copied)  # default: reflink where supported, else copy
    copied.write_bytes(b"edited in the workspace")
    assert store.read_bytes(info.hash) == b"model weights"

    linked = tmp_path / "hard.bin"
    store.get_file(info.hash, linked, [LinkMode.HARDLINK])
    assert linked.stat().st_ino == stored.stat().st_ino
    assert not os.access(stored, os.W_OK) or os.geteuid() == 0
    assert stored.stat().st_mode & 0o222 == 0  # the shared inode is read-only


# -- packs -------------------------------------------------------------------------------


def write_files(root: Path, count: int, size: int = 3000) -> list[Path]:
    paths = []
    for n in range(count):
        path = root / f"f{n:04d}.bin"
        path.write_bytes(n.to_bytes(4, "big") + os.urandom(size))
        paths.append(path)
    return paths


def pack_files(store: ObjectStore) -> list[str]:
    return store.backend.list_folder("packs")


def test_small_files_are_packed_and_read_back(store: ObjectStore, tmp_path: Path) -> None:
    paths = write_files(tmp_path, 300)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(2 << 20))
    infos = store.put_files([*paths, big, paths[0]])
    assert [i.hash for i in infos[:300]] == [
        blake3.blake3(p.read_bytes()).hexdigest() for p in paths
    ]
    assert infos[-1].hash == infos[0].hash and not infos[-1].created  # the same file twice
    names = pack_files(store)
    assert len(names) == 2 and {n.rpartition(".")[2] for n in names} == {"pack", "idx"}
    assert list(store.iter_hashes()).count(infos[300].hash) == 1  # the big file stays loose
    fresh = ObjectStore(store.backend)  # another process: finds them through the index
    for path, info in zip(paths[::37], infos[:300:37], strict=True):
        assert fresh.exists(info.hash) and fresh.size(info.hash) == path.stat().st_size
        assert fresh.read_bytes(info.hash) == path.read_bytes()
    assert set(fresh.iter_hashes()) == {i.hash for i in infos}
    again = fresh.put_files(paths)
    assert not any(i.created for i in again) and len(pack_files(store)) == 2


def test_packed_tree_round_trips(store: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "deep" / "er").mkdir(parents=True)
    write_files(source / "deep" / "er", 50)
    (source / "empty.txt").write_bytes(b"")
    (source / "ünï cödé.txt").write_text("x")
    tree = store.put_tree(source)
    out = tmp_path / "out"
    store.get_tree(tree.hash, out)
    for path in source.rglob("*"):
        if path.is_file():
            assert (out / path.relative_to(source)).read_bytes() == path.read_bytes()


def damage_pack(store: ObjectStore, suffix: str, offset: int) -> None:
    name = next(n for n in pack_files(store) if n.endswith(suffix))
    key = f"packs/{name}"
    with store.backend.open_read(key) as f:
        data = bytearray(f.read())
    data[offset] ^= 0xFF
    local = store.backend.local_path(key)
    if local is not None:
        local.write_bytes(bytes(data))
    else:
        store.backend.fs.pipe(store.backend.full(key), bytes(data))  # type: ignore[attr-defined]


def test_a_corrupted_pack_fails_the_read_of_the_damaged_object(
    store: ObjectStore, tmp_path: Path
) -> None:
    paths = write_files(tmp_path, 5, size=1000)
    infos = store.put_files(paths)
    damage_pack(store, ".pack", 1004 + 10)  # inside the second object
    fresh = ObjectStore(store.backend)
    assert fresh.read_bytes(infos[0].hash) == paths[0].read_bytes()
    with pytest.raises(IntegrityError, match="corrupt"):
        fresh.read_bytes(infos[1].hash)
    target = tmp_path / "out.bin"
    target.write_bytes(b"keep me")
    with pytest.raises(IntegrityError, match=f"object {infos[1].hash} .*corrupt"):
        fresh.get_file(infos[1].hash, target)
    assert target.read_bytes() == b"keep me"


def test_a_damaged_index_is_refused(store: ObjectStore, tmp_path: Path) -> None:
    infos = store.put_files(write_files(tmp_path, 3))
    damage_pack(store, ".idx", 40)
    with pytest.raises(IntegrityError, match="index of pack"):
        ObjectStore(store.backend).read_bytes(infos[0].hash)


def test_a_pack_without_its_index_is_invisible(store: ObjectStore, tmp_path: Path) -> None:
    """A writer killed between the pack and its index leaves nothing readers can see."""
    from slipway.objects._pack import PackWriter, pack_key

    writer = PackWriter(store.backend)
    writer.add(blake3.blake3(b"orphan").hexdigest(), b"orphan")
    writer._temp.commit(pack_key("0" * 64))  # published the pack, died before the index
    fresh = ObjectStore(store.backend)
    assert not fresh.exists(blake3.blake3(b"orphan").hexdigest())
    assert list(fresh.iter_hashes()) == []


def test_a_pack_that_fails_to_write_stores_nothing(
    store: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pack's blocks are written by a thread of its own: its error still reaches the
    caller, and nothing half written becomes visible."""
    import errno

    from slipway.objects._pack import PackWriter

    def disk_full(self: PackWriter, block: bytearray) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(PackWriter, "_write", disk_full)
    files = write_files(tmp_path, 3000)  # 9 MB: more than one block before the pack ends
    with pytest.raises(OSError, match="No space left"):
        store.put_files(files)
    monkeypatch.undo()
    fresh = ObjectStore(store.backend)
    assert list(fresh.iter_hashes()) == []
    assert fresh.put_files(files[:2])[0].created  # and the store still works


def test_a_full_pack_that_fails_to_publish_fails_the_add(
    store: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Full packs are published in their writers' threads while the next files are read:
    one that fails still fails the add, leaves no pack behind, and the packs that were
    published hold what they say."""
    from slipway.objects import _store
    from slipway.objects._pack import PackWriter

    monkeypatch.setattr(_store, "PACK_TARGET", 1 << 20)  # ~330 files per pack
    publish = PackWriter._publish
    calls: list[int] = []

    def second_fails(self: PackWriter, last_block: Any) -> str | None:
        calls.append(1)
        if len(calls) == 2:
            self._temp.abort()
            raise OSError(5, "Input/output error")
        return publish(self, last_block)

    monkeypatch.setattr(PackWriter, "_publish", second_fails)
    files = write_files(tmp_path, 1200)
    with pytest.raises(OSError, match="Input/output error"):
        store.put_files(files)
    assert len(calls) == 4  # every pack was published or removed before the error came
    monkeypatch.undo()
    fresh = ObjectStore(store.backend)
    assert len(pack_files(store)) == 2 * 3  # three packs and their indexes
    kept = set(fresh.iter_hashes())
    assert 0 < len(kept) < 1200
    for path in files:
        digest = blake3.blake3(path.read_bytes()).hexdigest()
        if digest in kept:
            assert fresh.read_bytes(digest) == path.read_bytes()
    again = fresh.put_files(files)  # the store still works: what was lost is added again
    assert sum(i.created for i in again) == 1200 - len(kept) > 0


def test_an_interrupted_materialize_stops_writing(store: ObjectStore, tmp_path: Path) -> None:
    """Ctrl-C during a checkout of many files: the writers start no new batch."""
    (tmp_path / "in").mkdir()
    files = write_files(tmp_path / "in", 4000, size=100)
    infos = store.put_files(files)
    out = tmp_path / "out"
    items = [(info.hash, out / path.name, False) for info, path in zip(infos, files, strict=True)]

    def interrupted(files: int, nbytes: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.materialize(items, advance=interrupted)
    assert 0 < len(list(out.iterdir())) < len(items) // 2


def test_manifest_bytes_are_stable() -> None:
    """A folder's hash is the hash of these bytes: they must never change for the same tree."""
    from slipway.objects import Entry, Manifest, hash_bytes

    manifest = Manifest(
        (Entry("b/ü x.txt", "a" * 64, 3, True), Entry("a", "b" * 64, 0)), ("z", "e/mpty")
    )
    expected = (
        '{"empty_dirs":["e/mpty","z"],"entries":[{"executable":false,"hash":"'
        + "b" * 64
        + '","path":"a","size":0},{"executable":true,"hash":"'
        + "a" * 64
        + '","path":"b/\\u00fc x.txt","size":3}],"format":"slipway.manifest/1"}'
    )
    assert manifest.to_bytes() == expected.encode()
    back = Manifest.from_bytes(manifest.to_bytes(), hash_bytes(manifest.to_bytes()))
    assert back.to_bytes() == manifest.to_bytes()
    assert [e.path for e in back.entries] == ["a", "b/ü x.txt"]


@pytest.mark.parametrize(
    "bad", ["", "/a", "a/", "a//b", "./a", "a/./b", "../a", "a/..", "a\\b", "a\x00b", "..", "."]
)
def test_every_unsafe_manifest_path_is_refused_on_read(bad: str) -> None:
    import json

    from slipway.objects import Manifest

    good = {"executable": False, "hash": "a" * 64, "path": "ok", "size": 1}
    body = {
        "empty_dirs": [],
        "entries": [good, {**good, "path": bad}],
        "format": "slipway.manifest/1",
    }
    with pytest.raises(IntegrityError, match="not a valid directory manifest"):
        Manifest.from_bytes(json.dumps(body).encode(), "f" * 64)
    body = {"empty_dirs": [bad], "entries": [good], "format": "slipway.manifest/1"}
    with pytest.raises(IntegrityError, match="not a valid directory manifest"):
        Manifest.from_bytes(json.dumps(body).encode(), "f" * 64)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("size", -1),
        ("size", "3"),
        ("size", 1.5),
        ("size", True),
        ("executable", 1),
        ("executable", "yes"),
        ("hash", "A" * 64),
        ("hash", 5),
    ],
)
def test_a_manifest_entry_of_the_wrong_type_is_refused_on_read(field: str, value: object) -> None:
    import json

    from slipway.objects import Manifest

    good = {"executable": False, "hash": "a" * 64, "path": "ok", "size": 1}
    body = {
        "empty_dirs": [],
        "entries": [good, {**good, "path": "bad", field: value}],
        "format": "slipway.manifest/1",
    }
    with pytest.raises(IntegrityError, match="not a valid directory manifest"):
        Manifest.from_bytes(json.dumps(body).encode(), "f" * 64)


def test_a_written_manifest_is_remembered_but_reads_check_the_stored_bytes(
    store: ObjectStore,
) -> None:
    from slipway.objects import Entry, Manifest
    from slipway.objects._store import REMEMBERED_MANIFESTS

    data = store.put_bytes(b"payload")
    manifests = [
        Manifest((Entry(f"file-{n}.txt", data.hash, data.size, False),), ())
        for n in range(REMEMBERED_MANIFESTS + 1)
    ]
    digests = [store.put_manifest(m).hash for m in manifests]
    assert store.written_manifest(digests[-1]) == manifests[-1]
    assert store.written_manifest(digests[0]) is None  # only the latest few are kept
    corrupt(store, digests[-1], b"not a manifest")
    assert store.written_manifest(digests[-1]) == manifests[-1]
    with pytest.raises(IntegrityError, match=f"object {digests[-1]} .*"):
        store.read_manifest(digests[-1])  # a read goes to the store and sees the damage
