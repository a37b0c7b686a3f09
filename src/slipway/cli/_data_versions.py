"""`slipway data log`, `list`, `show` and `diff`: what the recorded versions hold."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from slipway.cli._common import console, data_of, size, stamp

if TYPE_CHECKING:
    from slipway.services.datasets.schemas import DatasetVersion

SHOWN_PATHS = 10  # per kind of change in `diff`; the rest are counted
PROJECT = click.option("--project", "-p", help="Project (default: $SLIPWAY_PROJECT or 'default').")


def pii_lines(version: DatasetVersion) -> list[str]:
    return [
        f"  {flag.table}: column {flag.column!r} looks like {flag.kind.replace('_', ' ')} "
        f"({flag.match_rate:.0%} of sampled values)"
        for flag in version.pii
    ]


@click.command()
@click.argument("name")
@PROJECT
@click.pass_context
def log(ctx: click.Context, name: str, project: str | None) -> None:
    """The versions of a dataset, newest first."""
    from rich.table import Table

    versions = data_of(ctx).log(name, project=project)
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


@click.command("list")
@PROJECT
@click.pass_context
def list_(ctx: click.Context, project: str | None) -> None:
    """The datasets of a project."""
    from rich.table import Table

    found = data_of(ctx).list_datasets(project=project)
    table = Table("dataset", "versions", "created", "by")
    for d in found.datasets:
        table.add_row(d.name, str(d.versions), stamp(d.created_at), d.created_by)
    console().print(table)


@click.command()
@click.argument("ref")
@PROJECT
@click.pass_context
def show(ctx: click.Context, ref: str, project: str | None) -> None:
    """A version and the profiles of its tables."""
    from rich.table import Table

    api = data_of(ctx)
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


@click.command()
@click.argument("base")
@click.argument("target")
@PROJECT
@click.option("--json", "as_json", is_flag=True, help="Print the diff as JSON.")
@click.pass_context
def diff(ctx: click.Context, base: str, target: str, project: str | None, as_json: bool) -> None:
    """What changed from BASE to TARGET (e.g. train@v1 train@v2, or train@v1 v2)."""
    found = data_of(ctx).diff(base, target, project=project)
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
