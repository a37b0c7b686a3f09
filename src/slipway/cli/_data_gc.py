"""`slipway data gc`: remove objects nothing needs from the object store."""

from __future__ import annotations

import click

from slipway.cli._common import client, size


@click.command()
@click.option(
    "--dry-run/--force",
    "dry_run",
    default=True,
    help="Only report what would go (the default), or remove it.",
)
@click.option(
    "--grace",
    default="1h",
    show_default=True,
    help="Keep unreferenced objects younger than this (e.g. 0, 90s, 30m, 1h, 2d): a client "
    "may have stored them and not yet recorded the version that names them.",
)
@click.pass_context
def gc(ctx: click.Context, dry_run: bool, grace: str) -> None:
    """Remove objects no dataset version or run artifact needs from the object store."""
    found = client(ctx).objects.collect_garbage(dry_run=dry_run, grace_s=seconds(grace))
    verb = "would remove" if found.dry_run else "removed"
    click.echo(f"{verb} {found.objects} objects, {size(found.bytes)}:")
    click.echo(f"  loose objects: {found.loose} ({size(found.loose_bytes)})")
    click.echo(
        f"  packs: {found.packs} with {found.pack_objects} objects ({size(found.pack_bytes)})"
    )
    click.echo(
        f"  repacked: {found.repacked} packs, dropping {found.repacked_objects} objects "
        f"({size(found.repacked_bytes)})"
        + (f" into {found.new_packs} new packs" if not found.dry_run else "")
    )
    click.echo(
        f"  packs without an index: {found.orphans} ({size(found.orphan_bytes)}); "
        f"temporaries: {found.temporaries} ({size(found.temporary_bytes)})"
    )
    click.echo(
        f"kept {found.live} referenced objects and {found.recent} unreferenced ones younger "
        f"than {grace}"
        + (f"; {found.missing} referenced objects are not in this store" if found.missing else "")
    )
    if found.dry_run:
        click.echo("dry run: nothing was removed; `slipway data gc --force` removes it")


def seconds(text: str) -> int:
    """'90', '90s', '30m', '1h', '2d' -> seconds."""
    from slipway.errors import InvalidInput

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    value = text.strip().lower()
    factor = units.get(value[-1:], 0)
    number = value[:-1] if factor else value
    try:
        seconds = int(float(number) * (factor or 1))
    except ValueError:
        seconds = -1
    if seconds < 0:
        raise InvalidInput(f"--grace {text!r} is not a duration; use e.g. 0, 90s, 30m, 1h or 2d")
    return seconds
