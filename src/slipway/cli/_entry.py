"""The `slipway` console script of installs made before it pointed at `slipway.cli.main`."""

from slipway.cli.main import main

__all__ = ["main"]
