"""Data versioning in a workspace: add, status, checkout, log, profiles, lineage, refusals.

Runs embedded (SQLite, PostgreSQL) and against a live `slipway server` (remote mode, objects
through the blob operations): the same calls, the same results.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from slipway.config import load_settings
from slipway.data import Data
from slipway.errors import Conflict, IntegrityError, InvalidInput, NotFound
from slipway.objects import Entry, Manifest, ObjectStore
from tests.conftest import clean_env, settings_for, start_server


@pytest.fixture(params=["embedded-sqlite", "embedded-postgres", "remote"])
def datasets(request: pytest.FixtureRequest, workspace: Path, sqlite_url: str) -> Iterator[Data]:
    if request.param == "remote":
        server = start_server(workspace, clean_env(SLIPWAY_METADATA_URL=sqlite_url))
        settings = load_settings(workspace / ".slipway", env={"SLIPWAY_SERVER": server.url})
        made = Data(settings=settings)
        yield made
        made.close()
        server.stop()
        return
    url = sqlite_url if request.param == "embedded-sqlite" else request.getfixturevalue("pg_url")
    made = Data(settings=settings_for(workspace, url))
    yield made
    made.close()


def make_tree(root: Path) -> None:
    (root / "deep" / "er").mkdir(parents=True)
    (root / "empty-dir").mkdir()
    (root / "a.txt").write_text("alpha\n")
    (root / "empty.bin").write_bytes(b"")
    (root / "deep" / "ünïcödé ✓.txt").write_text("unicode name\n")
    (root / "deep" / "er" / "big.bin").write_bytes(os.urandom(3 << 20))  # stays a loose object
    (root / "deep" / "er" / "small.bin").write_bytes(os.urandom(5000))
    run = root / "run.sh"
    run.write_text("#!/bin/sh\necho hi\n")
    run.chmod(0o755)


def snapshot(root: Path) -> dict[str, tuple[bytes, bool] | None]:
    """Every file's bytes and executable bit, and every empty folder (as None)."""
    found: dict[str, tuple[bytes, bool] | None] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file():
            found[rel] = (path.read_bytes(), bool(path.stat().st_mode & stat.S_IXUSR))
        elif not any(path.iterdir()):
            found[rel] = None
    return found


def test_add_modify_add_checkout_round_trips_byte_exactly(datasets: Data, workspace: Path) -> None:
    data = workspace / "data" / "train"
    make_tree(data)
    first = snapshot(data)
    v1 = datasets.add("data/train", message="first").version
    assert (v1.ref, v1.file_count, v1.kind, v1.created) == ("train@v1", 6, "dir", True)
    pointer = (workspace / "data" / "train.slipway").read_text()
    assert "name: train" in pointer and f"hash: {v1.object_hash}" in pointer
    assert "/train" in (workspace / "data" / ".gitignore").read_text().splitlines()
    assert [s.state for s in datasets.status()] == ["unchanged"]

    (data / "a.txt").write_text("alpha, changed\n")
    (data / "deep" / "er" / "small.bin").unlink()
    (data / "new.csv").write_text("x,y\n1,2\n")
    found = datasets.status()[0]
    assert found.state == "modified"
    assert (found.added, found.removed, found.modified) == (
        ["new.csv"],
        ["deep/er/small.bin"],
        ["a.txt"],
    )
    second = snapshot(data)
    v2 = datasets.add("data/train", message="second").version
    assert v2.ref == "train@v2"
    again = datasets.add("data/train")
    assert again.version.ref == "train@v2" and not again.version.created
    assert [v.ref for v in datasets.log("train")] == ["train@v2", "train@v1"]

    datasets.checkout("train@v1")
    assert snapshot(data) == first
    assert "version: 1" in (workspace / "data" / "train.slipway").read_text()
    assert [s.state for s in datasets.status()] == ["unchanged"]
    datasets.checkout("train@v2")
    assert snapshot(data) == second

    shutil.rmtree(data)  # a fresh clone: pointers, no data
    assert [s.state for s in datasets.status()] == ["missing"]
    datasets.checkout()
    assert snapshot(data) == second


def test_a_fresh_checkout_vouches_for_what_it_wrote_and_no_more(
    datasets: Data, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Files written within the racy window of a snapshot are hashed again; a test runs
    # inside that window, so it is closed here to see what the snapshot itself vouches for.
    monkeypatch.setattr("slipway.workspace._stat_cache.FINE_RACY_NS", 0)
    monkeypatch.setattr("slipway.workspace._stat_cache.RACY_NS", 0)
    data = workspace / "data" / "train"
    make_tree(data)
    datasets.add(data)
    shutil.rmtree(data)  # a fresh clone: the snapshot comes from the files as written
    datasets.checkout()
    assert [s.state for s in datasets.status()] == ["unchanged"]
    assert datasets.add(data).hashed == 0  # nothing read again: the snapshot vouches

    (data / "deep" / "er" / "small.bin").write_bytes(b"changed after checkout")
    assert [s.state for s in datasets.status()] == ["modified"]
    again = datasets.add(data)
    assert (again.hashed, again.version.ref) == (1, "train@v2")


def test_a_single_file_is_a_dataset(datasets: Data, workspace: Path) -> None:
    target = workspace / "model-input.bin"
    target.write_bytes(b"\x00\x01" * 1000)
    v1 = datasets.add(target, name="blob").version
    assert (v1.kind, v1.file_count, v1.size) == ("file", 1, 2000)
    target.write_bytes(b"changed")
    assert datasets.status()[0].state == "modified"
    v2 = datasets.add(target).version
    assert v2.ref == "blob@v2"
    datasets.checkout("blob@v1")
    assert target.read_bytes() == b"\x00\x01" * 1000


def test_checkout_keeps_unsaved_changes_unless_forced(datasets: Data, workspace: Path) -> None:
    data = workspace / "d"
    make_tree(data)
    datasets.add(data)
    (data / "a.txt").write_text("not saved anywhere\n")
    with pytest.raises(Conflict, match="not in any version"):
        datasets.checkout()
    assert (data / "a.txt").read_text() == "not saved anywhere\n"
    datasets.checkout(force=True)
    assert (data / "a.txt").read_text() == "alpha\n"


def test_symlinks_inside_are_stored_as_content_outside_refused(
    datasets: Data, workspace: Path, tmp_path: Path
) -> None:
    """Policy: a link to a file inside the data is stored (and restored) as a regular file; a
    link leading outside the data, or to a folder, is refused and nothing is recorded."""
    data = workspace / "links"
    data.mkdir()
    (data / "real.txt").write_text("content\n")
    (data / "alias.txt").symlink_to("real.txt")
    version = datasets.add(data).version
    (data / "alias.txt").unlink()
    datasets.checkout(force=True)
    restored = data / "alias.txt"
    assert not restored.is_symlink() and restored.read_text() == "content\n"

    outside = tmp_path / "secret.txt"
    outside.write_text("not yours\n")
    (data / "leak.txt").symlink_to(outside)
    with pytest.raises(InvalidInput, match="links outside"):
        datasets.add(data)
    (data / "leak.txt").unlink()
    (data / "folder").symlink_to(tmp_path)
    with pytest.raises(InvalidInput, match="symlink to a folder"):
        datasets.add(data)
    assert [v.ref for v in datasets.log("links")] == [version.ref]


def test_paths_outside_the_workspace_are_refused(
    datasets: Data, workspace: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "f.txt").write_text("x")
    for bad in ("../elsewhere", str(elsewhere), ".slipway", "data/../../elsewhere"):
        with pytest.raises(InvalidInput):
            datasets.add(bad)
    with pytest.raises(InvalidInput, match="does not exist"):
        datasets.add("no-such-folder")
    with pytest.raises(InvalidInput, match="not tracked"):
        datasets.status(["elsewhere-not-tracked"])


def test_a_manifest_escaping_its_folder_is_never_checked_out(
    workspace: Path, sqlite_url: str
) -> None:
    """A crafted version whose manifest says `../x` writes nothing outside the data."""
    settings = settings_for(workspace, sqlite_url)
    store = ObjectStore.from_url(settings.objects_url)
    evil = Manifest((Entry("../escaped.txt", store.put_bytes(b"pwned").hash, 5),))
    body = evil.to_bytes()  # bypasses validation on write, as a tampered store would
    digest = store.put_bytes(body).hash
    (workspace / "victim.slipway").write_text(
        f"project: default\nname: victim\nversion: 1\nhash: {digest}\nkind: dir\n"
        "size: 5\nfiles: 1\n"
    )
    client = Data(settings=settings)
    with pytest.raises(IntegrityError, match="escapes"):
        client.checkout()
    client.close()
    assert not (workspace / "escaped.txt").exists()


def test_tables_are_profiled_and_personal_data_flagged(datasets: Data, workspace: Path) -> None:
    data = workspace / "customers"
    data.mkdir()
    rows = ["id,email,score"] + [f"{i},user{i}@example.com,{i / 10}" for i in range(200)]
    (data / "people.csv").write_text("\n".join(rows) + "\n")
    (data / "notes.txt").write_text("not a table\n")
    version = datasets.add(data).version
    assert [(f.table, f.column, f.kind) for f in version.pii] == [("people.csv", "email", "email")]
    profile = datasets.profile(version.ref).tables["people.csv"]
    assert profile["row_count"] == 200
    score = next(c for c in profile["columns"] if c["name"] == "score")
    assert (score["min"], score["max"]) == (0.0, 19.9)
    table = datasets.load_table(version.ref)
    assert table.num_rows == 200 and table.column_names == ["id", "email", "score"]


def test_unknown_versions_and_bad_references_are_clear(datasets: Data, workspace: Path) -> None:
    (workspace / "d").mkdir()
    (workspace / "d" / "f").write_text("x")
    datasets.add("d")
    with pytest.raises(NotFound, match=r"has no version 'v7'; it has v1\.\.v1"):
        datasets.get("d@v7")
    with pytest.raises(NotFound, match="does not exist"):
        datasets.get("nope@v1")
    with pytest.raises(InvalidInput, match="dataset reference"):
        datasets.checkout("d@vX")


def test_reading_a_version_in_a_run_records_it_as_an_input(
    workspace: Path, sqlite_url: str
) -> None:
    import slipway as sw
    from slipway.client import Client
    from slipway.store import datasets as dataset_rows

    client = Client.from_settings(settings_for(workspace, sqlite_url))
    (workspace / "t").mkdir()
    (workspace / "t" / "x.csv").write_text("a,b\n1,2\n3,4\n")
    with sw.using(client):
        version = sw.data.add("t")
        with sw.start_run(project="p", capture=False) as run:
            table = sw.data.load_table("t@v1")
            path = sw.data.get_path("t@v1")
    assert table.num_rows == 2 and (path / "x.csv").read_text() == "a,b\n1,2\n3,4\n"
    ctx = client.backend.ctx  # type: ignore[attr-defined]
    with ctx.store.read() as conn:
        edges = dataset_rows.edges_to(conn, ("run", run.id))
    assert [(kind, relation) for kind, _, relation in edges] == [("dataset_version", "input")]
    assert version.ref == "t@v1"
    client.close()


def test_diff_names_files_rows_schema_and_statistics(datasets: Data, workspace: Path) -> None:
    data = workspace / "sales"
    data.mkdir()
    (data / "keep.txt").write_text("same\n")
    (data / "gone.txt").write_text("bye\n")
    table = data / "orders.csv"
    table.write_text("id,amount\n1,10.0\n2,20.0\n3,30.0\n3,30.0\n")
    datasets.add(data)
    (data / "gone.txt").unlink()
    (data / "new.txt").write_text("hi\n")
    table.write_text("id,amount,region\n1,10.0,eu\n3,30.0,us\n4,40.0,us\n5,50.0,eu\n")
    datasets.add(data)
    diff = datasets.diff("sales@v1", "sales@v2")
    assert (diff.files.added, diff.files.removed, diff.files.modified) == (
        ["new.txt"],
        ["gone.txt"],
        ["orders.csv"],
    )
    assert diff.files.unchanged == 1
    (orders,) = diff.tables
    # On the shared columns (id, amount): 2,20 and one of the two 3,30 rows went; 4 and 5 came.
    assert (orders.rows_before, orders.rows_after) == (4, 4)
    assert (orders.rows_removed, orders.rows_added) == (2, 2)
    assert (orders.columns_added, orders.columns_removed) == (["region"], [])
    changed = {(c.column, c.stat): (c.before, c.after) for c in orders.stats}
    assert changed[("amount", "max")] == (30.0, 50.0)
    assert changed[("amount", "mean")] == (22.5, 32.5)
    assert ("amount", "null_rate") not in changed


def test_rest_lists_a_version_files_for_download(live_server: object, workspace: Path) -> None:
    """Over plain HTTP, as any client would: the version, its files, then each object."""
    import httpx

    from slipway.objects import hash_bytes

    url = live_server.url  # type: ignore[attr-defined]
    settings = load_settings(workspace / ".slipway", env={"SLIPWAY_SERVER": url})
    client = Data(settings=settings)
    make_tree(workspace / "web")
    client.add("web")
    client.close()
    version = httpx.get(f"{url}/projects/default/datasets/web@v1").json()
    assert version["file_count"] == 6
    listing = httpx.get(f"{url}/projects/default/datasets/web@latest/files").json()
    assert listing["ref"] == "web@v1" and listing["empty_dirs"] == ["empty-dir"]
    for item in listing["files"]:
        body = httpx.get(f"{url}/objects/{item['hash']}").content
        assert hash_bytes(body) == item["hash"]
        assert body == (workspace / "web" / item["path"]).read_bytes()
    missing = httpx.get(f"{url}/projects/default/datasets/web@v9")
    assert missing.status_code == 404 and "v9" in missing.json()["detail"]


def test_checkout_follows_a_pointer_moved_by_git(datasets: Data, workspace: Path) -> None:
    """After `git pull` brings a newer pointer, checkout replaces the (saved) old data."""
    data = workspace / "d"
    make_tree(data)
    datasets.add(data)
    v1_pointer = (workspace / "d.slipway").read_text()
    (data / "a.txt").write_text("second\n")
    datasets.add(data)
    v2_pointer = (workspace / "d.slipway").read_text()
    datasets.checkout("d@v1")
    (workspace / "d.slipway").write_text(v2_pointer)  # what git pull does
    assert v1_pointer != v2_pointer
    datasets.checkout()
    assert (data / "a.txt").read_text() == "second\n"


def test_an_interrupted_checkout_is_finished_by_the_next(
    datasets: Data, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = workspace / "d"
    make_tree(data)
    datasets.add(data)
    (data / "a.txt").write_text("second\n")
    datasets.add(data)
    real = datasets.objects.materialize

    def dies_half_way(items: list[tuple[str, str, bool]], advance: object) -> None:
        Path(items[0][1]).write_bytes(b"half of a fi")  # a file written in place, cut short
        raise KeyboardInterrupt

    monkeypatch.setattr(datasets.objects, "materialize", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        datasets.checkout("d@v1")
    monkeypatch.setattr(datasets.objects, "materialize", real)
    datasets.checkout("d@v1")
    assert (data / "a.txt").read_text() == "alpha\n"
    assert [s.state for s in datasets.status()] == ["unchanged"]


class _Recorded:
    """A Progress that keeps what it was told: (label, files, bytes) planned and done."""

    def __init__(self) -> None:
        self.tasks: list[tuple[str, int, int]] = []
        self.done: list[list[int]] = []

    @contextlib.contextmanager
    def task(self, label: str, files: int, nbytes: int) -> Iterator[Callable[[int, int], None]]:
        self.tasks.append((label, files, nbytes))
        counts = [0, 0]
        self.done.append(counts)
        lock = threading.Lock()

        def advance(files_done: int, bytes_done: int) -> None:
            with lock:
                counts[0] += files_done
                counts[1] += bytes_done

        yield advance


def test_add_and_checkout_report_progress_to_the_end(datasets: Data, workspace: Path) -> None:
    """A progress bar reaches its end: every file and byte planned is reported done, small
    packed files, a large file copied in chunks, and the files checkout writes."""
    data = workspace / "data"
    for n in range(40):
        (data / f"part-{n % 3}").mkdir(parents=True, exist_ok=True)
        (data / f"part-{n % 3}" / f"f{n}.bin").write_bytes(os.urandom(100 + n))
    (data / "large.bin").write_bytes(os.urandom(3 * 2**20 + 5))  # over the pack limit
    total = sum(p.stat().st_size for p in data.rglob("*") if p.is_file())
    datasets.progress = recorded = _Recorded()
    datasets.add(data)
    assert recorded.tasks == [("storing", 41, total)]
    assert recorded.done == [[41, total]]
    shutil.rmtree(data)
    datasets.progress = recorded = _Recorded()
    datasets.checkout(paths=[data])
    assert recorded.tasks == [("writing", 41, total)]
    assert recorded.done == [[41, total]]


def test_the_terminal_bar_shows_large_tasks_only() -> None:
    from rich.console import Console

    from slipway.cli._progress import MIN_FILES, TerminalProgress

    out = io.StringIO()
    bar = TerminalProgress(Console(file=out, force_terminal=True, width=120))
    with bar.task("storing", 10, 1000) as advance:
        advance(10, 1000)
    assert out.getvalue() == ""  # over before a bar would help
    with bar.task("storing", MIN_FILES, 4096) as advance:
        advance(MIN_FILES, 4096)
    assert "storing" in out.getvalue() and f"{MIN_FILES}/{MIN_FILES} files" in out.getvalue()
