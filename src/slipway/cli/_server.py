"""`slipway server` and `slipway db`."""

from __future__ import annotations

import click

from slipway.cli._common import settings


@click.command()
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1, from settings).")
@click.option("--port", default=None, type=int, help="Port to bind (default 8080, from settings).")
@click.option(
    "--log-level", default="info", type=click.Choice(["debug", "info", "warning", "error"])
)
@click.pass_context
def server(ctx: click.Context, host: str | None, port: int | None, log_level: str) -> None:
    """Serve the REST API (OpenAPI at /openapi.json, health at /healthz)."""
    import uvicorn

    from slipway.api import create_app

    config = settings(ctx, server_host=host, server_port=port, server_url="")
    # Built before binding, so an unreachable or outdated store stops the server with its message.
    app = create_app(config)
    click.echo(f"Slipway API on http://{config.server_host}:{config.server_port}", err=True)
    uvicorn.run(app, host=config.server_host, port=config.server_port, log_level=log_level)


@click.group()
def db() -> None:
    """Metadata database schema: current, upgrade."""


@db.command()
@click.pass_context
def current(ctx: click.Context) -> None:
    """Show the schema revision of the database and the one this Slipway needs."""
    from slipway.context import schema_revisions

    revision, head = schema_revisions(settings(ctx))
    state = "up to date" if revision == head else "needs `slipway db upgrade`"
    click.echo(f"database: {revision or '(empty)'}  this Slipway: {head}  ({state})")


@db.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Upgrade the metadata database to the schema this Slipway needs."""
    from slipway.context import upgrade_schema

    before, after = upgrade_schema(settings(ctx))
    if before == after:
        click.echo(f"database already at revision {after}")
    else:
        click.echo(f"upgraded database from {before or '(empty)'} to {after}")
