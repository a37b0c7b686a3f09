"""`slipway init` and `slipway doctor`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from slipway.cli._common import console, settings

if TYPE_CHECKING:
    from slipway.config import Settings


@click.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@click.pass_context
def init(ctx: click.Context, folder: str | None) -> None:
    """Create a workspace (.slipway/) in FOLDER (default: here) with the embedded defaults."""
    import tomli_w

    from slipway.config import CONFIG_FILENAME, WORKSPACE_DIRNAME, default_config, load_settings
    from slipway.context import Context

    explicit = ctx.find_root().obj.get("workspace")
    workspace = Path(explicit) if explicit else Path(folder or ".") / WORKSPACE_DIRNAME
    workspace = workspace.absolute()
    config = workspace / CONFIG_FILENAME
    created = not config.exists()
    if created:
        workspace.mkdir(parents=True, exist_ok=True)
        text = tomli_w.dumps(default_config(workspace))
        tmp = config.with_suffix(".tmp")
        tmp.write_text("# Slipway workspace settings; SLIPWAY_* variables override them.\n" + text)
        tmp.replace(config)
        (workspace / ".gitignore").write_text(
            "# Stores live here; commit only slipway.toml.\n*\n!slipway.toml\n!.gitignore\n"
        )
    resolved = load_settings(workspace)
    Context.open(resolved).close()  # creates the database at the current schema and the store
    verb = "Initialized" if created else "Already initialized:"
    click.echo(f"{verb} Slipway workspace in {workspace}")
    click.echo(f"  metadata: {resolved.describe()['metadata.url']}")
    click.echo(f"  objects:  {resolved.describe()['objects.url']}")


@click.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check that the metadata and object stores are reachable; show settings, secrets masked."""
    from rich.table import Table

    from slipway.errors import SlipwayError

    config = settings(ctx)
    out = console()
    table = Table(title="Settings", show_header=False)
    for key, value in config.describe().items():
        table.add_row(key, value)
    out.print(table)

    failures = 0
    for label, check in _checks(config):
        try:
            info = check()
        except SlipwayError as exc:
            failures += 1
            out.print(f"[red]✗[/red] {label}: {exc.detail}")
        else:
            out.print(f"[green]✓[/green] {label}: {info}")
    if failures:
        raise click.exceptions.Exit(1)


def _checks(config: Settings) -> list[tuple[str, Callable[[], str]]]:
    def metadata() -> str:
        from slipway.context import describe_metadata_store

        return describe_metadata_store(config)

    def objects() -> str:
        from slipway.objects import ObjectStore

        store = ObjectStore.from_url(config.objects_url, config.objects_options)
        store.ping()
        return f"reachable and writable ({store.url})"

    def server() -> str:
        import httpx

        from slipway.errors import Unavailable

        assert config.server_url
        try:
            health = httpx.get(config.server_url.rstrip("/") + "/healthz", timeout=5).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise Unavailable(f"cannot reach {config.server_url}: {exc}") from None
        version, schema = health.get("version"), health.get("schema")
        return f"{health.get('status')} (version {version}, schema {schema})"

    if config.server_url:
        return [("server", server)]
    return [("metadata store", metadata), ("object store", objects)]
