"""How a run starts and ends: one write each, atomic, and never left running by a failed write.

Identical embedded (SQLite, PostgreSQL) and remote.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import slipway as sw
from slipway.client import Client
from slipway.errors import Conflict, IntegrityError, InvalidInput, NotFound
from slipway.objects import hash_bytes
from slipway.services.runs.schemas import ArtifactRecord
from slipway.tracking import PACKAGES_ARTIFACT, Capture


@pytest.fixture
def client(any_client: Client) -> Iterator[Client]:
    with sw.using(any_client):
        yield any_client
    any_client.batcher.close()


@pytest.fixture
def calls(client: Client, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every operation the client calls, with its arguments, in order."""
    seen: list[tuple[str, dict[str, Any]]] = []
    call = client.backend.call

    def spy(name: str, /, **arguments: Any) -> Any:
        seen.append((name, arguments))
        return call(name, **arguments)

    monkeypatch.setattr(client.backend, "call", spy)
    return seen


def test_the_final_status_travels_with_the_last_values(
    client: Client, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    with sw.start_run(project="life", name="one", capture=False) as run:
        run.log_params({"lr": 0.1, "depth": 6})
        run.log_metrics({"acc": 0.9, "loss": 0.3}, step=2)
        run.set_tag("stage", "dev")

    assert [name for name, _ in calls] == ["create_run", "log_batch"]
    batch = calls[1][1]["body"]
    assert batch.status == "finished" and batch.end_time is not None
    assert batch.params == {"lr": "0.1", "depth": "6"}
    assert sorted(batch.metrics.keys) == ["acc", "loss"] and batch.tags == {"stage": "dev"}

    stored = sw.get_run(run.id)
    assert stored.status == "finished"
    assert stored.params == {"lr": "0.1", "depth": "6"}
    assert stored.metrics == {"acc": 0.9, "loss": 0.3}
    assert stored.tags["stage"] == "dev"
    # The handle's own view needs no read-back, and agrees with what was stored.
    assert run.info.status == "finished" and run.info.end_time == stored.end_time
    assert (run.info.params, run.info.metrics) == (stored.params, stored.metrics)
    assert run.info.tags == stored.tags


def test_a_refused_final_write_ends_the_run_failed_and_raises(client: Client) -> None:
    run = sw.start_run(project="life", capture=False)
    client.runs.log_batch(run.id, params={"lr": "0.2"})  # another writer got there first
    run.log_param("lr", 0.1)
    run.log_metric("acc", 0.5)
    with pytest.raises(Conflict, match=r"logging failed: param 'lr' of run \w+ is already '0.2'"):
        run.end()
    stored = sw.get_run(run.id)
    assert stored.status == "failed" and stored.end_time is not None
    assert stored.params == {"lr": "0.2"}
    assert stored.metrics == {}  # the refused batch was written not at all, and said so
    assert run.info.status == "failed"
    assert sw.active_run() is None
    assert run.end() is run.info  # ending again changes nothing


def test_a_bad_final_status_is_refused_before_anything_is_sent(client: Client) -> None:
    run = sw.start_run(project="life", capture=False)
    with pytest.raises(InvalidInput, match="ends finished, failed or killed"):
        run.end("running")
    run.end("killed")
    assert sw.get_run(run.id).status == "killed"


def test_a_batch_end_time_needs_a_status(client: Client) -> None:
    run = client.runs.create("life")
    with pytest.raises(InvalidInput, match="end_time"):
        client.runs.log_batch(run.id, params={"a": "1"}, end_time=5)
    with pytest.raises(InvalidInput, match="status"):
        client.runs.log_batch(run.id, status="running")
    assert client.runs.get(run.id).params == {}


# -- artifacts recorded by create_run ---------------------------------------------------------


def test_create_records_artifacts_with_the_run(client: Client) -> None:
    stored = client.objects.upload_bytes(b"numpy==2.0\n")
    run = client.runs.create(
        "arts",
        artifacts=[ArtifactRecord(path="env/req.txt", object_hash=stored.hash, size=stored.size)],
    )
    [artifact] = client.runs.artifacts(run.id)
    assert (artifact.path, artifact.object_hash, artifact.size) == ("env/req.txt", stored.hash, 11)
    assert not artifact.is_dir


@pytest.mark.parametrize(
    ("record", "error", "message"),
    [
        (
            {"path": "req.txt", "object_hash": hash_bytes(b"never uploaded"), "size": 1},
            NotFound,
            r"artifact 'req.txt': object \w+ is not in the store; upload it",
        ),
        ({"path": "../escape.txt"}, InvalidInput, "must be relative, without '..'"),
        ({"path": "/etc/passwd"}, InvalidInput, "must be relative"),
        ({"path": "tree", "is_dir": True}, IntegrityError, "not a valid directory manifest"),
        ({"path": "x", "object_hash": "not-a-hash"}, InvalidInput, "hash"),
    ],
)
def test_create_with_a_bad_artifact_writes_nothing(
    client: Client, record: dict[str, Any], error: type[Exception], message: str
) -> None:
    stored = client.objects.upload_bytes(b"not a manifest")
    fields = {"object_hash": stored.hash, "size": stored.size, **record}
    with pytest.raises(error, match=message):
        client.runs.create("refused", artifacts=[ArtifactRecord(**fields)])
    # Nothing was written: not the run, not even the project it would have created.
    with pytest.raises(NotFound, match="'refused' does not exist"):
        client.runs.search(["refused"])


def test_create_refuses_one_path_given_twice(client: Client) -> None:
    stored = client.objects.upload_bytes(b"x")
    same = ArtifactRecord(path="a/b.txt", object_hash=stored.hash, size=1)
    with pytest.raises(InvalidInput, match=r"'a/b\.txt' is given twice"):
        client.runs.create("twice", artifacts=[same, same])


# -- capture -----------------------------------------------------------------------------------


def test_every_captured_run_records_its_packages_uploaded_once(
    client: Client, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    runs = []
    for i in range(3):
        with sw.start_run(project="cap", name=f"r{i}") as run:
            run.log_metric("m", i)
        runs.append(run)

    names = [name for name, _ in calls]
    assert names.count("missing_objects") == 1 and names.count("upload_object") <= 1
    assert "log_artifact" not in names  # recorded by create_run, in its transaction
    for run in runs:
        stored = sw.get_run(run.id)
        artifacts = {a.path: a for a in sw.list_artifacts(run.id)}
        assert artifacts[PACKAGES_ARTIFACT].object_hash == stored.tags["slipway.packages.hash"]
        assert "slipway.git.commit" in stored.tags or "slipway.python.version" in stored.tags


def test_a_package_list_the_store_lost_is_uploaded_again(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = Capture.of(client).packages_digest()
    if not client.objects.missing([digest]):
        pytest.skip("this store already holds the package list")
    # The store first says it holds the list (so the client skips the upload), then loses it.
    answers = [set[str]()]
    real_missing = client.objects.missing
    monkeypatch.setattr(
        client.objects, "missing", lambda hashes: answers.pop() if answers else real_missing(hashes)
    )
    with sw.start_run(project="lost") as run:
        pass
    paths = {a.path: a.object_hash for a in sw.list_artifacts(run.id)}
    assert paths[PACKAGES_ARTIFACT] == digest
    assert client.objects.missing([digest]) == set()
