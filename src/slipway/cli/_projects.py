"""`slipway projects ...`."""

from __future__ import annotations

import click

from slipway.cli._common import client, console, stamp


@click.group()
def projects() -> None:
    """Create, list, show and delete projects."""


@projects.command("create")
@click.argument("name")
@click.option("--description", "-d", default="", help="What the project is for.")
@click.pass_context
def create(ctx: click.Context, name: str, description: str) -> None:
    """Create project NAME."""
    project = client(ctx).create_project(name, description)
    click.echo(f"created project {project.name} ({project.id})")


@projects.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List projects."""
    from rich.table import Table

    found = list(client(ctx).iter_projects())
    if as_json:
        for project in found:
            click.echo(project.model_dump_json())
        return
    table = Table("name", "description", "created by", "created at (UTC)")
    for project in found:
        table.add_row(
            project.name, project.description, project.created_by, stamp(project.created_at)
        )
    console().print(table)


@projects.command("show")
@click.argument("name")
@click.pass_context
def show(ctx: click.Context, name: str) -> None:
    """Show project NAME."""
    project = client(ctx).get_project(name)
    for key, value in project.model_dump().items():
        click.echo(f"{key:12} {stamp(value) if key.endswith('_at') else value}")


@projects.command("delete")
@click.argument("name")
@click.option("--force", is_flag=True, help="Delete even if the project holds runs or datasets.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def delete(ctx: click.Context, name: str, force: bool, yes: bool) -> None:
    """Delete project NAME."""
    if not yes:
        click.confirm(f"Delete project {name}?", abort=True)
    client(ctx).delete_project(name, force=force)
    click.echo(f"deleted project {name}")
