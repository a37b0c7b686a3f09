"""`slipway runs ...` as a user meets it, on runs a real training script logged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli.test_cli import slipway
from tests.conftest import clean_env

TRAIN = """
import sys
import slipway as sw

lr = float(sys.argv[sys.argv.index("--lr") + 1])
with sw.start_run(project="churn", name=f"lr-{lr}") as run:
    run.log_params({"lr": lr, "depth": 6})
    for step in range(3):
        run.log_metric("loss", 1.0 / (step + 1 + lr), step=step)
    run.log_metric("acc", 0.8 + lr)
print(run.id)
"""


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@x", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def train(workspace: Path, lr: str) -> str:
    result = subprocess.run(
        [sys.executable, "train.py", "--lr", lr],
        cwd=workspace,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_list_show_compare_delete_reproduce(workspace: Path) -> None:
    assert slipway("init", cwd=workspace).returncode == 0
    (workspace / "train.py").write_text(TRAIN)
    git("init", "-q", cwd=workspace)
    git("add", "train.py", cwd=workspace)
    git("commit", "-qm", "train", cwd=workspace)
    commit = git("rev-parse", "HEAD", cwd=workspace)
    first, second = train(workspace, "0.1"), train(workspace, "0.05")

    listing = slipway("runs", "list", "--project", "churn", cwd=workspace)
    assert listing.returncode == 0, listing.stderr
    assert first[:8] in listing.stdout and second[:8] in listing.stdout
    as_json = slipway("runs", "list", "-f", "metrics.acc > 0.87", "--json", cwd=workspace)
    assert [json.loads(line)["id"] for line in as_json.stdout.splitlines()] == [first]

    show = slipway("runs", "show", first[:6], cwd=workspace)
    assert "churn/lr-0.1" in show.stdout and "depth" in show.stdout
    assert "_slipway/requirements.txt" in show.stdout

    compare = slipway("runs", "compare", first, second, cwd=workspace)
    assert (
        "params.lr" in compare.stdout and "params.depth" not in compare.stdout
    )  # equal rows hidden

    plan = slipway("runs", "reproduce", first[:8], cwd=workspace)
    assert plan.returncode == 0, plan.stderr
    assert f"git checkout {commit}" in plan.stdout
    assert "train.py --lr 0.1" in plan.stdout

    assert slipway("runs", "delete", second, "--yes", cwd=workspace).returncode == 0
    after = slipway("runs", "list", cwd=workspace)
    assert second[:8] not in after.stdout and first[:8] in after.stdout


def test_bad_run_references_are_one_line_errors(workspace: Path) -> None:
    slipway("init", cwd=workspace)
    bad = slipway("runs", "show", "not-hex", cwd=workspace)
    assert bad.returncode == 2 and "is not a run id" in bad.stderr
    missing = slipway("runs", "show", "abcdef12", cwd=workspace)
    assert missing.returncode == 3 and "no run id starts with abcdef12" in missing.stderr
    syntax = slipway("runs", "list", "-f", "metrics.acc >", cwd=workspace)
    assert syntax.returncode == 2 and "position" in syntax.stderr
