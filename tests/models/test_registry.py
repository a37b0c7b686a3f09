"""The model registry: versions, references, aliases and their history, guards, lineage.

Runs embedded (SQLite, PostgreSQL) and against a live `slipway server` (remote mode), calling
the operations by name as the client does; the races run on SQLite and PostgreSQL with one
connection per writer.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from slipway.client import EmbeddedBackend, HttpBackend
from slipway.client._backends import Backend
from slipway.client._objects import ObjectsClient
from slipway.context import Context, Principal
from slipway.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from slipway.objects import Entry, Manifest
from slipway.refs import check_alias, parse_model_ref
from slipway.services.blobs.schemas import GcRequest
from slipway.services.datasets.schemas import DatasetVersionCreate
from slipway.services.registry.schemas import AliasSet, ModelVersionCreate, ModelVersionUpdate
from slipway.services.runs.schemas import LogBatch, RunCreate
from slipway.store import audit
from tests.conftest import clean_env, settings_for, start_server

P = "proj"


class Registry:
    """Operations by name, plus what the tests need to set the stage."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.objects = ObjectsClient(backend)

    def __call__(self, name: str, /, **arguments: Any) -> Any:
        return self.backend.call(name, **arguments)

    def package(self, content: bytes = b"weights") -> str:
        """Store a one-file package folder; return its manifest's hash."""
        stored = self.objects.upload_bytes(content)
        manifest = Manifest((Entry("model.bin", stored.hash, stored.size),))
        return self.objects.upload_bytes(manifest.to_bytes()).hash

    def dataset(self, name: str, content: bytes) -> str:
        digest = self.package(content)
        body = DatasetVersionCreate(object_hash=digest, size=len(content), file_count=1, path=name)
        return str(self("create_dataset_version", project=P, name=name, body=body).ref)

    def register(self, name: str = "churn", **fields: Any) -> Any:
        if "package_hash" not in fields:
            fields["package_hash"] = self.package()
        fields.setdefault("flavor", "sklearn")
        body = ModelVersionCreate(**fields)
        return self("create_model_version", project=P, name=name, body=body)

    def alias(self, alias: str, version: int, reason: str = "", name: str = "churn") -> Any:
        body = AliasSet(version=version, reason=reason)
        return self("set_model_alias", project=P, name=name, alias=alias, body=body)

    def versions(self, name: str = "churn") -> list[int]:
        found = self("list_model_versions", project=P, name=name).versions
        return [v.version for v in found]


@pytest.fixture(params=["embedded-sqlite", "embedded-postgres", "remote"])
def registry(
    request: pytest.FixtureRequest, workspace: Path, sqlite_url: str
) -> Iterator[Registry]:
    if request.param == "remote":
        server = start_server(workspace, clean_env(SLIPWAY_METADATA_URL=sqlite_url))
        backend: Backend = HttpBackend(server.url)
        yield Registry(backend)
        backend.close()
        server.stop()
        return
    url = sqlite_url if request.param == "embedded-sqlite" else request.getfixturevalue("pg_url")
    backend = EmbeddedBackend(Context.open(settings_for(workspace, url)))
    yield Registry(backend)
    backend.close()


def test_versions_are_numbered_and_every_reference_resolves(registry: Registry) -> None:
    v1 = registry.register(description="first", tags={"team": "risk"})
    assert (v1.ref, v1.project, v1.status, v1.created, v1.aliases) == (
        "churn@v1",
        P,
        "active",
        True,
        [],
    )
    assert (v1.description, v1.tags, v1.flavor) == ("first", {"team": "risk"}, "sklearn")
    v2 = registry.register(package_hash=registry.package(b"better"), signature={"inputs": []})
    v3 = registry.register(package_hash=registry.package(b"best"))
    assert [v1.version, v2.version, v3.version] == [1, 2, 3]
    assert v2.signature == {"inputs": []}
    registry.alias("production", 2)
    for ref, number in [
        ("churn", 3),
        ("churn@latest", 3),
        ("churn@v1", 1),
        ("churn@2", 2),
        ("churn@production", 2),
    ]:
        assert registry("get_model_version", project=P, ref=ref).version == number, ref
    assert registry("get_model_version", project=P, ref="churn@v2").aliases == ["production"]
    assert registry.versions() == [3, 2, 1]
    (listed,) = registry("list_registered_models", project=P).models
    assert (listed.name, listed.latest_version, listed.aliases) == ("churn", 3, {"production": 2})


def test_repeating_the_latest_version_exactly_creates_nothing(registry: Registry) -> None:
    first = registry.register(description="d")
    again = registry.register(package_hash=first.package_hash, description="d")
    assert (again.version, again.created) == (1, False)
    other = registry.register(package_hash=first.package_hash, description="new words")
    assert (other.version, other.created) == (2, True)


def test_alias_moves_are_recorded_with_previous_version_and_reason(registry: Registry) -> None:
    for _ in range(3):
        registry.register(package_hash=registry.package(str(_).encode()))
    first = registry.alias("production", 1, reason="first release")
    assert (first.version, first.previous_version, first.reason) == (1, None, "first release")
    moved = registry.alias("production", 3, reason="better AUC")
    assert (moved.version, moved.previous_version) == (3, 1)
    registry.alias("staging", 2)
    removed = registry("delete_model_alias", project=P, name="churn", alias="staging")
    assert (removed.version, removed.previous_version) == (None, 2)
    changes = registry("list_alias_history", project=P, name="churn").changes
    assert [(c.alias, c.version, c.previous_version, c.reason) for c in changes] == [
        ("production", 1, None, "first release"),
        ("production", 3, 1, "better AUC"),
        ("staging", 2, None, ""),
        ("staging", None, 2, ""),
    ]
    assert all(c.changed_by and c.changed_at.tzinfo is not None for c in changes)
    with pytest.raises(NotFound, match="no alias 'staging'; its aliases are production"):
        registry("get_model_version", project=P, ref="churn@staging")
    with pytest.raises(NotFound, match="no alias 'staging'"):
        registry("delete_model_alias", project=P, name="churn", alias="staging")


def test_an_alias_blocks_archive_and_delete_until_moved(registry: Registry) -> None:
    registry.register()
    registry.register(package_hash=registry.package(b"two"))
    registry.alias("champion", 1)
    for op in ("archive_model_version", "delete_model_version"):
        with pytest.raises(Conflict, match=r"churn@v1 is what alias 'champion' points at; move"):
            registry(op, project=P, name="churn", version=1)
    with pytest.raises(Conflict, match=r"still has aliases champion \(v1\)"):
        registry("delete_registered_model", project=P, name="churn")
    assert registry.versions() == [2, 1]

    registry.alias("champion", 2)
    archived = registry("archive_model_version", project=P, name="churn", version=1)
    assert archived.status == "archived"
    with pytest.raises(Conflict, match=r"churn@v1 is archived; restore it"):
        registry.alias("champion", 1)
    archive_2 = "archive_model_version"
    with pytest.raises(Conflict, match="champion"):
        registry(archive_2, project=P, name="churn", version=2)
    # latest skips archived versions; a number still reaches them
    registry("delete_model_alias", project=P, name="churn", alias="champion")
    registry(archive_2, project=P, name="churn", version=2)
    with pytest.raises(NotFound, match=r"no active version; it has v2 \(archived\), v1"):
        registry("get_model_version", project=P, ref="churn@latest")
    assert registry("get_model_version", project=P, ref="churn@v1").status == "archived"
    restored = registry("restore_model_version", project=P, name="churn", version=1)
    assert restored.status == "active"
    assert registry("get_model_version", project=P, ref="churn").version == 1

    registry("delete_model_version", project=P, name="churn", version=2)
    assert registry.versions() == [1]
    assert registry.register(package_hash=registry.package(b"three")).version == 3  # not 2 again
    registry("delete_registered_model", project=P, name="churn")
    assert registry("list_registered_models", project=P).models == []
    with pytest.raises(NotFound, match="model 'churn' does not exist"):
        registry("list_alias_history", project=P, name="churn")


@pytest.mark.parametrize("alias", ["latest", "v3", "3", "a b", "V12", "", "-x", "x" * 65])
def test_bad_alias_names_are_refused(alias: str) -> None:
    with pytest.raises(ValueError, match="invalid alias"):
        check_alias(alias)


def test_model_references_parse() -> None:
    assert parse_model_ref("churn") == ("churn", None, None)
    assert parse_model_ref("churn@latest") == ("churn", None, None)
    assert parse_model_ref("churn@v3") == ("churn", 3, None)
    assert parse_model_ref("churn@12") == ("churn", 12, None)
    assert parse_model_ref("churn@prod-2.eu_west") == ("churn", None, "prod-2.eu_west")
    for bad in ("churn@", "@v1", "churn@v1@v2", "churn@v0", "a b", "churn@V3"):
        with pytest.raises(ValueError):
            parse_model_ref(bad)


def test_bad_input_gives_clear_errors_and_changes_nothing(
    registry: Registry, workspace: Path
) -> None:
    registry.register()
    registry.alias("prod", 1)
    before = registry("list_alias_history", project=P, name="churn").changes
    for alias in ("latest", "v3", "3", "a b"):
        with pytest.raises(InvalidInput, match="invalid alias"):
            registry.alias(alias, 1)
    with pytest.raises(NotFound, match=r"no version v9; it has v1"):
        registry.alias("prod", 9)
    with pytest.raises(InvalidInput, match="not a model reference"):
        registry("get_model_version", project=P, ref="churn@v1@v2")
    with pytest.raises(NotFound, match=r"model 'nope' does not exist in project 'proj'"):
        registry("get_model_version", project=P, ref="nope@v1")
    with pytest.raises(NotFound, match=r"no version v4; it has v1"):
        registry("get_model_version", project=P, ref="churn@4")

    missing_run = "0" * 32
    with pytest.raises(NotFound, match=f"run {missing_run} does not exist"):
        registry.register(run_id=missing_run)
    with pytest.raises(NotFound, match=r"dataset version 'train@v1' does not exist in project"):
        registry.register(datasets=["train@v1"])
    with pytest.raises(NotFound, match=r"package object 0{64} is not in the store"):
        registry.register(package_hash="0" * 64)
    not_manifest = registry.objects.upload_bytes(b"just bytes").hash
    with pytest.raises(InvalidInput, match="is not a folder manifest"):
        registry.register(package_hash=not_manifest)
    with pytest.raises(InvalidInput, match="invalid name"):
        registry.register(name="bad name")
    with pytest.raises(NotFound, match="does not exist"):
        registry.register(name="other", run_id=missing_run)  # the model is not created either

    assert registry.versions() == [1]
    assert [m.name for m in registry("list_registered_models", project=P).models] == ["churn"]
    assert registry("list_alias_history", project=P, name="churn").changes == before
    assert registry("get_model_version", project=P, ref="churn@prod").version == 1


def test_bodies_refuse_malformed_fields() -> None:
    with pytest.raises(ValueError, match="package_hash"):
        ModelVersionCreate(package_hash="abc", flavor="x")
    with pytest.raises(ValueError, match="code_commit"):
        ModelVersionCreate(package_hash="a" * 64, flavor="x", code_commit="not-hex")
    with pytest.raises(ValueError, match="extra"):
        ModelVersionCreate(package_hash="a" * 64, flavor="x", stage="prod")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        AliasSet(version=0)
    with pytest.raises(ValueError, match="invalid tag key"):
        ModelVersionUpdate(set_tags={"a\nb": "x"})


def test_lineage_names_the_run_and_the_dataset_versions(registry: Registry) -> None:
    run = registry("create_run", project=P, body=RunCreate(name="train-1"))
    registry("log_batch", run_id=run.id, body=LogBatch(params={"lr": "0.1"}, status="finished"))
    train = registry.dataset("train", b"a,b\n1,2\n")
    holdout = registry.dataset("holdout", b"a,b\n3,4\n")
    version = registry.register(
        run_id=run.id,
        datasets=[train, holdout, "train@latest"],
        code_commit="ABCDEF1234567",
        pipeline_run="nightly-42",
    )
    assert version.datasets == ["holdout@v1", "train@v1"]
    assert version.code_commit == "abcdef1234567"
    lineage = registry("get_model_lineage", project=P, ref="churn@v1")
    assert lineage.version == version.model_copy(update={"created": True})
    assert lineage.run is not None
    assert {k: lineage.run[k] for k in ("id", "name", "status", "project", "params")} == {
        "id": run.id,
        "name": "train-1",
        "status": "finished",
        "project": P,
        "params": {"lr": "0.1"},
    }
    assert lineage.run["start_time"].startswith("20")
    assert [d["ref"] for d in lineage.datasets] == ["holdout@v1", "train@v1"]
    assert all(len(d["object_hash"]) == 64 for d in lineage.datasets)
    assert (lineage.code_commit, lineage.pipeline_run) == ("abcdef1234567", "nightly-42")

    registry("create_project", body=_project("elsewhere"))
    other = registry("create_run", project="elsewhere", body=RunCreate())
    with pytest.raises(InvalidInput, match="belongs to another project"):
        registry.register(run_id=other.id)
    bare = registry.register(name="bare")
    lineage = registry("get_model_lineage", project=P, ref="bare")
    assert (lineage.run, lineage.datasets, bare.datasets) == (None, [], [])


def test_description_and_tags_change_package_does_not(registry: Registry) -> None:
    first = registry.register(description="old", tags={"a": "1", "b": "2"})
    body = ModelVersionUpdate(description="new", set_tags={"b": "3", "c": "4"}, remove_tags=["a"])
    changed = registry("update_model_version", project=P, name="churn", version=1, body=body)
    assert (changed.description, changed.tags) == ("new", {"b": "3", "c": "4"})
    assert changed.package_hash == first.package_hash
    body = ModelVersionUpdate(remove_tags=["zzz"])
    same = registry("update_model_version", project=P, name="churn", version=1, body=body)
    assert (same.description, same.tags) == ("new", {"b": "3", "c": "4"})
    with pytest.raises(NotFound, match="no version v5"):
        registry("update_model_version", project=P, name="churn", version=5, body=body)


def test_project_delete_needs_force_and_takes_the_registry(registry: Registry) -> None:
    train = registry.dataset("train", b"x")
    registry.register(datasets=[train])
    registry.alias("prod", 1)
    with pytest.raises(Conflict, match="1 models"):
        registry("delete_project", project=P)
    registry("delete_project", project=P, force=True)
    with pytest.raises(NotFound, match="project 'proj' does not exist"):
        registry("list_registered_models", project=P)


# -- embedded only: permissions, audit, garbage collection --------------------------------


def test_promotion_needs_its_permission_and_is_audited(workspace: Path, sqlite_url: str) -> None:
    ctx = Context.open(settings_for(workspace, sqlite_url))
    registry = Registry(EmbeddedBackend(ctx))
    registry.register()
    writer = Registry(EmbeddedBackend(ctx.acting_as(Principal("ci", frozenset({"model:write"})))))
    writer.register(package_hash=registry.package(b"two"))
    with pytest.raises(PermissionDenied, match="model:promote"):
        writer.alias("prod", 2)
    registry.alias("prod", 2, reason="ok")
    with ctx.store.read() as conn:
        events = [(e.action, e.outcome, e.principal) for e in audit.list_events(conn)]
    assert events[:2] == [
        ("model.alias.set", "ok", ctx.principal.name),
        ("model.alias.set", "denied", "ci"),
    ]
    assert ("model.version.create", "ok", "ci") in events
    ctx.close()


def test_gc_keeps_every_registered_package(workspace: Path, sqlite_url: str) -> None:
    ctx = Context.open(settings_for(workspace, sqlite_url))
    registry = Registry(EmbeddedBackend(ctx))
    version = registry.register()
    registry("collect_garbage", body=GcRequest(dry_run=False, grace_s=0))
    manifest = ctx.objects.read_manifest(version.package_hash)
    assert ctx.objects.read_bytes(manifest.entries[0].hash) == b"weights"
    ctx.close()


# -- races: one connection per writer -----------------------------------------------------


def race(workers: int, work: Callable[[Registry, int], None], url: str, root: Path) -> None:
    """Run `work(registry, n)` in `workers` threads at once, each with its own context."""
    registries = [
        Registry(EmbeddedBackend(Context.open(settings_for(root, url)))) for _ in range(workers)
    ]
    start = threading.Barrier(workers)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            start.wait()
            work(registries[n], n)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in registries:
        r.backend.close()
    assert errors == []


def test_racing_writers_number_versions_without_gaps(metadata_url: str, workspace: Path) -> None:
    setup = Registry(EmbeddedBackend(Context.open(settings_for(workspace, metadata_url))))
    digest = setup.package()

    def five(registry: Registry, n: int) -> None:
        for i in range(5):
            registry.register(package_hash=digest, description=f"writer {n}, version {i}")

    race(4, five, metadata_url, workspace)
    assert sorted(setup.versions()) == list(range(1, 21))
    setup.backend.close()


def test_racing_alias_moves_keep_one_consistent_history(metadata_url: str, workspace: Path) -> None:
    setup = Registry(EmbeddedBackend(Context.open(settings_for(workspace, metadata_url))))
    setup.register()
    setup.register(package_hash=setup.package(b"two"))

    def move(registry: Registry, n: int) -> None:
        for i in range(20):
            registry.alias("prod", n + 1, reason=f"writer {n}, move {i}")

    race(2, move, metadata_url, workspace)
    changes = setup("list_alias_history", project=P, name="churn").changes
    assert len(changes) == 40
    assert changes[0].previous_version is None
    for before, after in itertools.pairwise(changes):
        assert after.previous_version == before.version
    (listed,) = setup("list_registered_models", project=P).models
    assert listed.aliases == {"prod": changes[-1].version}
    setup.backend.close()


def _project(name: str) -> Any:
    from slipway.services.projects.schemas import ProjectCreate

    return ProjectCreate(name=name)
