"""Garbage collection keeps every object a dataset version or run artifact needs, removes the
rest once it is older than the grace period, and checkouts still work afterwards."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from slipway.cli.main import main
from slipway.client import Client, EmbeddedBackend
from slipway.context import Context, Principal
from slipway.data import Data
from slipway.errors import IntegrityError, PermissionDenied
from slipway.objects import Manifest, ObjectStore, hash_bytes
from slipway.objects._gc import collect_garbage
from slipway.operations import invoke
from slipway.services import catalog
from slipway.services.blobs.schemas import GcRequest, GcResult
from slipway.services.runs.schemas import ArtifactRecord
from tests.conftest import settings_for

HOUR = 3600


@pytest.fixture
def client(workspace: Path, sqlite_url: str) -> Iterator[Client]:
    settings = settings_for(workspace, sqlite_url)
    made = Client(EmbeddedBackend(Context.open(settings)), settings)
    yield made
    made.close()


@pytest.fixture
def datasets(client: Client) -> Iterator[Data]:
    """Data versioning through that client."""
    with Data(client) as made:
        yield made


def store_of(client: Client) -> ObjectStore:
    backend = client.backend
    assert isinstance(backend, EmbeddedBackend)
    return backend.ctx.objects


def fresh_view(client: Client) -> ObjectStore:
    """The same store opened anew: nothing cached from before gc."""
    return ObjectStore.from_url(store_of(client).backend.url)


def age(folder: Path, seconds: int) -> None:
    """Make every file under `folder` look `seconds` old."""
    then = time.time() - seconds
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def needed_by(store: ObjectStore, roots: list[str]) -> set[str]:
    """The roots and, for those that are manifests, their files."""
    needed = set(roots)
    for digest in roots:
        data = store.read_bytes(digest)
        if data.startswith(b'{"empty_dirs"'):
            needed |= {e.hash for e in Manifest.from_bytes(data, digest).entries}
    return needed


def gc(client: Client, **request: object) -> GcResult:
    found = client.call("collect_garbage", body=GcRequest.model_validate(request))
    assert isinstance(found, GcResult)
    return found


def test_gc_keeps_what_versions_and_artifacts_need_and_removes_the_rest(
    client: Client, datasets: Data, workspace: Path
) -> None:
    store = store_of(client)
    root = Path(store.backend.url.removeprefix("file://"))
    # Two versions of a folder: v2 changes a small file and drops the large one v1 still has.
    data = workspace / "ds"
    (data / "sub").mkdir(parents=True)
    for n in range(5):
        (data / "sub" / f"small-{n}.txt").write_text(f"small {n}\n")
    (data / "big.bin").write_bytes(os.urandom((1 << 20) + 7))
    (data / "scores.csv").write_text("id,score\n1,0.5\n2,0.25\n")  # a table: a profile object
    v1 = datasets.add(data).version
    v1_files = files_of(data)
    (data / "sub" / "small-0.txt").write_text("small 0, revised\n")
    (data / "big.bin").unlink()
    (data / "sub" / "small-5.txt").write_text("small 5\n")
    v2 = datasets.add(data).version
    v2_files = files_of(data)
    # Run artifacts: a folder (a manifest and its files) and a file.
    model = workspace / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(os.urandom((1 << 20) + 3))
    (model / "config.json").write_text('{"layers": 3}')
    (workspace / "notes.txt").write_text("trained on ds@v1")
    folder_hash, folder_size, _ = client.objects.upload_path(model)
    file_hash, file_size, _ = client.objects.upload_path(workspace / "notes.txt")
    run = client.runs.create(
        "default",
        artifacts=[
            ArtifactRecord(path="model", object_hash=folder_hash, size=folder_size, is_dir=True),
            ArtifactRecord(path="notes.txt", object_hash=file_hash, size=file_size),
        ],
    )
    roots = [v1.object_hash, v2.object_hash, folder_hash, file_hash]
    roots += [p for p in (v1.profile_hash, v2.profile_hash) if p]
    needed = needed_by(store, roots)
    # 4 roots, 1 profile (the table is the same in both), v1's 7 files, the 2 v2 changed,
    # the model's 2 files.
    assert v1.profile_hash == v2.profile_hash and len(needed) == 4 + 1 + 7 + 2 + 2

    # Garbage: an object, a pack of two, a pack an interrupted writer left without an index,
    # and a temporary; all of it old. Then something stored a moment ago and not yet recorded.
    stray = store.put_bytes(b"stored, never recorded").hash
    junk = workspace / "junk"
    junk.mkdir()
    (junk / "j1").write_bytes(b"junk one")
    (junk / "j2").write_bytes(b"junk two")
    junk_hashes = [info.hash for info in store.put_files(sorted(junk.iterdir()))]
    orphan = root / "packs" / f"{hash_bytes(b'half a pack')}.pack"
    orphan.write_bytes(b"half a pack")
    (root / "tmp" / "interrupted-upload").write_bytes(b"partial")
    age(root, 2 * HOUR)
    young = store.put_bytes(b"just stored; its version is being recorded").hash
    before = files_of(root)

    dry = gc(client)  # a dry run unless asked otherwise
    assert dry.dry_run and files_of(root) == before
    assert (dry.loose, dry.packs, dry.pack_objects, dry.orphans, dry.temporaries) == (1, 1, 2, 1, 1)
    assert (dry.objects, dry.recent, dry.live, dry.missing, dry.repacked) == (
        3,
        1,
        len(needed),
        0,
        0,
    )
    junk_pack = store.packs.find(junk_hashes[0])
    assert junk_pack is not None
    junk_pack_bytes = sum(
        len(before[f"packs/{junk_pack.pack}.{suffix}"]) for suffix in ("pack", "idx")
    )
    assert dry.bytes == len(b"stored, never recorded") + junk_pack_bytes + len(
        b"half a pack"
    ) + len(b"partial")

    done = gc(client, dry_run=False)
    assert not done.dry_run
    assert done.model_dump(exclude={"dry_run", "new_packs"}) == dry.model_dump(
        exclude={"dry_run", "new_packs"}
    )
    view = fresh_view(client)
    for digest in needed:
        view.verify(digest)  # present and whole
    for digest in [stray, *junk_hashes]:
        assert not view.exists(digest)
    assert view.exists(young)
    assert not orphan.exists() and not (root / "tmp" / "interrupted-upload").exists()
    assert gc(client, dry_run=False).objects == 0  # nothing left to remove

    # Both versions and both artifacts still come back whole.
    shutil.rmtree(data)
    datasets.checkout("ds@v1")
    assert files_of(data) == v1_files
    datasets.checkout("ds@v2")
    assert files_of(data) == v2_files
    client.objects.download_tree(folder_hash, workspace / "restored")
    assert files_of(workspace / "restored") == files_of(model)
    assert client.objects.read_bytes(file_hash) == b"trained on ds@v1"
    assert client.runs.artifacts(run.id)[0].path == "model"


def test_a_mostly_dead_pack_is_repacked_and_checkout_still_works(
    client: Client, datasets: Data, workspace: Path
) -> None:
    store = store_of(client)
    root = Path(store.backend.url.removeprefix("file://"))
    # One pack: a small file a version will name, and two larger ones nothing will name.
    loose = workspace / "loose"
    loose.mkdir()
    (loose / "keep.txt").write_text("kept by ds@v1\n")
    (loose / "dead-1.bin").write_bytes(os.urandom(50_000))
    (loose / "dead-2.bin").write_bytes(os.urandom(50_000))
    names = ["keep.txt", "dead-1.bin", "dead-2.bin"]
    stored = store.put_files([loose / name for name in names])
    old_pack = store.packs.find(stored[0].hash)
    assert old_pack is not None
    packed = store.packs.objects()
    assert {packed[i.hash].pack for i in stored} == {old_pack.pack}  # all three in one pack
    data = workspace / "ds"
    data.mkdir()
    shutil.copyfile(loose / "keep.txt", data / "keep.txt")  # already stored: only named
    (data / "other.txt").write_text("new in ds\n")
    datasets.add(data)
    expected = files_of(data)
    age(root, 2 * HOUR)

    done = gc(client, dry_run=False)
    assert (done.repacked, done.repacked_objects, done.new_packs, done.packs) == (1, 2, 1, 0)
    assert done.repacked_bytes == 100_000
    assert not (root / "packs" / f"{old_pack.pack}.pack").exists()
    assert not (root / "packs" / f"{old_pack.pack}.idx").exists()
    view = fresh_view(client)
    keep = hash_bytes(b"kept by ds@v1\n")
    moved = view.packs.find(keep)
    assert moved is not None and moved.pack != old_pack.pack
    view.verify(keep)
    assert not view.exists(stored[1].hash) and not view.exists(stored[2].hash)

    shutil.rmtree(data)
    datasets.checkout(paths=["ds"])
    assert files_of(data) == expected
    assert gc(client, dry_run=False).objects == 0  # the new pack is all live


def test_gc_stops_without_removing_anything_if_a_manifest_is_corrupt(
    client: Client, datasets: Data, workspace: Path
) -> None:
    store = store_of(client)
    root = Path(store.backend.url.removeprefix("file://"))
    (workspace / "ds").mkdir()
    (workspace / "ds" / "a.txt").write_text("a")
    version = datasets.add(workspace / "ds").version
    stray = store.put_bytes(b"garbage").hash
    manifest = root / version.object_hash[:2] / version.object_hash[2:]
    manifest.write_bytes(manifest.read_bytes().replace(b"a.txt", b"b.txt"))
    age(root, 2 * HOUR)
    with pytest.raises(IntegrityError, match=f"manifest {version.object_hash} of a dataset"):
        gc(client, dry_run=False)
    assert fresh_view(client).exists(stray)


def test_gc_needs_the_object_admin_permission(client: Client) -> None:
    backend = client.backend
    assert isinstance(backend, EmbeddedBackend)
    catalog.load("collect_garbage")  # as a client backend does before it invokes one
    writer = backend.ctx.acting_as(Principal("ci", frozenset({"object:read", "object:write"})))
    with pytest.raises(PermissionDenied, match="lacks the permission 'object:admin'"):
        invoke(writer, "collect_garbage", body=GcRequest(dry_run=False))
    admin = backend.ctx.acting_as(Principal("ops", frozenset({"object:admin"})))
    assert invoke(admin, "collect_garbage", body=GcRequest()).dry_run


def test_slipway_data_gc(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def cli(*args: str, code: int = 0) -> str:
        with pytest.raises(SystemExit) as done:
            main(list(args))
        out, err = capsys.readouterr()
        assert done.value.code == code, (out, err)
        return out + err

    cli("init")
    (workspace / "ds").mkdir()
    (workspace / "ds" / "a.txt").write_text("a")
    cli("data", "add", "ds")
    objects = workspace / ".slipway" / "objects"
    stray = ObjectStore.from_url(f"file://{objects}").put_bytes(b"nobody names me").hash

    out = cli("data", "gc")
    assert out.startswith("would remove 0 objects, 0 B:")
    assert "kept 2 referenced objects and 1 unreferenced ones younger than 1h" in out
    assert out.endswith("dry run: nothing was removed; `slipway data gc --force` removes it\n")
    out = cli("data", "gc", "--grace", "0")
    assert out.startswith("would remove 1 objects, 15 B:") and "loose objects: 1 (15 B)" in out
    assert (objects / stray[:2] / stray[2:]).exists()
    out = cli("data", "gc", "--force", "--grace", "0")
    assert out.startswith("removed 1 objects, 15 B:") and "dry run" not in out
    assert not (objects / stray[:2] / stray[2:]).exists()
    assert "error: --grace 'soon' is not a duration" in cli("data", "gc", "--grace", "soon", code=2)

    shutil.rmtree(workspace / "ds")
    cli("data", "checkout")
    assert (workspace / "ds" / "a.txt").read_text() == "a"


@pytest.mark.parametrize(
    ("text", "seconds"), [("0", 0), ("90", 90), ("90s", 90), ("30m", 1800), ("2d", 172800)]
)
def test_grace_durations(text: str, seconds: int) -> None:
    from slipway.cli._data_gc import seconds as _seconds

    assert _seconds(text) == seconds


def test_gc_of_a_store_on_any_backend(
    objects_location: tuple[str, dict[str, object]], tmp_path: Path
) -> None:
    """The store alone, local and on S3 (where an object's age is its LastModified)."""
    url, options = objects_location
    store = ObjectStore.from_url(url, options)
    files = tmp_path / "files"
    files.mkdir()
    for name, size in (("live", 100), ("dead-1", 4000), ("dead-2", 4000), ("solo", 50)):
        (files / name).write_bytes(name.encode() * size)
    live_packed, dead_1, dead_2 = store.put_files(
        [files / "live", files / "dead-1", files / "dead-2"]
    )
    (dead_pack,) = store.put_files([files / "solo"])  # a pack of its own, all dead
    live_loose = store.put_bytes(os.urandom(2 << 20)).hash
    dead_loose = store.put_bytes(os.urandom(2 << 20)).hash
    live = {live_packed.hash, live_loose, hash_bytes(b"not in this store")}

    report = collect_garbage(store, live, grace_s=HOUR, dry_run=False)  # all of it is young
    assert (report.objects, report.recent, report.live, report.missing) == (0, 4, 2, 1)

    later = time.time() + 2 * HOUR
    report = collect_garbage(store, live, grace_s=HOUR, dry_run=False, now=later)
    assert (report.loose, report.packs, report.repacked, report.new_packs) == (1, 1, 1, 1)
    assert report.objects == 4
    view = ObjectStore.from_url(url, options)
    assert set(view.iter_hashes()) == {live_packed.hash, live_loose}
    for digest in (live_packed.hash, live_loose):
        view.verify(digest)
    assert not {dead_1.hash, dead_2.hash, dead_pack.hash, dead_loose} & set(view.iter_hashes())
    assert collect_garbage(view, live, grace_s=HOUR, dry_run=False, now=later).objects == 0
