"""Checking a version's totals without parsing its manifest back.

The data service checks a folder version's size and file count against its manifest. A
manifest that `data add` just stored has its totals counted in its bytes as it is stored;
the forked metadata helper is told them, so neither process parses 50,000 entries back. A
claim that disagrees is still refused, and a manifest nobody counted is parsed.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from slipway.client import _recorder
from slipway.client._backends import EmbeddedBackend
from slipway.context import Context
from slipway.errors import InvalidInput
from slipway.objects import Entry, Manifest, ObjectStore
from slipway.objects import _store as store_module
from slipway.objects._manifest import assemble, counted_totals, fragment, totals
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
    from slipway.services.datasets.schemas import DatasetVersionCreate

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


def test_the_helper_is_told_the_totals_its_parent_counted(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = manifest_of(ODD_PATHS)
    parent = ObjectStore.from_url(context.settings.objects_url)
    digest = parent.put_manifest_bytes(manifest.to_bytes()).hash
    size, files = manifest.size, len(manifest.entries)
    assert parent.noted_totals(digest) == (size, files)
    never_parse(monkeypatch)
    request = {
        "op": "create_dataset_version",
        "model": "slipway.services.datasets.schemas:DatasetVersionCreate",
        "fields": {"object_hash": digest, "kind": "dir", "size": size, "file_count": files},
        "args": {"project": "default", "name": "data"},
        "totals": [digest, size, files],
    }
    answer = _recorder._run(EmbeddedBackend(context), request)
    assert (answer["version"], answer["size"], answer["file_count"]) == (1, size, files)


def test_the_cli_shows_personal_data_found_by_add(workspace: Path) -> None:
    """The CLI prints a version from plain data; flags still show, from the full model."""
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
