"""Helpers shared by commands: settings from flags, the client, rich output."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

    from slipway.client import Client
    from slipway.config import Settings
    from slipway.data import Data


def settings(ctx: click.Context, **overrides: Any) -> Settings:
    from slipway.config import load_settings

    workspace = ctx.find_root().obj.get("workspace")
    keys = {
        "server_url": ("server", "url"),
        "server_host": ("server", "host"),
        "server_port": ("server", "port"),
    }
    return load_settings(
        Path(workspace).absolute() if workspace else None,
        overrides={keys[k]: v for k, v in overrides.items()},
    )


def client(ctx: click.Context) -> Client:
    from slipway.client import Client

    made = Client.from_settings(settings(ctx))
    ctx.call_on_close(made.close)
    return made


def data_of(ctx: click.Context) -> Data:
    """Data versioning for this workspace; it connects to the stores only when it must."""
    from slipway.cli._progress import TerminalProgress
    from slipway.data import Data

    made = Data(settings=settings(ctx), progress=TerminalProgress())
    ctx.call_on_close(made.close)
    return made


def size(n: int) -> str:
    """A byte count for people: 512 B, 3.4 MiB."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def console() -> Console:
    from rich.console import Console

    return Console()


def stamp(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""
