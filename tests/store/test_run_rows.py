"""The run repository's writes on SQLite and PostgreSQL: large batches round-trip, the latest
value of each metric is the newest point, and a failing statement undoes its transaction."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import IntegrityError

from slipway.errors import Conflict
from slipway.store import MetadataStore, ProjectEntity
from slipway.store import projects as project_rows
from slipway.store import runs as run_rows
from slipway.store.entities import ArtifactEntity, RunEntity


@pytest.fixture
def store(metadata_url: str) -> Iterator[MetadataStore]:
    opened = MetadataStore.open(metadata_url)
    yield opened
    opened.close()


def new_run(store: MetadataStore, name: str = "r") -> RunEntity:
    owner = ProjectEntity(uuid.uuid4().hex, f"p-{uuid.uuid4().hex[:8]}", "", "t", 1, 1)
    run = RunEntity(uuid.uuid4().hex, owner.id, None, name, "running", "t", 5, None, None)
    with store.write() as conn:
        project_rows.insert_project(conn, owner)
        run_rows.insert_run(conn, run)
    return run


def test_a_run_reads_back_as_written_and_ends(store: MetadataStore) -> None:
    run = new_run(store)
    with store.write() as conn:
        assert run_rows.get_run(conn, run.id) == run
        run_rows.end_run(conn, run.id, "finished", 99)
    with store.read() as conn:
        ended = run_rows.get_run(conn, run.id)
        assert run_rows.get_run(conn, "0" * 32) is None
    assert ended is not None and (ended.status, ended.end_time) == ("finished", 99)


def test_a_batch_of_many_points_round_trips(store: MetadataStore) -> None:
    run = new_run(store)
    n = 5_000
    keys = [f"m{i % 7}" for i in range(n)]
    values = [math.nan if i % 11 == 0 else i * 0.5 for i in range(n)]
    steps = [n - i for i in range(n)]  # logged newest step first
    with store.write() as conn:
        run_rows.log_metrics(conn, run.id, keys, values, steps, [1_000] * n)
    with store.read() as conn:
        history = run_rows.metric_history(conn, run.id, "m3")
        latest = run_rows.latest_values(conn, [run.id])[run.id]
    expected = sorted((steps[i], values[i]) for i in range(n) if keys[i] == "m3")
    assert [p.step for p in history] == [step for step, _ in expected]
    assert all(
        math.isnan(p.value) if math.isnan(v) else p.value == v
        for p, (_, v) in zip(history, expected, strict=True)
    )
    # Latest: the point with the highest step, whatever the order of logging.
    assert latest == {f"m{k}": values[k] for k in range(7)}


def test_the_latest_value_is_the_highest_step_then_the_newest_time(
    store: MetadataStore,
) -> None:
    run = new_run(store)
    with store.write() as conn:
        run_rows.log_metrics(
            conn, run.id, ["a", "a", "b"], [1.0, 2.0, math.nan], [3, 3, 1], [5, 6, 1]
        )
        run_rows.log_metrics(
            conn, run.id, ["a", "b"], [9.0, 4.0], [2, 1], [99, 2]
        )  # late, old step
    with store.read() as conn:
        latest = run_rows.latest_values(conn, [run.id, "0" * 32])
    assert latest == {run.id: {"a": 2.0, "b": 4.0}, "0" * 32: {}}


def test_many_params_and_tags_round_trip_and_params_stay_put(store: MetadataStore) -> None:
    run = new_run(store)
    params = {f"p{i}": str(i) for i in range(500)}
    tags = {f"t{i}": "x" * i for i in range(300)}
    with store.write() as conn:
        run_rows.log_params(conn, run.id, params)
        run_rows.log_params(conn, run.id, {"p1": "1", "extra": "e"})  # the same value again: fine
        run_rows.set_tags(conn, run.id, tags)
        run_rows.set_tags(conn, run.id, {"t1": "changed"})  # tags change
    refused = r"param 'p2' of run \w+ is already '2', cannot change it to 'two'"
    with pytest.raises(Conflict, match=refused), store.write() as conn:
        run_rows.log_params(conn, run.id, {"p2": "two", "new": "n"})
    with store.read() as conn:
        # Nothing of the refused call was written, not even its new key.
        assert run_rows.key_values(conn, "params", [run.id]) == {run.id: params | {"extra": "e"}}
        assert run_rows.key_values(conn, "tags", [run.id]) == {run.id: tags | {"t1": "changed"}}


def test_a_failing_statement_rolls_the_whole_transaction_back(store: MetadataStore) -> None:
    run = new_run(store)
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"), store.write() as conn:
        run_rows.set_tags(conn, run.id, {"written": "first"})
        run_rows.log_metrics(conn, "0" * 32, ["m"], [1.0], [0], [0])  # no such run
    with store.read() as conn:
        assert run_rows.key_values(conn, "tags", [run.id]) == {run.id: {}}
        assert run_rows.latest_values(conn, ["0" * 32]) == {"0" * 32: {}}


def test_an_artifact_is_replaced_at_its_path(store: MetadataStore) -> None:
    run = new_run(store)
    first = ArtifactEntity(run.id, "model/a.bin", "a" * 64, 3, False, 1)
    second = ArtifactEntity(run.id, "model/a.bin", "b" * 64, 4, False, 2)
    folder = ArtifactEntity(run.id, "data", "c" * 64, 10, True, 1)
    with store.write() as conn:
        for artifact in (first, folder, second):
            run_rows.put_artifact(conn, artifact)
    with store.read() as conn:
        assert run_rows.list_artifacts(conn, run.id) == [folder, second]
        assert run_rows.artifact_objects(conn) == {("b" * 64, False), ("c" * 64, True)}
