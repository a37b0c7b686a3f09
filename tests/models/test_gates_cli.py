"""`slipway check`, `slipway model promote|approve` and `slipway ci init github` as CI and
a user run them: exit codes, what they print, the JUnit XML and the workflow they write."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from slipway.client import Client
from slipway.config import load_settings
from slipway.models import Models
from slipway.services.registry.schemas import EvaluationCreate
from tests.data.conftest import Cli, cli_runner
from tests.models.test_gates import example, forest

GATES = """\
models:
  churn:
    evaluation_data: holdout@v1
    min_metrics: {accuracy: 0.8}
    max_regression: {accuracy: 0.0}
    max_latency_us: {single_row_p50_us: 5000}
  fraud:
    evaluation_data: holdout@v1
    min_metrics: {accuracy: 0.8}
    approvals: {required: 1}
"""


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    return cli_runner(capsys)


def scored(client: Client, name: str, accuracies: list[float]) -> None:
    """Versions 1..n of `name`, each with an evaluation on holdout@v1 (no scoring needed)."""
    for number, accuracy in enumerate(accuracies, start=1):
        Models(client).log_model(forest(2), name, input_example=example())
        body = EvaluationCreate(
            task="classification",
            data="holdout@v1",
            rows=100,
            metrics={"accuracy": accuracy},
            latency={"single_row_p50_us": 900.0},
        )
        client.call(
            "record_model_evaluation", project="default", name=name, version=number, body=body
        )


@pytest.fixture
def registry(workspace: Path) -> Path:
    """churn v1 (0.85, champion) and v2 (0.9); fraud v1 (0.7, unapproved)."""
    (workspace / "slipway.gates.yaml").write_text(GATES)
    client = Client.from_settings(load_settings(workspace / ".slipway"))
    scored(client, "churn", [0.85, 0.9])
    scored(client, "fraud", [0.7])
    client.models.set_alias("churn", 1, "champion")
    client.close()
    return workspace


def junit(path: Path) -> dict[str, tuple[int, int, int, list[str]]]:
    """suite -> (tests, failures, errors, failed test names), checked against its cases."""
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    found = {}
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        failed = [c.get("name", "") for c in cases if c.find("failure") is not None]
        errors = [c for c in cases if c.find("error") is not None]
        counts = (int(suite.get("tests", -1)), int(suite.get("failures", -1)))
        assert counts == (len(cases), len(failed))
        assert int(suite.get("errors", -1)) == len(errors)
        found[suite.get("name", "")] = (len(cases), len(failed), len(errors), failed)
    assert int(root.get("tests", -1)) == sum(t for t, _, _, _ in found.values())
    assert int(root.get("failures", -1)) == sum(f for _, f, _, _ in found.values())
    return found


def test_check_exits_1_on_a_failed_gate_and_writes_junit(registry: Path, cli: Cli) -> None:
    out, _ = cli("check", "--junit", "reports/gates.xml", code=1)
    assert "churn@v2 -> champion (held by churn@v1): PASS" in out
    assert "fraud@v1 -> champion (unset): FAIL, 2 of 3 rules failed" in out
    assert "FAIL min_metrics.accuracy: accuracy 0.7 is below the minimum 0.8" in out
    assert "1 of 2 models failed their gates: fraud" in out
    suites = junit(registry / "reports" / "gates.xml")
    assert suites["churn"] == (4, 0, 0, [])
    assert suites["fraud"] == (3, 2, 0, ["min_metrics.accuracy", "approvals.required"])
    out, _ = cli("check", "--model", "churn", "--junit", "ok.xml")
    assert "all 1 models pass their gates" in out
    assert junit(registry / "ok.xml") == {"churn": (4, 0, 0, [])}
    out, _ = cli("check", "--model", "churn", "--candidate", "churn@v1")
    assert "churn@v1 -> champion (held by churn@v1): PASS" in out
    # Nothing moved.
    client = Client.from_settings(load_settings(registry / ".slipway"))
    assert client.models.get_version("churn@champion").version == 1
    client.close()


def test_check_refuses_bad_input_with_exit_2(registry: Path, cli: Cli) -> None:
    _, err = cli("check", "--model", "ghost", code=2)
    assert "no gates for ghost" in err
    _, err = cli("check", "--candidate", "ghost@v1", code=2)
    assert "ghost" in err
    bad = registry / "bad.yaml"
    bad.write_text("models:\n  churn:\n    evaluation_data: h@v1\n    min_metrics: {f1: 1}\n")
    _, err = cli("check", "--gates", str(bad), code=2)
    assert "bad.yaml:4: models.churn.min_metrics.f1: unknown metric 'f1'" in err
    _, err = cli("check", "--gates", "nowhere.yaml", code=2)
    assert "nowhere.yaml: no such gates file" in err


def test_a_model_without_versions_fails_the_check_as_an_error(registry: Path, cli: Cli) -> None:
    (registry / "g.yaml").write_text(GATES.replace("fraud:", "ghost:"))
    out, _ = cli("check", "--gates", "g.yaml", "--junit", "g.xml", code=1)
    assert "ERROR ghost" in out and "does not exist" in out
    assert junit(registry / "g.xml")["ghost"] == (1, 0, 1, [])


def test_promote_and_approve_from_the_command_line(registry: Path, cli: Cli) -> None:
    out, _ = cli("model", "promote", "fraud", "1", "--to", "champion", code=1)
    assert "REFUSED" in out and "approvals.required" in out
    _, err = cli("model", "promote", "fraud", "1", "--force", code=2)
    assert "force needs a reason" in err
    out, _ = cli("model", "approve", "fraud", "1", "--note", "checked the slices")
    assert "fraud@v1 approved by" in out
    out, _ = cli("model", "approve", "fraud", "1")
    assert "already approved it" in out
    out, _ = cli("model", "approvals", "fraud@v1")
    assert "checked the slices" in out
    out, _ = cli("model", "promote", "churn", "2", "--to", "champion")
    assert "PROMOTED, all 4 rules passed" in out and "max_regression.accuracy" in out
    out, _ = cli("model", "promote", "fraud", "1", "--force", "--reason", "pilot, INC-7")
    assert "FORCED" in out and "pilot, INC-7" in out
    out, _ = cli("model", "promotions", "fraud@v1")
    assert "FORCED" in out and "reason: pilot, INC-7" in out
    out, _ = cli("model", "history", "churn")
    assert "promoted through gates" in out


def test_ci_init_github_writes_a_workflow_once(workspace: Path, cli: Cli) -> None:
    (workspace / ".git").mkdir()
    (workspace / "requirements.txt").write_text("slipway[sklearn]\n")
    (workspace / "sub").mkdir()
    out, _ = cli("ci", "init", "github")
    target = workspace / ".github" / "workflows" / "slipway.yml"
    assert str(target) in out and "SLIPWAY_SERVER" in out
    workflow = yaml.safe_load(target.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) >= {"pull_request", "push"}
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert uses[0].startswith("actions/checkout@") and uses[1].startswith("actions/setup-python@")
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "pip install -r requirements.txt" in runs and "pip install slipway\n" not in runs
    assert "slipway check --junit slipway-gates.xml" in runs
    (upload,) = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["with"]["path"] == "slipway-gates.xml" and upload["if"] == "always()"
    assert "vars.SLIPWAY_SERVER" in job["env"]["SLIPWAY_SERVER"]
    target.write_text("mine")
    _, err = cli("ci", "init", "github", code=2)
    assert "pass --force" in err and target.read_text() == "mine"
    cli("ci", "init", "github", "--force")
    assert "slipway check" in target.read_text()
    cli("ci", "init", "github", "--path", "ci/gates.yml")
    assert yaml.safe_load((workspace / "ci" / "gates.yml").read_text())["name"] == "slipway gates"
