"""`slipway data remote add|list|remove`, `data push` and `data pull`: a data remote is an
object store at an fsspec URL that workspaces copy versions' objects to and from."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from slipway.cli._common import data_of, settings
from slipway.cli._progress import TransferProgress

if TYPE_CHECKING:
    from slipway.objects import TransferReport
    from slipway.workspace import CheckoutResult


@click.group()
def remote() -> None:
    """Remotes (fsspec URLs) that `data push` and `data pull` copy objects to and from."""


@remote.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--default", "make_default", is_flag=True, help="Make it the default remote.")
@click.option(
    "--option",
    "-o",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="An fsspec option, e.g. endpoint_url=http://127.0.0.1:9000 (JSON values allowed).",
)
@click.pass_context
def remote_add(
    ctx: click.Context, name: str, url: str, make_default: bool, options: tuple[str, ...]
) -> None:
    """Add remote NAME at URL (s3://bucket/prefix, file:///folder, ...) to slipway.toml.

    The first remote added becomes the default. slipway.toml is meant to be committed: pass
    credentials through the environment (AWS_ACCESS_KEY_ID, a profile) rather than options.
    """
    from slipway.config import mask_url, write_remote
    from slipway.objects import check_remote_url

    config = settings(ctx)
    check_remote_url(url.strip())
    made_default = write_remote(
        config.workspace, name, url, _parse_options(options), default=make_default
    )
    click.echo(
        f"added remote {name}: {mask_url(url.strip())}{' (default)' if made_default else ''}"
    )


@remote.command("list")
@click.pass_context
def remote_list(ctx: click.Context) -> None:
    """The configured remotes, secrets masked."""
    from slipway.errors import ConfigError

    config = settings(ctx)
    if not config.remotes:
        click.echo("no remotes; `slipway data remote add NAME URL` adds one")
        return
    try:
        default: str | None = config.data_remote().name
    except ConfigError:
        default = None
    for name, found in sorted(config.remotes.items()):
        click.echo(f"{name}\t{found.describe()}{'  (default)' if name == default else ''}")


@remote.command("remove")
@click.argument("name")
@click.pass_context
def remote_remove(ctx: click.Context, name: str) -> None:
    """Remove remote NAME from slipway.toml (the data in it stays where it is)."""
    from slipway.config import delete_remote

    delete_remote(settings(ctx).workspace, name)
    click.echo(f"removed remote {name}")


def _parse_options(options: tuple[str, ...]) -> dict[str, object]:
    import json

    from slipway.errors import InvalidInput

    parsed: dict[str, object] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"--option {option!r} must read KEY=VALUE")
        try:
            parsed[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            parsed[key.strip()] = value
    return parsed


@click.command()
@click.argument("targets", nargs=-1)
@click.option("--remote", "-r", "remote_name", help="Remote name (default: [data] remote).")
@click.option("--project", "-p", help="Project of NAME@vN targets (default: $SLIPWAY_PROJECT).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=8, help="Parallel transfers.")
@click.pass_context
def push(
    ctx: click.Context,
    targets: tuple[str, ...],
    remote_name: str | None,
    project: str | None,
    jobs: int,
) -> None:
    """Copy what versions need to a remote: TARGETS are paths or NAME@vN (default: every
    pointer in the workspace)."""
    with TransferProgress("push") as progress:
        result = data_of(ctx).push(
            targets,
            remote=remote_name,
            project=project,
            workers=jobs,
            progress=progress,
        )
    if not result.versions:
        click.echo("nothing to push: no tracked data here; `slipway data add PATH` starts")
        return
    click.echo(f"pushed {_transferred(result.report, f'to {result.remote}')}")


@click.command()
@click.argument("targets", nargs=-1)
@click.option("--remote", "-r", "remote_name", help="Remote name (default: [data] remote).")
@click.option("--project", "-p", help="Project of NAME@vN targets (default: $SLIPWAY_PROJECT).")
@click.option("--force", is_flag=True, help="Discard changes that are not in any version.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=8, help="Parallel transfers.")
@click.pass_context
def pull(
    ctx: click.Context,
    targets: tuple[str, ...],
    remote_name: str | None,
    project: str | None,
    force: bool,
    jobs: int,
) -> None:
    """Fetch what versions need from a remote, then check out their pointers: TARGETS are
    paths (default: every pointer in the workspace) or NAME@vN (fetched, not checked out)."""
    with TransferProgress("pull") as progress:
        result = data_of(ctx).pull(
            targets,
            remote=remote_name,
            project=project,
            force=force,
            workers=jobs,
            progress=progress,
        )
    if not result.versions:
        click.echo("nothing to pull: no pointer files (PATH.slipway) here")
        return
    click.echo(f"pulled {_transferred(result.report, f'from {result.remote}')}")
    print_checkouts(result.checkouts)


def print_checkouts(results: list[CheckoutResult]) -> None:
    for result in results:
        what = (
            "up to date"
            if not (result.written or result.deleted)
            else f"{result.written} written, {result.deleted} removed"
        )
        click.echo(f"{result.path}: {result.ref} ({what})")


def _transferred(report: TransferReport, where: str) -> str:
    """'5 objects (2.9 MiB) in 1 packs to origin (3 were there already)'."""
    text = f"{report.objects} objects ({report.bytes / 2**20:.1f} MiB) in {report.packs} packs"
    return f"{text} {where}" + (f" ({report.present} were there already)" if report.present else "")
