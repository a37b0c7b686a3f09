"""Many writers lose nothing; a killed writer keeps everything it flushed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from slipway.client import Client
from tests.conftest import clean_env, settings_for

WRITER = """
import sys
import slipway as sw

sw.connect(workspace=sys.argv[1])
with sw.start_run(project="load", name=f"writer-{sys.argv[2]}", capture=False) as run:
    for step in range(10_000):
        run.log_metric("loss", step / 10_000, step=step)
print(run.id)
"""

KILLED = """
import sys, time
import slipway as sw

sw.connect(workspace=sys.argv[1])
run = sw.start_run(project="crash", capture=False)
run.log_params({"lr": "0.1"})
for step in range(5_000):
    run.log_metric("loss", step, step=step)
run.flush()
print(run.id, flush=True)
for step in range(5_000, 1_000_000):   # logged, never flushed: may or may not survive
    run.log_metric("loss", step, step=step)
time.sleep(60)
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_eight_processes_logging_at_once_lose_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    Client.from_settings(settings_for(tmp_path, url)).close()  # the store exists before they start
    env = clean_env(SLIPWAY_METADATA_URL=url)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path / ".slipway"), str(i)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    outputs = [w.communicate(timeout=240) for w in writers]
    assert [w.returncode for w in writers] == [0] * 8, "\n".join(err for _, err in outputs)
    run_ids = [out.strip() for out, _ in outputs]

    with Client.from_settings(settings_for(tmp_path, url)) as client:
        runs = client.runs.search(["load"]).runs
        histories = {run_id: client.runs.metric_history(run_id, "loss") for run_id in run_ids}
    assert sorted(run.id for run in runs) == sorted(run_ids)
    for run_id, history in histories.items():
        assert [point.step for point in history] == list(range(10_000)), run_id
    # The latest value is the last step's: 9_999 / 10_000.
    assert {run.id: run.metrics for run in runs} == {run_id: {"loss": 0.9999} for run_id in run_ids}


def test_sigkill_after_flush_keeps_everything_flushed(tmp_path: Path, sqlite_url: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(tmp_path / ".slipway")],
        env=clean_env(SLIPWAY_METADATA_URL=sqlite_url),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    run_id = child.stdout.readline().strip()
    assert len(run_id) == 32, "the child did not reach its flush"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    with Client.from_settings(settings_for(tmp_path, sqlite_url)) as client:
        steps = {point.step for point in client.runs.metric_history(run_id, "loss")}
        assert client.runs.get(run_id).params == {"lr": "0.1"}
    assert set(range(5_000)) <= steps  # everything up to the flush
    assert steps <= set(range(1_000_000))  # and nothing invented


EXITS = """
import sys
import slipway as sw

sw.connect(workspace=sys.argv[1])
run = sw.start_run(project="exit", capture=False)   # never ended, never flushed
for step in range(20_000):
    sw.log_metric("loss", step, step=step)
print(run.id)
"""


def test_interpreter_exit_flushes_and_finishes_the_run(tmp_path: Path, sqlite_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", EXITS, str(tmp_path / ".slipway")],
        env=clean_env(SLIPWAY_METADATA_URL=sqlite_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    run_id = done.stdout.strip()
    with Client.from_settings(settings_for(tmp_path, sqlite_url)) as client:
        assert len(client.runs.metric_history(run_id, "loss")) == 20_000
        assert client.runs.get(run_id).status == "finished"
