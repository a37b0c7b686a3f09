"""`slipway data ...`: add, status, checkout, log, list, show (profile)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from slipway.cli._common import console, datasets, stamp

if TYPE_CHECKING:
    from slipway.data.models import DatasetVersion

SHOWN_PATHS = 10  # per kind of change in `status`; the rest are counted


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
    """Version datasets: add, status, checkout, log, list, show."""


@data.command()
@click.argument("path", type=click.Path())
@click.option("--name", "-n", help="Dataset name (default: the file or folder name).")
@click.option("--message", "-m", default="", help="What changed in this version.")
@click.option("--project", "-p", help="Project (default: $SLIPWAY_PROJECT or 'default').")
@click.pass_context
def add(ctx: click.Context, path: str, name: str | None, message: str, project: str | None) -> None:
    """Version a file or folder: store it, write PATH.slipway, list PATH in .gitignore."""
    result = datasets(ctx).add(path, name=name, message=message, project=project)
    version = result.version
    note = "" if version.created else "  (unchanged: no new version)"
    click.echo(f"{version.ref} {version.object_hash}{note}")
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
