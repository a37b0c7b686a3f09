"""Checking a version's totals without parsing its manifest back.

The data service checks a folder version's size and file count against its manifest. A
manifest that `data add` just stored has its totals counted in its bytes as it is stored,
in the object store the service reads, so nothing parses 50,000 entries back. A claim that
disagrees is still refused, and a manifest nobody counted is parsed.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from slipway.context import Context
from slipway.data import Data
from slipway.errors import InvalidInput
from slipway.objects import Entry, Manifest, ObjectStore, assemble, fragment
from slipway.objects import _store as store_module
from slipway.objects._manifest import counted_totals, totals
from tests.conftest import SLIPWAY, clean_env, settings_for

HASH = "ab" * 32
ODD_PATHS = [
    'quote"size":5}.txt',  # what the counting looks for, inside a name
    '{"executable":true,"size":1}',
    "back\\slash\\",
    "ünïcode/名前.csv",
    "new\nline",
]


def manifest_of(paths: list[str], empty_dirs: tuple[str, ...] = ()) -> Manifest:
    entries = [Entry(p, HASH, 10 * i, i % 2 == 0) for i, p in enumerate(sorted(paths))]
    return Manifest(tuple(entries), empty_dirs)


@pytest.mark.parametrize(
    ("paths", "empty_dirs"),
    [
        (ODD_PATHS, ("empty", "also/empty")),
        ([f"part/{i:05d}" for i in range(2_000)], ()),
        ([], ("only-empty",)),
        ([], ()),
    ],
)
def test_counting_gives_what_parsing_gives(paths: list[str], empty_dirs: tuple[str, ...]) -> None:
    data = manifest_of(paths, empty_dirs).to_bytes()
    assert counted_totals(data) == totals(data, "x")
    assert counted_totals(data) == (sum(10 * i for i in range(len(paths))), len(paths))


def test_bytes_of_another_shape_are_not_counted() -> None:
    manifest = manifest_of(ODD_PATHS)
    body = json.loads(manifest.to_bytes())
    assert counted_totals(json.dumps(body, indent=1).encode()) is None
    assert counted_totals(json.dumps(body).encode()) is None  # spaces after separators
    wrong_format = assemble([fragment(manifest.entries)], []).replace(b"manifest/1", b"other/1")
    assert counted_totals(wrong_format) is None


@pytest.fixture
def context(workspace: Path, sqlite_url: str) -> Iterator[Context]:
    ctx = Context.open(settings_for(workspace, sqlite_url))
    yield ctx
    ctx.close()


def record(ctx: Context, digest: str, size: int, files: int) -> Any:
    from slipway.operations import invoke
    from slipway.services import catalog
    from slipway.services.datasets.schemas import DatasetVersionCreate

    catalog.load("create_dataset_version")  # as a client backend does before it invokes one

    body = DatasetVersionCreate(
        object_hash=digest, kind="dir", size=size, file_count=files, path="data"
    )
    return invoke(ctx, "create_dataset_version", project="default", name="data", body=body)


def never_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(data: bytes, digest: str) -> tuple[int, int]:
        raise AssertionError("the manifest was parsed back")

    monkeypatch.setattr(store_module, "totals", refuse)


def test_a_manifest_stored_here_is_checked_without_parsing_and_a_wrong_claim_refused(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = manifest_of(ODD_PATHS)
    digest = context.objects.put_manifest_bytes(manifest.to_bytes()).hash
    never_parse(monkeypatch)
    with pytest.raises(InvalidInput, match="do not match the manifest"):
        record(context, digest, manifest.size + 1, len(manifest.entries))
    assert record(context, digest, manifest.size, len(manifest.entries)).version == 1


def test_a_manifest_nobody_counted_is_parsed(context: Context, workspace: Path) -> None:
    manifest = manifest_of(ODD_PATHS)
    writer = ObjectStore.from_url(context.settings.objects_url)  # another process's store
    digest = writer.put_bytes(manifest.to_bytes()).hash  # stored as plain bytes
    assert context.objects.noted_totals(digest) is None
    with pytest.raises(InvalidInput, match="do not match the manifest"):
        record(context, digest, manifest.size, len(manifest.entries) + 1)
    assert record(context, digest, manifest.size, len(manifest.entries)).version == 1


def test_add_records_the_manifest_it_stored_without_parsing_it_back(
    workspace: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Data` made without a client opens the object store first and the metadata store
    on it later: what it counted while storing, the service finds."""
    folder = workspace / "odd"
    for i, name in enumerate(ODD_PATHS):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * i)
    never_parse(monkeypatch)
    with Data(settings=settings_for(workspace, sqlite_url)) as data:
        version = data.add(folder).version
    assert (version.version, version.file_count) == (1, len(ODD_PATHS))
    assert version.size == sum(range(len(ODD_PATHS)))


def test_the_cli_shows_personal_data_found_by_add(workspace: Path) -> None:
    rows = "\n".join(f"{i},user{i}@example.com" for i in range(50))
    (workspace / "people.csv").write_text(f"id,contact\n{rows}\n")
    env = clean_env()
    assert subprocess.run([SLIPWAY, "init"], cwd=workspace, env=env).returncode == 0
    done = subprocess.run(
        [SLIPWAY, "data", "add", "people.csv"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("people.csv@v1 ")
    assert "possible personal data:" in done.stderr
    assert "column 'contact' looks like email" in done.stderr
