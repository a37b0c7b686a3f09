"""`slipway ci init github`: a CI workflow that checks the promotion gates on every change."""

from __future__ import annotations

import sys
from pathlib import Path

import click

DEFAULT_PATH = Path(".github") / "workflows" / "slipway.yml"
REPORT = "slipway-gates.xml"

# `vars.SLIPWAY_SERVER`: the registry CI checks against, set under the repository's
# Settings > Secrets and variables > Actions; CI has no workspace of its own to check.
_WORKFLOW = """\
# Checks every model's promotion gates (slipway.gates.yaml) against the Slipway registry.
# Written by `slipway ci init github`; edit freely.
name: slipway gates

on:
  pull_request:
  push:
    branches: [main]
  workflow_dispatch:

jobs:
  gates:
    runs-on: ubuntu-latest
    env:
      SLIPWAY_SERVER: ${{{{ vars.SLIPWAY_SERVER }}}}
      SLIPWAY_PROJECT: ${{{{ vars.SLIPWAY_PROJECT }}}}
    steps:
      - name: Check out
        uses: actions/checkout@v4
      - name: Set up Python
        uses: actions/setup-python@v5
        with:
          python-version: "{python}"
      - name: Install
        run: |
          python -m pip install --upgrade pip
{install}
      - name: Check promotion gates
        run: slipway check --junit {report}
      - name: Upload the gate report
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: slipway-gates
          path: {report}
          if-no-files-found: warn
"""


@click.group()
def ci() -> None:
    """Continuous integration: workflows that run `slipway check`."""


@ci.command()
@click.argument("provider", type=click.Choice(["github"]))
@click.option(
    "--path",
    type=click.Path(dir_okay=False),
    help=f"Where to write it (default: {DEFAULT_PATH} in the repository's root).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(provider: str, path: str | None, force: bool) -> None:
    """Write a workflow that installs the project, runs `slipway check --junit` and keeps
    the JUnit report as an artifact."""
    root = _repository_root(Path.cwd())
    target = Path(path) if path else root / DEFAULT_PATH
    if target.exists() and not force:
        raise click.UsageError(f"{target} exists; pass --force to overwrite it")
    text = _WORKFLOW.format(
        python=f"{sys.version_info.major}.{sys.version_info.minor}",
        install="\n".join(f"          {line}" for line in _install_lines(root)),
        report=REPORT,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    click.echo(f"wrote {target}")
    if not (root / "slipway.gates.yaml").exists():
        click.echo("next: write slipway.gates.yaml (one section per model under `models:`)")
    click.echo("set the repository variable SLIPWAY_SERVER to your registry's URL")


def _repository_root(start: Path) -> Path:
    """The nearest folder up from `start` holding .git, else `start`."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def _install_lines(root: Path) -> list[str]:
    """Install what the repository declares, and Slipway unless it already depends on it."""
    lines = []
    declared = ""
    if (root / "pyproject.toml").is_file() or (root / "setup.py").is_file():
        lines.append("pip install -e .")
        declared += _read(root / "pyproject.toml") + _read(root / "setup.py")
    if (root / "requirements.txt").is_file():
        lines.append("pip install -r requirements.txt")
        declared += _read(root / "requirements.txt")
    if "slipway" not in declared.lower():
        lines.append("pip install slipway")
    return lines


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
