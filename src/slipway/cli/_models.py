"""`slipway model ...`: list, versions, show, alias, history, archive, restore, delete, lineage."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from slipway.cli._common import client, console, stamp

if TYPE_CHECKING:
    from slipway.client._models import ModelsClient
    from slipway.services.registry.schemas import Evaluation, ModelVersion

PROJECT = click.option("--project", "-p", help="Project (default: $SLIPWAY_PROJECT or 'default').")


def models(ctx: click.Context) -> ModelsClient:
    return client(ctx).models


@click.group()
def model() -> None:
    """The model registry: versions, aliases, archive, lineage."""


@model.command("list")
@PROJECT
@click.pass_context
def list_(ctx: click.Context, project: str | None) -> None:
    """The registered models of a project, with their latest version and aliases."""
    from rich.table import Table

    table = Table("model", "latest", "aliases", "created", "by", "description")
    for m in models(ctx).list_models(project=project):
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
    for v in models(ctx).list_versions(name, project=project):
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
    version = models(ctx).get_version(ref, project=project)
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
    registry = models(ctx)
    if delete:
        if version is not None:
            raise click.UsageError("--delete takes no VERSION")
        registry.delete_alias(name, alias, project=project)
        click.echo(f"{name}@{alias} removed")
        return
    if version is None:
        raise click.UsageError("give the VERSION the alias should point at, or --delete")
    moved = registry.set_alias(name, version, alias, reason=reason, project=project)
    click.echo(f"{name}@{alias} -> {moved.ref}")


@model.command()
@click.argument("name")
@PROJECT
@click.pass_context
def history(ctx: click.Context, name: str, project: str | None) -> None:
    """Every alias move of a model, oldest first."""
    from rich.table import Table

    table = Table("when", "alias", "from", "to", "by", "reason")
    for c in models(ctx).alias_history(name, project=project):
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
    changed = models(ctx).update(
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
    click.echo(f"{models(ctx).archive(name, version, project=project).ref} archived")


@model.command()
@click.argument("name")
@click.argument("version", type=int)
@PROJECT
@click.pass_context
def restore(ctx: click.Context, name: str, version: int, project: str | None) -> None:
    """Make an archived version active again."""
    click.echo(f"{models(ctx).restore(name, version, project=project).ref} active")


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
    registry = models(ctx)
    if version is None:
        registry.delete_model(name, project=project)
    else:
        registry.delete_version(name, version, project=project)
    click.echo(f"deleted {what}")


@model.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the lineage as JSON.")
@PROJECT
@click.pass_context
def lineage(ctx: click.Context, ref: str, as_json: bool, project: str | None) -> None:
    """What a version came from: run, dataset versions, code commit, pipeline run."""
    found = models(ctx).lineage(ref, project=project)
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


@model.command()
@click.argument("ref")
@click.option("--data", "data", required=True, help="CSV/Parquet file or dataset NAME@vN.")
@click.option("--target", required=True, help="The label column.")
@click.option(
    "--task", type=click.Choice(["classification", "regression"]), default="classification"
)
@click.option("--slice", "slices", multiple=True, help="Also score per value of this column.")
@PROJECT
@click.pass_context
def evaluate(
    ctx: click.Context,
    ref: str,
    data: str,
    target: str,
    task: str,
    slices: tuple[str, ...],
    project: str | None,
) -> None:
    """Score a version on labelled data and keep the result with it."""
    from slipway.data import Data

    connected = client(ctx)
    found = connected.models.evaluate(
        ref,
        data,
        target=target,
        task=task,
        slices=slices,
        project=project,
        tables=Data(connected),
    )
    _print_evaluation(found)


@model.command()
@click.argument("ref")
@PROJECT
@click.pass_context
def evaluations(ctx: click.Context, ref: str, project: str | None) -> None:
    """The evaluations kept with a version, newest first."""
    kept = models(ctx).evaluations(ref, project=project)
    if not kept:
        click.echo(f"{ref}: no evaluations yet (`slipway model evaluate {ref} --data ...`)")
    for found in kept:
        _print_evaluation(found)


def _print_evaluation(found: Evaluation) -> None:
    click.echo(f"{found.model} on {found.data}: {found.rows:,} rows, {found.task}")
    click.echo(f"  at {stamp(found.created_at)} by {found.created_by}")
    for name, value in found.metrics.items():
        click.echo(f"  {name:<18} {'-' if value is None else f'{value:.4f}'}")
    latency = found.latency
    if latency:
        click.echo(
            f"  latency            {latency.get('batch_us_per_row', 0):.1f} us/row in a batch, "
            f"{latency.get('single_row_p50_us', 0):.0f} us one row (p50)"
        )
    for s in found.slices:
        shown = ", ".join(f"{k}={v:.3f}" for k, v in s["metrics"].items() if isinstance(v, float))
        click.echo(f"  slice {s['column']}={s['value']} ({s['rows']} rows): {shown}")


from slipway.cli._model_card import card as _card  # noqa: E402

model.add_command(_card)


@model.command("to-onnx")
@click.argument("ref")
@click.option("--name", default=None, help="Register under this model (default: REF's model).")
@PROJECT
@click.pass_context
def to_onnx(ctx: click.Context, ref: str, name: str | None, project: str | None) -> None:
    """Convert a scikit-learn version to ONNX, checked to predict the same, as a new version."""
    made = models(ctx).to_onnx(ref, name=name, project=project)
    click.echo(f"{made.ref}  (onnx, converted from {made.tags.get('converted_from', ref)})")


# -- promotion gates: approve, promote (see `slipway check` for CI) ------------------------


@model.command()
@click.argument("name")
@click.argument("version", type=int)
@click.option("--note", default="", help="What you checked (kept with the approval).")
@PROJECT
@click.pass_context
def approve(ctx: click.Context, name: str, version: int, note: str, project: str | None) -> None:
    """Approve NAME version VERSION for promotion, as yourself (once per person)."""
    found = models(ctx).approve(name, version, note=note, project=project)
    if found.created:
        click.echo(f"{found.model} approved by {found.approved_by}")
    else:
        when = stamp(found.approved_at)
        click.echo(f"{found.model}: {found.approved_by} already approved it at {when}")


@model.command()
@click.argument("ref")
@PROJECT
@click.pass_context
def approvals(ctx: click.Context, ref: str, project: str | None) -> None:
    """Who approved a version, oldest first."""
    kept = models(ctx).approvals(ref, project=project)
    if not kept:
        click.echo(f"{ref}: no approvals yet (`slipway model approve NAME VERSION`)")
    for a in kept:
        note = f"  {a.note}" if a.note else ""
        click.echo(f"{a.model}  {stamp(a.approved_at)}  {a.approved_by}{note}")


@model.command()
@click.argument("name")
@click.argument("version", type=int)
@click.option("--to", "alias", help="The alias to move (default: the policy's, else champion).")
@click.option("--force", is_flag=True, help="Move it even though gates fail (needs --reason).")
@click.option("--reason", default="", help="Why; kept in the alias history and the audit log.")
@click.option(
    "--gates",
    "gates_file",
    type=click.Path(dir_okay=False),
    help="Gates file (default: the nearest slipway.gates.yaml up from here).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@PROJECT
@click.pass_context
def promote(
    ctx: click.Context,
    name: str,
    version: int,
    alias: str | None,
    force: bool,
    reason: str,
    gates_file: str | None,
    as_json: bool,
    project: str | None,
) -> None:
    """Move an alias to NAME version VERSION if it passes NAME's gates.

    Exits 0 when the alias moved, 1 when the gates refused (then nothing changed).
    """
    from slipway.cli._check import print_report

    report = models(ctx).promote(
        name,
        version,
        alias=alias,
        force=force,
        reason=reason,
        gates_file=gates_file,
        project=project,
    )
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    else:
        print_report(report)
    if not report.promoted:
        raise click.exceptions.Exit(1)


@model.command()
@click.argument("ref")
@PROJECT
@click.pass_context
def promotions(ctx: click.Context, ref: str, project: str | None) -> None:
    """How a version went through the gates (forced promotions too), newest first."""
    kept = models(ctx).promotions(ref, project=project)
    if not kept:
        click.echo(f"{ref}: never promoted through gates")
    for p in kept:
        before = f"v{p.previous_version}" if p.previous_version is not None else "-"
        how = "FORCED" if p.forced else "gates passed"
        click.echo(
            f"{p.model} -> {p.alias} (was {before})  {stamp(p.promoted_at)}  {p.promoted_by}"
        )
        click.echo(f"  {how}: {len(p.report.results)} rules, {len(p.report.failures)} failed")
        if p.reason:
            click.echo(f"  reason: {p.reason}")
