"""The `slipway` console script: process-wide start-up tuning, then the click command line.

Kept apart from `slipway.cli.main` so that what runs before click is imported stays small:
a command that will need the metadata store starts opening it in a forked helper first.
"""

from __future__ import annotations

import gc
import sys


def main() -> None:
    # A command imports thousands of classes in its first fraction of a second; the default
    # thresholds run the cycle collector hundreds of times over them (~20% of start-up).
    # Collections still happen, just less often.
    gc.set_threshold(100_000, 50, 100)
    try:
        _prefork(sys.argv[1:])
        from slipway.cli.main import main as command_line

        command_line()
    finally:
        # What is alive at exit needs no last collection pass: the process is ending.
        gc.freeze()


def _prefork(args: list[str]) -> None:
    """`slipway pipeline run ...` in the default workspace: fork the metadata helper before
    click and the command's modules are imported (~40 ms sooner); the command adopts it."""
    if args[:2] != ["pipeline", "run"] or any(a.startswith("-") for a in args[2:3]):
        return
    if any(a in ("--help", "-h", "--workspace") or a.startswith("--workspace=") for a in args):
        return
    from slipway.errors import SlipwayError
    from slipway.pipelines import _helper

    try:
        from slipway.config import load_settings

        _helper.prefork(load_settings())
    except SlipwayError:
        return  # no workspace or a bad setting: the command says so itself
