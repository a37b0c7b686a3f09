"""The same pipeline on the local, process and Ray executors gives the same outputs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from slipway.client import Client
from tests.pipelines import flows
from tests.pipelines.conftest import ran

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    """A local Ray cluster of this test's own, stopped afterwards."""
    ray = pytest.importorskip("ray", reason="the ray extra is part of the test install")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}},
    )
    yield
    ray.shutdown()


def _outputs(run, client: Client) -> dict[str, object]:
    assert run.status == "finished", {n: s.error for n, s in run.steps.items()}
    return {name: run.output(name) for name in run.steps}


def _same(left: dict[str, object], right: dict[str, object]) -> None:
    pd.testing.assert_frame_equal(left["ingest"], right["ingest"])
    np.testing.assert_array_equal(left["featurize"], right["featurize"])
    np.testing.assert_array_equal(left["train"].coef_, right["train"].coef_)
    assert left["evaluate"] == right["evaluate"]


@pytest.mark.slow
def test_local_process_and_ray_executors_give_identical_outputs(
    client: Client, step_log: Path, ray_cluster: None
):
    local = flows.churn.run("local", client=client, cache=False)
    process = flows.churn.run("process", client=client, cache=False)
    ray_run = flows.churn.run("ray", client=client, cache=False)

    reference = _outputs(local, client)
    _same(reference, _outputs(process, client))
    _same(reference, _outputs(ray_run, client))
    # Every step ran on each executor (in other processes for process and Ray).
    for run in (process, ray_run):
        assert all(not s.cached and s.attempts == 1 for s in run.steps.values())
        tracking = {
            client.runs.get(s.run_id).tags["slipway.pipeline_run"] for s in run.steps.values()
        }
        assert tracking == {run.id}
    assert process.record.executor == "process"
    assert client.call("get_pipeline_run", run_id=ray_run.id).executor == "ray"
    # The same outputs hash the same: a later local run reuses what Ray computed.
    again = flows.churn.run("local", client=client)
    assert all(s.cached for s in again.steps.values())
    assert again.steps["evaluate"].cached_from == ray_run.steps["evaluate"].id
    assert ran(step_log).count("ingest") == 2  # local and process wrote the log; Ray's workers
    # started before this test set $SLIPWAY_TEST_STEP_LOG, so they did not


def test_process_executor_runs_independent_steps_and_retries_in_workers(
    client: Client, tmp_path: Path, step_log: Path
):
    run = flows.retried.run("process", client=client, attempts_file=str(tmp_path / "calls"))
    assert run.status == "finished"
    assert run.steps["flaky"].attempts == 3
    assert run.output("double") == 6
    broken = flows.partly_broken.run("process", client=client)
    assert broken.steps["broken"].status == "failed"
    assert broken.steps["independent"].status == "finished"
    assert broken.steps["double"].status == "skipped"
    assert "independent" in ran(step_log)  # written by the worker process


def test_process_executor_refuses_a_step_it_cannot_import(client: Client):
    from slipway import pipeline, step

    @step
    def local_only() -> int:
        return 1

    @pipeline
    def nested():
        local_only()

    run = nested.run("process", client=client)
    assert run.status == "failed"
    assert "the process executor needs steps defined at module level" in (
        run.steps["local_only"].error
    )


@pytest.mark.parametrize("executor", ["local", "process"])
def test_a_pipeline_runs_and_caches_against_a_server(
    live_server,
    step_log: Path,
    executor: str,
):
    from slipway.client import HttpBackend

    with Client(HttpBackend(live_server.url)) as remote:
        first = flows.churn.run(executor, client=remote, rows=120)
        assert first.status == "finished", {n: s.error for n, s in first.steps.items()}
        assert ran(step_log) == ["ingest", "featurize", "train", "evaluate"]
        assert first.output("evaluate")["accuracy"] > 0.9
        second = flows.churn.run(executor, client=remote, rows=120)
        assert all(s.cached for s in second.steps.values())
        assert ran(step_log) == []
        tracking = remote.runs.get(first.steps["train"].run_id)
        assert tracking.tags["slipway.pipeline_run"] == first.id


def test_a_step_past_its_timeout_fails_in_a_worker_too(client: Client):
    run = flows.too_slow.run("process", client=client)
    assert run.status == "failed"
    assert "ran past its timeout of 0.5 s" in run.steps["slow"].error
    assert run.steps["slow"].duration_s < 10


@pytest.mark.slow
def test_the_cli_starts_a_local_ray_cluster_of_its_own(workspace: Path, sqlite_url: str):
    import subprocess

    from tests.conftest import SLIPWAY, clean_env

    env = clean_env(SLIPWAY_METADATA_URL=sqlite_url, PYTHONPATH=str(REPO))
    env.pop("RAY_ADDRESS", None)
    done = subprocess.run(
        [SLIPWAY, "pipeline", "run", "tests.pipelines.flows:resumable", "--executor", "ray"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "finished: 4 steps, 0 cached" in done.stdout
    assert "pipeline resumable: 4 steps on ray" in done.stdout
