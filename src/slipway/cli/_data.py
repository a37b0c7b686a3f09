"""`slipway data ...`: add, status, checkout, log, list, show (profile)."""

from __future__ import annotations

import gc as collector  # `gc` below is the `data gc` command
from typing import TYPE_CHECKING

import click

from slipway.cli._common import console, datasets, stamp
from slipway.cli._progress import TransferProgress

if TYPE_CHECKING:
    from slipway.services.datasets.schemas import DatasetVersion

SHOWN_PATHS = 10  # per kind of change in `status`; the rest are counted
COLLECT_EVERY = 100_000  # allocations between young-generation collections (default 700)


def size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def pii_lines(version: DatasetVersion) -> list[str]:
    return [
        f"  {flag.table}: column {flag.column!r} looks like {flag.kind.replace('_', ' ')} "
        f"({flag.match_rate:.0%} of sampled values)"
        for flag in version.pii
    ]


@click.group()
def data() -> None:
    """Version datasets: add, status, checkout, log, list, show, diff, push, pull, gc, remotes."""
    # A data command builds one small object per file (entries, stats, pack slots): at the
    # default threshold, 50,000 files set off ~1,000 collections, 6 of them full scans of
    # every live object, a third of an `add`'s time. Such short-lived commands make no
    # cycles worth collecting early, so collect 100x less often.
    collector.set_threshold(COLLECT_EVERY, *collector.get_threshold()[1:])


@data.command()
@click.argument("path", type=click.Path())
@click.option("--name", "-n", help="Dataset name (default: the file or folder name).")
@click.option("--message", "-m", default="", help="What changed in this version.")
@click.option("--project", "-p", help="Project (default: $SLIPWAY_PROJECT or 'default').")
@click.pass_context
def add(ctx: click.Context, path: str, name: str | None, message: str, project: str | None) -> None:
    """Version a file or folder: store it, write PATH.slipway, list PATH in .gitignore."""
    result = datasets(ctx).add(path, name=name, message=message, project=project)
    version = result.recorded  # plain data: printing it needs no pydantic models
    note = "" if version["created"] else "  (unchanged: no new version)"
    click.echo(f"{result.ref} {version['object_hash']}{note}")
    if version["created"]:
        click.echo(
            f"  {version['file_count']} files, {size(version['size'])}; hashed {result.hashed}, "
            f"stored {result.stored} new objects; pointer {result.pointer.name}",
            err=True,
        )
    lines = pii_lines(result.version) if version["pii"] else []
    if lines:
        click.echo("possible personal data:", err=True)
        for line in lines:
            click.echo(line, err=True)


@data.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.pass_context
def status(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Which tracked paths changed since their pointer (all of them by default)."""
    found = datasets(ctx).status(paths)
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
    api = datasets(ctx)
    if target is not None and ("@" in target or not _looks_like_path(target)):
        results = api.checkout(target, force=force)
    else:
        results = api.checkout(paths=[target] if target else (), force=force)
    for result in results:
        what = (
            "up to date"
            if not (result.written or result.deleted)
            else f"{result.written} written, {result.deleted} removed"
        )
        click.echo(f"{result.path}: {result.ref} ({what})")


def _looks_like_path(target: str) -> bool:
    from pathlib import Path

    return Path(target).exists() or Path(target + ".slipway").exists()


@data.command()
@click.argument("name")
@click.option("--project", "-p", help="Project (default: $SLIPWAY_PROJECT or 'default').")
@click.pass_context
def log(ctx: click.Context, name: str, project: str | None) -> None:
    """The versions of a dataset, newest first."""
    from rich.table import Table

    versions = datasets(ctx).log(name, project=project)
    table = Table("version", "created", "by", "files", "size", "hash", "message")
    for v in versions:
        table.add_row(
            v.ref,
            stamp(v.created_at),
            v.created_by,
            str(v.file_count),
            size(v.size),
            v.object_hash[:12],
            v.message,
        )
    console().print(table)


@data.command("list")
@click.option("--project", "-p", help="Project (default: $SLIPWAY_PROJECT or 'default').")
@click.pass_context
def list_(ctx: click.Context, project: str | None) -> None:
    """The datasets of a project."""
    from rich.table import Table

    found = datasets(ctx).list_datasets(project=project)
    table = Table("dataset", "versions", "created", "by")
    for d in found.datasets:
        table.add_row(d.name, str(d.versions), stamp(d.created_at), d.created_by)
    console().print(table)


@data.command()
@click.argument("ref")
@click.option("--project", "-p", help="Project (default: $SLIPWAY_PROJECT or 'default').")
@click.pass_context
def show(ctx: click.Context, ref: str, project: str | None) -> None:
    """A version and the profiles of its tables."""
    from rich.table import Table

    api = datasets(ctx)
    version = api.get(ref, project=project)
    click.echo(
        f"{version.ref}  {version.kind}  {version.file_count} files  {size(version.size)}  "
        f"{version.object_hash}\n  added from {version.path or '?'} by {version.created_by} "
        f"at {stamp(version.created_at)}: {version.message}"
    )
    for line in pii_lines(version):
        click.echo(line)
    for path, profile in api.profile(ref, project=project).tables.items():
        table = Table(
            "column", "type", "nulls", "distinct", "min", "max", "mean", "std", "top",
            title=f"{path}: {profile['row_count']:,} rows",
        )  # fmt: skip
        for col in profile["columns"]:
            top = ", ".join(f"{v} ({n})" for v, n in (col.get("top") or [])[:3])
            table.add_row(
                col["name"],
                col["type"],
                f"{col['null_rate']:.1%}",
                _cell(col.get("distinct_count")),
                _cell(col.get("min")),
                _cell(col.get("max")),
                _cell(col.get("mean")),
                _cell(col.get("std")),
                top,
            )
        console().print(table)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@data.command()
@click.argument("base")
@click.argument("target")
@click.option("--project", "-p", help="Project (default: $SLIPWAY_PROJECT or 'default').")
@click.option("--json", "as_json", is_flag=True, help="Print the diff as JSON.")
@click.pass_context
def diff(ctx: click.Context, base: str, target: str, project: str | None, as_json: bool) -> None:
    """What changed from BASE to TARGET (e.g. train@v1 train@v2, or train@v1 v2)."""
    found = datasets(ctx).diff(base, target, project=project)
    if as_json:
        click.echo(found.model_dump_json(indent=2))
        return
    files = found.files
    click.echo(
        f"{found.base} -> {found.target}: {len(files.added)} added, {len(files.removed)} "
        f"removed, {len(files.modified)} modified, {files.unchanged} unchanged files"
    )
    for label, names in (
        ("added", files.added),
        ("removed", files.removed),
        ("modified", files.modified),
    ):
        for name in names[:SHOWN_PATHS]:
            click.echo(f"    {label}: {name}")
        if len(names) > SHOWN_PATHS:
            click.echo(f"    ... and {len(names) - SHOWN_PATHS} more {label}")
    for table in found.tables:
        click.echo(
            f"  table {table.path}: {table.rows_before:,} -> {table.rows_after:,} rows "
            f"(+{table.rows_added:,} / -{table.rows_removed:,})"
        )
        for column in table.columns_added:
            click.echo(f"    column added: {column}")
        for column in table.columns_removed:
            click.echo(f"    column removed: {column}")
        for column, (old, new) in table.type_changes.items():
            click.echo(f"    column {column}: type {old} -> {new}")
        for change in table.stats:
            click.echo(
                f"    {change.column}.{change.stat}: {_cell(change.before)} -> "
                f"{_cell(change.after)}"
            )


# -- remotes, push, pull, gc -------------------------------------------------------------------


@data.group()
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
    from slipway.cli._common import settings
    from slipway.config import mask_url, write_remote
    from slipway.objects._transfer import check_remote_url

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
    from slipway.cli._common import settings
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
    from slipway.cli._common import settings
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


@data.command()
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
    from slipway.client._data_sync import push as push_versions

    with TransferProgress("push") as progress:
        result = push_versions(
            datasets(ctx),
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


@data.command()
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
    from slipway.client._data_sync import pull as pull_versions

    with TransferProgress("pull") as progress:
        result = pull_versions(
            datasets(ctx),
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
    for item in result.checkouts:
        what = (
            "up to date"
            if not (item.written or item.deleted)
            else f"{item.written} written, {item.deleted} removed"
        )
        click.echo(f"{item.path}: {item.ref} ({what})")


def _transferred(report: object, where: str) -> str:
    """'5 objects (2.9 MiB) in 1 packs to origin (3 were there already)'."""
    from slipway.objects._transfer import TransferReport

    assert isinstance(report, TransferReport)
    text = f"{report.objects} objects ({report.bytes / 2**20:.1f} MiB) in {report.packs} packs"
    return f"{text} {where}" + (f" ({report.present} were there already)" if report.present else "")


@data.command()
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
    from slipway.services.blobs.schemas import GcRequest, GcResult

    request = GcRequest(dry_run=dry_run, grace_s=_seconds(grace))
    found = datasets(ctx).backend.call("collect_garbage", body=request)
    assert isinstance(found, GcResult)
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


def _seconds(text: str) -> int:
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
