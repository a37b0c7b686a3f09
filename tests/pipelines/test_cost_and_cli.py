"""`slipway cost report` and the pipeline commands, run as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slipway.cli.main import main
from slipway.client import Client, EmbeddedBackend
from slipway.config import load_settings
from slipway.context import Context
from slipway.errors import ConfigError
from tests.pipelines import flows
from tests.pipelines.conftest import ran

REPO = Path(__file__).resolve().parents[2]
PRICES = '[cost]\ncpu_hour = 36.0\nmemory_gib_hour = 3.6\ngpu_hour = 100.0\ncurrency = "EUR"\n'


@pytest.fixture
def workspace_client(workspace: Path, monkeypatch: pytest.MonkeyPatch):
    (workspace / ".slipway").mkdir()
    (workspace / ".slipway" / "slipway.toml").write_text(PRICES)
    monkeypatch.syspath_prepend(str(REPO))
    made = Client(EmbeddedBackend(Context.open(load_settings(workspace / ".slipway"))))
    yield made
    made.close()


def cli(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> str:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    assert done.value.code == code, out + err
    return out + err


def test_the_cost_report_prices_recorded_resources_with_the_settings_table(
    workspace_client: Client,
):
    run = flows.churn.run(client=workspace_client)
    cached = flows.churn.run(client=workspace_client)
    report = workspace_client.call("cost_report", project="default")

    assert report.currency == "EUR"
    assert report.prices == {"cpu_hour": 36.0, "memory_gib_hour": 3.6, "gpu_hour": 100.0}
    for line in report.steps:
        step = (run if line.pipeline_run_id == run.id else cached).steps[line.step]
        if step.cached:
            assert line.cost == 0
            continue
        hours = step.duration_s / 3600
        cpu = step.cpu_seconds / 3600 * 36.0
        memory = step.peak_memory_bytes / 2**30 * hours * 3.6
        assert line.cost == pytest.approx(cpu + memory, rel=1e-6)
    costs = {r.pipeline_run_id: r.cost for r in report.runs}
    assert costs[cached.id] == 0
    assert costs[run.id] == pytest.approx(sum(line.cost for line in report.steps))
    assert report.total == pytest.approx(costs[run.id]) and report.total > 0
    one = workspace_client.call("cost_report", project="default", run_id=cached.id)
    assert [line.step for line in one.steps] == list(cached.steps)


def test_a_declared_gpu_is_charged_for_the_steps_duration(workspace_client: Client):
    from slipway import pipeline, step

    @step(resources={"gpus": 2, "cpus": 1})
    def on_gpus() -> int:
        return 1

    @pipeline
    def gpu_job():
        on_gpus()

    run = gpu_job.run(client=workspace_client)
    line = workspace_client.call("cost_report", project="default", run_id=run.id).steps[0]
    assert line.gpu_hours == pytest.approx(2 * run.steps["on_gpus"].duration_s / 3600)
    assert run.steps["on_gpus"].resources == {"gpus": 2.0, "cpus": 1.0}


def test_a_bad_price_is_refused(workspace: Path):
    (workspace / ".slipway").mkdir()
    (workspace / ".slipway" / "slipway.toml").write_text("[cost]\ncpu_hour = -1\n")
    with pytest.raises(ConfigError, match=r"cost\.cpu_hour must be zero or more"):
        load_settings(workspace / ".slipway")


def test_the_cli_runs_shows_resumes_and_reports(
    workspace_client: Client, capsys: pytest.CaptureFixture[str], step_log: Path
):
    out = cli(capsys, "pipeline", "run", "tests.pipelines.flows:churn", "-p", "rows=300")
    assert "pipeline churn: 4 steps on local" in out
    assert "train: finished in" in out
    assert ran(step_log) == ["ingest", "featurize", "train", "evaluate"]
    out = cli(capsys, "pipeline", "run", "tests.pipelines.flows:churn", "-p", "rows=300")
    assert out.count(": cached") == 4
    assert "finished: 4 steps, 4 cached" in out
    assert ran(step_log) == []

    listed = cli(capsys, "pipeline", "runs", "--json").splitlines()
    runs = [json.loads(line) for line in listed]
    assert [r["status"] for r in runs] == ["finished", "finished"]
    assert runs[0]["params"] == {"rows": 300, "c": 1.0}
    shown = cli(capsys, "--debug", "pipeline", "show", runs[0]["id"])
    assert "status     finished" in shown and "hit" in shown
    as_json = json.loads(cli(capsys, "pipeline", "show", runs[1]["id"], "--json"))
    assert as_json["steps"]["train"]["upstream"] == ["featurize", "ingest"]

    out = cli(capsys, "cost", "report", "--run", runs[1]["id"])
    assert "EUR" in out and "total" in out
    report = json.loads(cli(capsys, "cost", "report", "--json"))
    assert len(report["runs"]) == 2

    out = cli(capsys, "pipeline", "run", "tests.pipelines.flows:partly_broken", code=1)
    assert "broken: failed" in out and "ValueError: cannot use 1" in out
    failed = json.loads(cli(capsys, "pipeline", "runs", "--json").splitlines()[0])
    out = cli(capsys, "pipeline", "resume", failed["id"], code=1)
    assert "independent: finished before, kept" in out


def test_the_cli_refuses_bad_input_clearly(
    workspace_client: Client, capsys: pytest.CaptureFixture[str]
):
    out = cli(capsys, "pipeline", "run", "no_such_module:flow", code=2)
    assert "cannot import 'no_such_module'" in out
    out = cli(capsys, "pipeline", "run", "tests.pipelines.flows", code=2)
    assert "must read module:pipeline" in out
    out = cli(capsys, "pipeline", "run", "tests.pipelines.flows:ingest", code=2)
    assert "not a @pipeline function" in out
    out = cli(capsys, "pipeline", "run", "tests.pipelines.flows:churn", "-p", "rows", code=2)
    assert "must read NAME=VALUE" in out
    out = cli(capsys, "pipeline", "run", "tests.pipelines.flows:churn", "-p", "trees=3", code=2)
    assert "has no parameter(s) ['trees']" in out
    out = cli(capsys, "pipeline", "show", "f" * 32, code=3)
    assert "does not exist" in out


def test_the_schedule_commands(workspace_client: Client, capsys: pytest.CaptureFixture[str]):
    out = cli(
        capsys,
        "schedule",
        "add",
        "tests.pipelines.flows:churn",
        "--cron",
        "0 3 * * *",
        "--param",
        "c=0.5",
    )
    assert "scheduled churn: tests.pipelines.flows:churn at '0 3 * * *'" in out
    assert "03:00:00 UTC" in out
    out = cli(capsys, "schedule", "add", "tests.pipelines.flows:churn", "--cron", "0 3 * *", code=2)
    assert "five fields" in out
    out = cli(capsys, "schedule", "list")
    assert "churn" in out and "c=0.5" in out and "active" in out
    assert "paused schedule churn" in cli(capsys, "schedule", "pause", "churn")
    assert "paused" in cli(capsys, "schedule", "list")
    assert "resumed schedule churn" in cli(capsys, "schedule", "resume", "churn")
    assert "removed schedule churn" in cli(capsys, "schedule", "remove", "churn")
    assert "does not exist" in cli(capsys, "schedule", "remove", "churn", code=3)


def test_a_cached_run_from_a_fresh_cli_process_is_recorded_with_every_step_cached(
    workspace: Path, sqlite_url: str, tmp_path: Path
):
    import subprocess

    from tests.conftest import SLIPWAY, clean_env

    log = tmp_path / "steps.log"
    env = clean_env(
        SLIPWAY_METADATA_URL=sqlite_url, SLIPWAY_TEST_STEP_LOG=str(log), PYTHONPATH=str(REPO)
    )
    command = [SLIPWAY, "pipeline", "run", "tests.pipelines.flows:churn", "-p", "rows=150"]
    first = subprocess.run(command, cwd=workspace, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "finished: 4 steps, 0 cached" in first.stdout
    second = subprocess.run(command, cwd=workspace, env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "finished: 4 steps, 4 cached" in second.stdout
    assert ran(log) == ["ingest", "featurize", "train", "evaluate"]  # the first run only
    with Client(
        EmbeddedBackend(
            Context.open(
                load_settings(
                    env={"SLIPWAY_METADATA_URL": sqlite_url}, workspace=workspace / ".slipway"
                )
            )
        )
    ) as client:
        runs = client.call("list_pipeline_runs", project="default").runs
    assert [sum(s.cached for s in r.steps.values()) for r in runs] == [4, 0]
    assert all(r.status == "finished" for r in runs)
