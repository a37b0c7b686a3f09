"""Reproduction plans: what a user is told to run to get a past run back."""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

from slipway.tracking import Capture, PackageChange, plan_reproduction

COMMIT = "0123456789abcdef0123456789abcdef01234567"
NOW = platform.python_version()


def run_tags(**overrides: str) -> dict[str, str]:
    tags = {
        "slipway.git.commit": COMMIT,
        "slipway.git.branch": "main",
        "slipway.git.dirty": "false",
        "slipway.git.remote": "https://example.com/org/repo.git",
        "slipway.source.entry_point": "src/train.py",
        "slipway.source.working_dir": "src",
        "slipway.source.argv": json.dumps(["train.py", "--lr", "0.1", "--name", "my run"]),
        "slipway.python.version": NOW,
    }
    tags.update(overrides)
    return tags


def test_plan_lists_exactly_the_package_changes() -> None:
    then = "numpy==1.26.4\npandas==2.2.0\nscikit-learn==1.4.0\n"
    now = "numpy==1.26.4\npandas==2.2.2\nrich==13.7.0\n"

    plan = plan_reproduction(run_tags(), then, now)

    assert plan.changed == (PackageChange("pandas", "2.2.0", "2.2.2"),)
    assert plan.removed == (PackageChange("scikit-learn", "1.4.0", None),)
    assert plan.added == (PackageChange("rich", None, "13.7.0"),)
    assert plan.pins == ("scikit-learn==1.4.0", "pandas==2.2.0")
    assert plan.warnings == ()


def test_rendered_plan_has_clone_checkout_install_and_command() -> None:
    plan = plan_reproduction(run_tags(), "pandas==2.2.0\n", "pandas==2.2.2\nrich==13.7.0\n")

    text = plan.render()

    assert "git clone https://example.com/org/repo.git\n     cd repo\n" in text
    assert f"git checkout {COMMIT}" in text
    assert "pip install scikit-learn" not in text
    assert "pip install pandas==2.2.0" in text
    assert "rich" in text  # installed here but not in the run
    assert "cd src" in text
    assert "python train.py --lr 0.1 --name 'my run'" in text
    assert text.index("git checkout") < text.index("pip install") < text.index("python train.py")


def test_package_names_are_compared_normalised() -> None:
    plan = plan_reproduction(run_tags(), "Scikit_Learn==1.4.0\n", "scikit-learn==1.4.0\n")

    assert (plan.added, plan.removed, plan.changed) == ((), (), ())
    assert "matches the run" in plan.render()


def test_many_differences_point_to_a_requirements_file() -> None:
    then = "".join(f"pkg{i}==1.0\n" for i in range(30))

    text = plan_reproduction(run_tags(), then, "").render()

    assert "pip install -r requirements.txt" in text
    assert "pkg7==1.0" not in text


def test_run_made_outside_git_gets_a_clear_line_not_an_error() -> None:
    tags = {
        "slipway.source.entry_point": "/home/me/run.py",
        "slipway.source.argv": json.dumps(["run.py"]),
        "slipway.python.version": NOW,
    }

    plan = plan_reproduction(tags, None, "rich==13.7.0\n")
    text = plan.render()

    assert plan.commit is None
    assert "not made in a git work tree" in text
    assert "git checkout" not in text
    assert "package list was not recorded" in text
    assert "python /home/me/run.py" in text


def test_no_tags_at_all_still_renders() -> None:
    plan = plan_reproduction({}, None, "")

    text = plan.render()

    assert plan.command is None
    assert "entry point was not recorded" in text
    assert "version was not recorded" in text


def test_uncommitted_changes_are_warned_about() -> None:
    plan = plan_reproduction(run_tags(**{"slipway.git.dirty": "true"}), None, "")

    assert plan.dirty is True
    assert any("uncommitted changes" in warning for warning in plan.warnings)
    assert "uncommitted changes" in plan.render()


def test_other_python_version_is_warned_about() -> None:
    plan = plan_reproduction(run_tags(**{"slipway.python.version": "2.7.18"}), None, "")

    assert plan.python_then == "2.7.18" and plan.python_now == NOW
    assert "Use Python 2.7.18" in plan.render()
    assert any("2.7.18" in warning for warning in plan.warnings)


def test_truncated_argv_gives_no_command_and_a_warning() -> None:
    tags = run_tags(**{"slipway.source.argv": '["train.py", "--data", "aaaa'})

    plan = plan_reproduction(tags, None, "")

    assert plan.command is None
    assert any("arguments were not recorded" in w for w in plan.warnings)


@pytest.mark.parametrize(
    ("entry", "argv", "command", "said"),
    [
        ("-m trainer.cli", ["/x/trainer/cli.py", "fit"], "python -m trainer.cli fit", None),
        ("-c", ["-c", "1"], None, "python -c"),
        ("<stdin>", [""], None, "standard input"),
        ("src/explore.ipynb", ["launcher.py"], None, "notebook src/explore.ipynb"),
        ("<notebook>", ["launcher.py"], None, "interactive session"),
    ],
)
def test_entry_point_kinds(entry: str, argv: list[str], command: str | None, said: str) -> None:
    tags = run_tags(
        **{"slipway.source.entry_point": entry, "slipway.source.argv": json.dumps(argv)}
    )

    plan = plan_reproduction(tags, None, "")

    assert plan.command == command
    assert (said or command or "") in plan.render()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_plan_from_a_real_capture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    repo = tmp_path / "repo"
    (repo / "jobs").mkdir(parents=True)
    (repo / "jobs" / "fit.py").write_text("print('fit')\n")
    ident = ["-c", "user.name=T", "-c", "user.email=t@example.com"]
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "x"]):
        subprocess.run(["git", *ident, *args], cwd=repo, check=True, capture_output=True)

    tags = Capture().source(repo / "jobs", ["fit.py", "--epochs", "3"]).as_tags()
    plan = plan_reproduction(tags, "slipway==0.0.9\n", "slipway==0.1.0\n")
    text = plan.render()

    assert plan.commit == tags["slipway.git.commit"]
    assert plan.command == "python fit.py --epochs 3"
    assert "cd jobs" in text and "pip install slipway==0.0.9" in text
    assert "no `origin` remote was recorded" in text
