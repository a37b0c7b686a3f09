"""`slipway model ...`: the registry's records (list, versions, show, alias, history, update,
archive, restore, delete, lineage); evaluation, cards and the gates have modules of their own."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from slipway.cli._common import console, stamp
from slipway.cli._model_card import card
from slipway.cli._model_evaluation import evaluate, evaluations, to_onnx
from slipway.cli._model_gates import approvals, approve, promote, promotions
from slipway.cli._model_options import PROJECT, registry

if TYPE_CHECKING:
    from slipway.models import ModelVersion


@click.group()
def model() -> None:
    """The model registry: versions, aliases, archive, lineage, evaluation, cards, gates."""


@model.command("list")
@PROJECT
@click.pass_context
def list_(ctx: click.Context, project: str | None) -> None:
    """The registered models of a project, with their latest version and aliases."""
    from rich.table import Table

    table = Table("model", "latest", "aliases", "created", "by", "description")
    for m in registry(ctx).list_models(project=project):
        aliases = ", ".join(f"{a}=v{v}" for a, v in sorted(m.aliases.items()))
        latest = f"v{m.latest_version}" if m.latest_version else "-"
        table.add_row(m.name, latest, aliases, stamp(m.created_at), m.created_by, m.description)
    console().print(table)


@model.command()
@click.argument("name")
@PROJECT
@click.pass_context
def versions(ctx: click.Context, name: str, project: str | None) -> None:
    """The versions of a model, newest first."""
    from rich.table import Table

    table = Table("version", "flavor", "status", "aliases", "created", "by", "run", "description")
    for v in registry(ctx).list_versions(name, project=project):
        aliases, run = ", ".join(v.aliases), (v.run_id or "")[:8]
        table.add_row(
            v.ref,
            v.flavor,
            v.status,
            aliases,
            stamp(v.created_at),
            v.created_by,
            run,
            v.description,
        )
    console().print(table)


@model.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the version as JSON.")
@PROJECT
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool, project: str | None) -> None:
    """One version (NAME@vN, NAME@alias, NAME@latest): package, signature, lineage links."""
    version = registry(ctx).get_version(ref, project=project)
    if as_json:
        click.echo(version.model_dump_json(indent=2))
        return
    click.echo("\n".join(_describe(version)))


def _describe(v: ModelVersion) -> list[str]:
    lines = [
        f"{v.ref}  ({v.flavor}, {v.status})",
        f"  aliases:  {', '.join(v.aliases) or '-'}",
        f"  package:  {v.package_hash}",
        f"  created:  {stamp(v.created_at)} by {v.created_by}",
    ]
    if v.description:
        lines.append(f"  about:    {v.description}")
    lines += [f"  tag:      {k}={val}" for k, val in sorted(v.tags.items())]
    lines += [f"  run:      {v.run_id}"] if v.run_id else []
    lines += [f"  dataset:  {d}" for d in v.datasets]
    lines += [f"  commit:   {v.code_commit}"] if v.code_commit else []
    if v.signature:
        lines.append("  inputs:")
        for column in v.signature.get("inputs", []):
            null = ", nullable" if column.get("nullable") else ""
            lines.append(f"    {column.get('name')}: {column.get('type')}{null}")
    return lines


@model.command()
@click.argument("name")
@click.argument("alias")
@click.argument("version", type=int, required=False)
@click.option("--delete", is_flag=True, help="Remove the alias instead of moving it.")
@click.option("--reason", default="", help="Why (kept in the alias history).")
@PROJECT
@click.pass_context
def alias(
    ctx: click.Context,
    name: str,
    alias: str,
    version: int | None,
    delete: bool,
    reason: str,
    project: str | None,
) -> None:
    """Point NAME@ALIAS at VERSION (e.g. `slipway model alias churn champion 4`)."""
    records = registry(ctx)
    if delete:
        if version is not None:
            raise click.UsageError("--delete takes no VERSION")
        records.delete_alias(name, alias, project=project)
        click.echo(f"{name}@{alias} removed")
        return
    if version is None:
        raise click.UsageError("give the VERSION the alias should point at, or --delete")
    moved = records.set_alias(name, version, alias, reason=reason, project=project)
    click.echo(f"{name}@{alias} -> {moved.ref}")


@model.command()
@click.argument("name")
@PROJECT
@click.pass_context
def history(ctx: click.Context, name: str, project: str | None) -> None:
    """Every alias move of a model, oldest first."""
    from rich.table import Table

    table = Table("when", "alias", "from", "to", "by", "reason")
    for c in registry(ctx).alias_history(name, project=project):
        before = f"v{c.previous_version}" if c.previous_version is not None else "-"
        after = f"v{c.version}" if c.version is not None else "(removed)"
        table.add_row(stamp(c.changed_at), c.alias, before, after, c.changed_by, c.reason)
    console().print(table)


@model.command()
@click.argument("name")
@click.argument("version", type=int)
@click.option("--description", "-d", help="The version's new description.")
@click.option("--tag", "tags", multiple=True, help="KEY=VALUE to set (repeatable).")
@click.option("--untag", multiple=True, help="KEY to remove (repeatable).")
@PROJECT
@click.pass_context
def update(
    ctx: click.Context,
    name: str,
    version: int,
    description: str | None,
    tags: tuple[str, ...],
    untag: tuple[str, ...],
    project: str | None,
) -> None:
    """Change a version's description or tags."""
    pairs = [t.partition("=") for t in tags]
    bad = [t for t, (_, eq, _) in zip(tags, pairs, strict=True) if not eq]
    if bad:
        raise click.UsageError(f"--tag takes KEY=VALUE, got {bad[0]!r}")
    if description is None and not tags and not untag:
        raise click.UsageError("give --description, --tag or --untag")
    changed = registry(ctx).update(
        name,
        version,
        description=description,
        set_tags={k: v for k, _, v in pairs},
        remove_tags=untag,
        project=project,
    )
    click.echo("\n".join(_describe(changed)))


@model.command()
@click.argument("name")
@click.argument("version", type=int)
@PROJECT
@click.pass_context
def archive(ctx: click.Context, name: str, version: int, project: str | None) -> None:
    """Archive a version (refused while an alias points at it)."""
    click.echo(f"{registry(ctx).archive(name, version, project=project).ref} archived")


@model.command()
@click.argument("name")
@click.argument("version", type=int)
@PROJECT
@click.pass_context
def restore(ctx: click.Context, name: str, version: int, project: str | None) -> None:
    """Make an archived version active again."""
    click.echo(f"{registry(ctx).restore(name, version, project=project).ref} active")


@model.command()
@click.argument("name")
@click.argument("version", type=int, required=False)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@PROJECT
@click.pass_context
def delete(
    ctx: click.Context, name: str, version: int | None, yes: bool, project: str | None
) -> None:
    """Delete one version, or the whole model without VERSION (refused while aliases point)."""
    what = f"{name}@v{version}" if version is not None else f"model {name} and all its versions"
    if not yes:
        click.confirm(f"Delete {what}?", abort=True)
    records = registry(ctx)
    if version is None:
        records.delete_model(name, project=project)
    else:
        records.delete_version(name, version, project=project)
    click.echo(f"deleted {what}")


@model.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the lineage as JSON.")
@PROJECT
@click.pass_context
def lineage(ctx: click.Context, ref: str, as_json: bool, project: str | None) -> None:
    """What a version came from: run, dataset versions, code commit, pipeline run."""
    found = registry(ctx).lineage(ref, project=project)
    if as_json:
        click.echo(found.model_dump_json(indent=2))
        return
    v = found.version
    click.echo(f"{v.ref}  ({v.flavor})")
    if found.run:
        run = found.run
        click.echo(f"  run:      {run.get('id')}  {run.get('name', '')}  {run.get('status', '')}")
        params = run.get("params") or {}
        if params:
            click.echo(f"    params: {json.dumps(params, sort_keys=True)}")
    else:
        click.echo("  run:      -")
    for d in found.datasets:
        click.echo(f"  dataset:  {d.get('ref')}  {str(d.get('object_hash', ''))[:12]}")
    click.echo(f"  commit:   {found.code_commit or '-'}")
    if found.pipeline_run:
        click.echo(f"  pipeline: {found.pipeline_run}")


for command in (card, evaluate, evaluations, to_onnx, approve, approvals, promote, promotions):
    model.add_command(command)
