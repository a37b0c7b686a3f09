"""Every command's help works, and the help says only what exists."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from slipway.cli.main import COMMANDS, SUMMARIES, cli


def _walk(command: click.Command, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    found = [path]
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{' '.join(path)} lists {name!r} but has no such command"
            found += _walk(sub, (*path, name))
    return found


def _every_command() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name in sorted(COMMANDS):
        command = cli.get_command(click.Context(cli), name)
        assert command is not None
        found += _walk(command, (name,))
    return found


@pytest.mark.parametrize("path", _every_command(), ids=" ".join)
def test_every_command_shows_its_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: cli {' '.join(path)}" in result.output
    assert result.output.count("\n") > 2  # more than the usage line: it says what it does


def test_the_summaries_name_only_subcommands_that_exist() -> None:
    for name, summary in SUMMARIES.items():
        command = cli.get_command(click.Context(cli), name)
        if not isinstance(command, click.Group) or ":" not in summary:
            continue
        # "Version datasets: add, status, checkout, ..." names verbs of the group.
        verbs = re.split(r",\s*", summary.partition(":")[2].strip(" ."))
        existing = set(command.list_commands(click.Context(command)))
        assert set(verbs) <= existing, f"{name}: {sorted(set(verbs) - existing)} do not exist"


def test_the_top_level_help_names_only_what_slipway_does() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert sorted(COMMANDS) == sorted(SUMMARIES)
    for word in ("deploy", "monitor"):
        assert word not in result.output.lower()
