"""A pipeline run on the local executor: results, records, and what the cache skips."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from slipway.client import Client
from slipway.data import Data
from slipway.errors import InvalidInput, NotFound
from tests.pipelines import flows
from tests.pipelines.conftest import ran


def test_a_pipeline_runs_its_steps_in_order_and_records_them(client: Client, step_log: Path):
    run = flows.churn.run(client=client)

    assert run.status == "finished"
    assert ran(step_log) == ["ingest", "featurize", "train", "evaluate"]
    assert list(run.steps) == ["ingest", "featurize", "train", "evaluate"]
    for step in run.steps.values():
        assert step.status == "finished" and not step.cached
        assert step.duration_s is not None and step.duration_s >= 0
        assert step.cpu_seconds is not None and step.peak_memory_bytes > 10 * 2**20
        assert step.run_id is not None  # the tracking run it opened
    assert run.steps["train"].upstream == ["featurize", "ingest"]
    assert run.steps["train"].outputs["output"].kind == "model"
    assert run.steps["ingest"].outputs["output"].kind == "pandas.parquet"
    assert run.output("evaluate")["accuracy"] > 0.9
    frame = run.output("ingest")
    assert isinstance(frame, pd.DataFrame) and len(frame) == 400
    stored = client.call("get_pipeline_run", run_id=run.id)
    assert stored.status == "finished" and stored.params == {"rows": 400, "c": 1.0}
    tracking = client.runs.get(run.steps["train"].run_id)
    assert tracking.tags["slipway.pipeline_run"] == run.id
    assert tracking.params["c"] == "1.0"


def test_a_second_run_with_nothing_changed_hits_the_cache_for_every_step(
    client: Client, step_log: Path
):
    first = flows.churn.run(client=client)
    ran(step_log)
    second = flows.churn.run(client=client)

    assert ran(step_log) == []
    assert all(s.cached and s.status == "finished" for s in second.steps.values())
    assert second.steps["train"].cached_from == first.steps["train"].id
    assert second.output("evaluate") == first.output("evaluate")
    listed = client.call("list_pipeline_runs", project="default").runs
    assert [r.id for r in listed] == [second.id, first.id]


def test_a_run_whose_every_step_is_cached_is_recorded_in_one_request(
    workspace: Path, sqlite_url: str
):
    from slipway.client import EmbeddedBackend
    from slipway.context import Context
    from tests.conftest import settings_for

    class Counted(EmbeddedBackend):
        calls: list[str] = []

        def call(self, name: str, /, **arguments: object) -> object:
            self.calls.append(name)
            return super().call(name, **arguments)

    with Client(Counted(Context.open(settings_for(workspace, sqlite_url)))) as client:
        flows.churn.run(client=client)
        Counted.calls.clear()
        second = flows.churn.run(client=client)
    assert Counted.calls == ["create_pipeline_run"]
    assert second.status == "finished"
    assert all(s.cached for s in second.steps.values())


def test_changing_a_parameter_reruns_that_step_and_its_descendants_only(
    client: Client, step_log: Path
):
    flows.churn.run(client=client)
    ran(step_log)
    run = flows.churn.run(client=client, c=0.01)

    assert ran(step_log) == ["train", "evaluate"]
    assert {n for n, s in run.steps.items() if s.cached} == {"ingest", "featurize"}


def test_no_cache_runs_every_step(client: Client, step_log: Path):
    flows.churn.run(client=client)
    ran(step_log)
    flows.churn.run(client=client, cache=False)
    assert ran(step_log) == ["ingest", "featurize", "train", "evaluate"]


EDITABLE = """
from slipway import pipeline, step


def helper(value):
    return value + 1


@step
def source(value: int) -> int:
    return value


@step
def transform(value: int) -> int:
    return helper(value) * 2


@step
def report(value: int) -> dict:
    return {"value": value}


@pipeline
def editable(start: int = 1):
    report(transform(source(start)))
"""


def _load_editable(folder: Path, text: str) -> object:
    (folder / "editable_flow.py").write_text(textwrap.dedent(text))
    sys.modules.pop("editable_flow", None)
    importlib.invalidate_caches()
    return importlib.import_module("editable_flow")


def test_changing_a_steps_code_or_a_helper_it_calls_reruns_it_and_its_descendants(
    client: Client, workspace: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.syspath_prepend(str(workspace))
    module = _load_editable(workspace, EDITABLE)
    first = module.editable.run(client=client)  # type: ignore[attr-defined]
    assert first.output("report") == {"value": 4}

    module = _load_editable(workspace, EDITABLE.replace("* 2", "* 3"))
    changed = module.editable.run(client=client)  # type: ignore[attr-defined]
    assert {n: s.cached for n, s in changed.steps.items()} == {
        "source": True,
        "transform": False,
        "report": False,
    }
    assert changed.output("report") == {"value": 6}

    module = _load_editable(workspace, EDITABLE.replace("* 2", "* 3").replace("+ 1", "+ 2"))
    helper_changed = module.editable.run(client=client)  # type: ignore[attr-defined]
    assert [n for n, s in helper_changed.steps.items() if not s.cached] == ["transform", "report"]
    assert helper_changed.output("report") == {"value": 9}
    sys.modules.pop("editable_flow", None)


def test_a_new_dataset_version_reruns_the_steps_that_read_it(
    client: Client, workspace: Path, step_log: Path
):
    table = workspace / "numbers.csv"
    table.write_text("value\n1\n2\n3\n")
    with Data(client) as data:
        data.add(table, name="numbers")
    first = flows.from_dataset.run(client=client)
    assert first.output("summarize") == {"rows": 3, "total": 6.0}
    assert first.steps["load"].datasets == ["numbers@v1"]  # lineage: what the step read
    ran(step_log)

    flows.from_dataset.run(client=client)
    assert ran(step_log) == []

    table.write_text("value\n1\n2\n3\n4\n")
    with Data(client) as data:
        data.add(table, name="numbers")
    latest = flows.from_dataset.run(client=client)
    assert ran(step_log) == ["load", "summarize"]
    assert latest.output("summarize") == {"rows": 4, "total": 10.0}
    assert latest.steps["load"].datasets == ["numbers@v2"]

    pinned = flows.from_dataset.run(client=client, source="numbers@v1")
    assert ran(step_log) == []  # v1's results are still in the cache
    assert pinned.output("summarize") == {"rows": 3, "total": 6.0}


def test_a_step_that_registers_a_model_links_the_version_to_its_step_run(client: Client):
    import slipway as sw
    from slipway import pipeline, step

    @step
    def fit(rows: int):
        from sklearn.linear_model import LinearRegression

        x = np.arange(rows, dtype=float).reshape(-1, 1)
        model = LinearRegression().fit(x, 3 * x[:, 0])
        sw.models.log_model(model, "line")
        return model

    @pipeline
    def register(rows: int = 20):
        fit(rows)

    with sw.using(client):
        run = register.run(client=client)
    assert run.status == "finished", run.error
    assert run.steps["fit"].models == ["line@v1"]
    version = client.models.get_version("line@v1")
    assert version.run_id == run.steps["fit"].run_id


def test_building_a_graph_runs_no_step(step_log: Path):
    graph = flows.churn.build(rows=10)
    assert [n.name for n in graph.nodes] == ["ingest", "featurize", "train", "evaluate"]
    assert graph.node("train").literals == {"c": 1.0}
    assert graph.descendants("featurize") == {"train", "evaluate"}
    assert not step_log.exists()


def test_a_step_called_outside_a_pipeline_is_a_plain_function(step_log: Path):
    assert flows.double(21) == 42


def test_bad_pipelines_and_parameters_are_refused_clearly(client: Client):
    from slipway import pipeline, step

    with pytest.raises(InvalidInput, match="no parameter"):
        flows.churn.build(rowz=3)
    with pytest.raises(InvalidInput, match="rows must be a int"):
        flows.churn.build(rows="many")

    @step
    def takes(value: object) -> None:
        return None

    @pipeline
    def handing_objects():
        takes(object())

    with pytest.raises(InvalidInput, match="pass JSON values"):
        handing_objects.build()

    @pipeline
    def peeking():
        out = flows.double(1)
        if out:
            flows.double(2)

    with pytest.raises(TypeError, match="not a value yet"):
        peeking.build()

    @pipeline
    def empty():
        return None

    with pytest.raises(InvalidInput, match="calls no step"):
        empty.build()
    with pytest.raises(InvalidInput, match="retries must be"):
        step(retries=-1)(lambda: None)
    with pytest.raises(InvalidInput, match="unknown resources"):
        step(resources={"cores": 2})(lambda: None)
    with pytest.raises(NotFound):  # nothing was recorded: not even the project exists
        client.call("list_pipeline_runs", project="default")


def test_an_output_slipway_cannot_store_fails_the_step_with_a_clear_error(client: Client):
    from slipway import pipeline, step

    @step
    def opaque() -> object:
        return {1, 2, 3}

    @step
    def objects() -> np.ndarray:
        return np.array([{"a": 1}], dtype=object)

    @pipeline
    def unstorable():
        opaque()
        objects()

    run = unstorable.run(client=client)
    assert run.status == "failed"
    assert "does not know how to store" in run.steps["opaque"].error
    assert "builtins.set" in run.steps["opaque"].error
    assert "numpy.ndarray" in run.steps["objects"].error  # object arrays are never pickled


def test_values_round_trip_through_their_materializers(client: Client):
    import pyarrow as pa

    from slipway import pipeline, step

    frame = pd.DataFrame(
        {"n": [1, 2, 3], "x": [0.5, None, 2.5], "s": ["a", "b", None]},
        index=pd.Index([10, 20, 30], name="id"),
    )

    @step
    def make_frame() -> pd.DataFrame:
        return frame

    @step
    def make_table() -> pa.Table:
        return pa.table({"k": ["x", "y"], "v": [1.5, 2.5]})

    @step
    def make_array() -> np.ndarray:
        return np.arange(12, dtype=np.float32).reshape(3, 4)

    @step
    def make_json() -> dict:
        return {"nested": {"list": [1, 2.5, "three", None, True]}}

    @pipeline
    def values():
        make_frame()
        make_table()
        make_array()
        make_json()

    run = values.run(client=client)
    pd.testing.assert_frame_equal(run.output("make_frame"), frame)
    assert run.output("make_table").equals(pa.table({"k": ["x", "y"], "v": [1.5, 2.5]}))
    array = run.output("make_array")
    assert array.dtype == np.float32 and array.tolist() == np.arange(12).reshape(3, 4).tolist()
    assert run.output("make_json") == {"nested": {"list": [1, 2.5, "three", None, True]}}


def test_a_registered_materializer_stores_its_type(client: Client):
    from slipway import pipeline, step
    from slipway.pipelines import register_materializer

    class Point:
        def __init__(self, x: int, y: int) -> None:
            self.x, self.y = x, y

    class PointText:
        kind = "test.point"
        folder = False

        def accepts(self, value: object) -> bool:
            return isinstance(value, Point)

        def save(self, value: Point, path: Path) -> None:
            path.write_text(f"{value.x},{value.y}")

        def load(self, path: Path) -> Point:
            x, y = path.read_text().split(",")
            return Point(int(x), int(y))

    register_materializer(PointText())
    with pytest.raises(InvalidInput, match="registered already"):
        register_materializer(PointText())

    @step
    def make_point() -> Point:
        return Point(3, 4)

    @step
    def norm(point: Point) -> float:
        return (point.x**2 + point.y**2) ** 0.5

    @pipeline
    def geometry():
        norm(make_point())

    run = geometry.run(client=client)
    assert run.steps["make_point"].outputs["output"].kind == "test.point"
    assert run.output("norm") == 5.0


def test_gc_keeps_step_outputs_so_the_cache_still_serves_them(client: Client, step_log: Path):
    from slipway.services.blobs.schemas import GcRequest

    first = flows.churn.run(client=client)
    ran(step_log)
    client.call("collect_garbage", body=GcRequest(dry_run=False, grace_s=0))
    again = flows.churn.run(client=client)
    assert ran(step_log) == []
    assert again.output("evaluate") == first.output("evaluate")
    assert again.output("train").coef_.tolist() == first.output("train").coef_.tolist()


def test_a_rerun_step_whose_output_did_not_change_lets_its_descendants_hit_the_cache(
    client: Client, workspace: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.syspath_prepend(str(workspace))
    module = _load_editable(workspace, EDITABLE)
    module.editable.run(client=client)  # type: ignore[attr-defined]
    # New code, same result: transform runs again, and report finds its input unchanged.
    module = _load_editable(workspace, EDITABLE.replace("* 2", "* 2 + 0"))
    run = module.editable.run(client=client)  # type: ignore[attr-defined]
    assert {n: s.cached for n, s in run.steps.items()} == {
        "source": True,
        "transform": False,
        "report": True,
    }
    sys.modules.pop("editable_flow", None)
