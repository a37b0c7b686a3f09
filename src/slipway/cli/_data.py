"""`slipway data ...`: add, status and checkout here; the versions' commands (log, list,
show, diff) in `_data_versions`, remotes, push and pull in `_data_remote`, gc in `_data_gc`."""

from __future__ import annotations

import click

from slipway.cli._common import data_of, size
from slipway.cli._data_gc import gc
from slipway.cli._data_remote import print_checkouts, pull, push, remote
from slipway.cli._data_versions import diff, list_, log, pii_lines, show

SHOWN_PATHS = 10  # per kind of change in `status`; the rest are counted


@click.group()
def data() -> None:
    """Version datasets: add, status, checkout, log, list, show, diff, push, pull, gc, remotes."""


@data.command()
@click.argument("path", type=click.Path())
@click.option("--name", "-n", help="Dataset name (default: the file or folder name).")
@click.option("--message", "-m", default="", help="What changed in this version.")
@click.option("--project", "-p", help="Project (default: $SLIPWAY_PROJECT or 'default').")
@click.pass_context
def add(ctx: click.Context, path: str, name: str | None, message: str, project: str | None) -> None:
    """Version a file or folder: store it, write PATH.slipway, list PATH in .gitignore."""
    result = data_of(ctx).add(path, name=name, message=message, project=project)
    version = result.version
    note = "" if version.created else "  (unchanged: no new version)"
    click.echo(f"{result.ref} {version.object_hash}{note}")
    if version.created:
        click.echo(
            f"  {version.file_count} files, {size(version.size)}; hashed {result.hashed}, "
            f"stored {result.stored} new objects; pointer {result.pointer.name}",
            err=True,
        )
    lines = pii_lines(version)
    if lines:
        click.echo("possible personal data:", err=True)
        for line in lines:
            click.echo(line, err=True)


@data.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.pass_context
def status(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Which tracked paths changed since their pointer (all of them by default)."""
    found = data_of(ctx).status(paths)
    if not found:
        click.echo("no tracked data here; `slipway data add PATH` starts")
        return
    changed = 0
    for item in found:
        if item.state == "unchanged":
            click.echo(f"{item.path}: up to date ({item.ref})")
            continue
        changed += 1
        click.echo(f"{item.path}: {item.state} (pointer: {item.ref})")
        for label, names in (
            ("added", item.added),
            ("removed", item.removed),
            ("modified", item.modified),
        ):
            for name in names[:SHOWN_PATHS]:
                click.echo(f"    {label}: {name}")
            if len(names) > SHOWN_PATHS:
                click.echo(f"    ... and {len(names) - SHOWN_PATHS} more {label}")
    ctx.exit(1 if changed else 0)


@data.command()
@click.argument("target", required=False)
@click.option("--force", is_flag=True, help="Discard changes that are not in any version.")
@click.pass_context
def checkout(ctx: click.Context, target: str | None, force: bool) -> None:
    """Restore tracked paths from their pointers, or move one to NAME@vN."""
    api = data_of(ctx)
    if target is not None and ("@" in target or not _looks_like_path(target)):
        results = api.checkout(target, force=force)
    else:
        results = api.checkout(paths=[target] if target else (), force=force)
    print_checkouts(results)


def _looks_like_path(target: str) -> bool:
    from pathlib import Path

    return Path(target).exists() or Path(target + ".slipway").exists()


for command in (log, list_, show, diff, remote, push, pull, gc):
    data.add_command(command)
