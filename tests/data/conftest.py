"""Shared by the data tests: run the CLI in this process as a user would."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from slipway.cli.main import main

Cli = Callable[..., tuple[str, str]]


def cli_runner(capsys: pytest.CaptureFixture[str]) -> Cli:
    """`run("data", "add", "x", code=0)`: runs `slipway ARGS`, checks its exit code, returns
    (stdout, stderr)."""

    def run(*args: str, code: int = 0) -> tuple[str, str]:
        with pytest.raises(SystemExit) as done:
            main(list(args))
        out, err = capsys.readouterr()
        assert done.value.code == code, (out, err)
        return out, err

    return run
