"""What the `slipway model` commands share: the --project option and the two ways in."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from slipway.cli._common import client

if TYPE_CHECKING:
    from slipway.client import ModelsClient
    from slipway.models import Models

PROJECT = click.option("--project", "-p", help="Project (default: $SLIPWAY_PROJECT or 'default').")


def registry(ctx: click.Context) -> ModelsClient:
    """The registry's records (versions, aliases, evaluations, approvals, promotions)."""
    return client(ctx).models


def models(ctx: click.Context) -> Models:
    """The model verbs that work on packages, data or the gates file, on the CLI's client."""
    from slipway.models import Models

    return Models(client(ctx))
