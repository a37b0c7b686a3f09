"""Retries with backoff, timeouts, skipped descendants, and resuming a killed run."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from slipway.client import Client
from slipway.errors import Conflict
from slipway.pipelines import resume_run
from tests.conftest import SLIPWAY, clean_env
from tests.pipelines import flows
from tests.pipelines.conftest import ran

REPO = Path(__file__).resolve().parents[2]


def test_a_step_that_fails_twice_then_succeeds_is_retried(
    client: Client, tmp_path: Path, step_log: Path
):
    run = flows.retried.run(client=client, attempts_file=str(tmp_path / "calls"))

    assert run.status == "finished"
    assert ran(step_log) == ["flaky", "flaky", "flaky", "double"]
    assert run.steps["flaky"].attempts == 3
    assert run.steps["flaky"].status == "finished"
    assert run.output("double") == 6


def test_a_step_that_keeps_failing_fails_the_run_and_skips_what_depends_on_it(
    client: Client, step_log: Path
):
    run = flows.partly_broken.run(client=client)

    assert run.status == "failed"
    assert "step broken failed" in run.error
    broken = run.steps["broken"]
    assert broken.status == "failed" and broken.attempts == 2
    assert "ValueError: cannot use 1" in broken.error
    assert run.steps["double"].status == "skipped"
    assert "upstream step broken" in run.steps["double"].error
    assert run.steps["independent"].status == "finished"  # its branch did not depend on it
    assert sorted(ran(step_log)) == ["broken", "broken", "independent"]
    tracking = client.runs.get(broken.run_id)
    assert tracking.status == "failed"


def test_a_step_past_its_timeout_fails(client: Client):
    started = time.monotonic()
    run = flows.too_slow.run(client=client)

    assert time.monotonic() - started < 10
    assert run.status == "failed"
    assert "ran past its timeout of 0.5 s" in run.steps["slow"].error


def _wait_for(predicate, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (found := predicate()) is not None:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_pipeline_resumes_without_redoing_finished_steps(
    workspace: Path, client: Client, sqlite_url: str, tmp_path: Path
):
    log = tmp_path / "steps.log"
    gate = tmp_path / "gate"
    gate.touch()  # the gate step waits while this exists
    env = clean_env(
        SLIPWAY_METADATA_URL=sqlite_url,
        SLIPWAY_TEST_STEP_LOG=str(log),
        SLIPWAY_TEST_GATE=str(gate),
        PYTHONPATH=str(REPO),
    )
    driver = subprocess.Popen(
        [SLIPWAY, "pipeline", "run", "tests.pipelines.flows:resumable", "--param", "start=4"],
        cwd=workspace,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def gate_running() -> str | None:
            runs = client.call("list_pipeline_runs", project="default").runs if log.exists() else []
            # Recorded as running, and inside the step (it notes itself, then waits).
            gate_entered = flows.executed(log)[-1:] == ["gate"]
            if runs and runs[0].steps["gate"].status == "running" and gate_entered:
                return runs[0].id
            return None

        run_id = _wait_for(gate_running, "the gate step to start")
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            driver.kill()
    killed = client.call("get_pipeline_run", run_id=run_id)
    assert killed.status == "running"  # nobody was left to record otherwise
    assert [s.status for s in killed.steps.values()] == [
        "finished",
        "finished",
        "running",
        "pending",
    ]
    assert flows.executed(log) == ["first", "second", "gate"]

    gate.unlink()
    resumed = subprocess.run(
        [SLIPWAY, "pipeline", "resume", run_id],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "first: finished before, kept" in resumed.stdout
    assert flows.executed(log) == ["first", "second", "gate", "gate", "last"]
    finished = client.call("get_pipeline_run", run_id=run_id)
    assert finished.status == "finished"
    assert [s.status for s in finished.steps.values()] == ["finished"] * 4
    from slipway.pipelines._result import PipelineRun

    assert PipelineRun(finished, client).output("last") == ((4 + 1) * 10 + 3) - 1

    with pytest.raises(Conflict, match="nothing to resume"):
        resume_run(run_id, client=client)


def test_a_run_whose_driver_still_runs_cannot_be_resumed(client: Client):
    from slipway.pipelines._link import driver_id
    from slipway.services.pipeline_runs.schemas import PipelineRunCreate, StepPlan

    record = client.call(
        "create_pipeline_run",
        project="default",
        body=PipelineRunCreate(
            pipeline="tests.pipelines.flows:resumable",
            name="resumable",
            executor="local",
            steps=[StepPlan(step="first")],
            driver=f"{driver_id().rpartition(':')[0]}:{os.getppid()}",  # a live process
        ),
    )
    with pytest.raises(Conflict, match="still running"):
        resume_run(record.id, client=client)
