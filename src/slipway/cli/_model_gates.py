"""`slipway model approve`, `approvals`, `promote` and `promotions`: taking a version through
the promotion gates of slipway.gates.yaml (`slipway check` checks them all, for CI)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from slipway.cli._common import console, stamp
from slipway.cli._model_options import PROJECT, models, registry

if TYPE_CHECKING:
    from slipway.models import GateReport


@click.command()
@click.argument("name")
@click.argument("version", type=int)
@click.option("--note", default="", help="What you checked (kept with the approval).")
@PROJECT
@click.pass_context
def approve(ctx: click.Context, name: str, version: int, note: str, project: str | None) -> None:
    """Approve NAME version VERSION for promotion, as yourself (once per person)."""
    found = registry(ctx).approve(name, version, note=note, project=project)
    if found.created:
        click.echo(f"{found.model} approved by {found.approved_by}")
    else:
        when = stamp(found.approved_at)
        click.echo(f"{found.model}: {found.approved_by} already approved it at {when}")


@click.command()
@click.argument("ref")
@PROJECT
@click.pass_context
def approvals(ctx: click.Context, ref: str, project: str | None) -> None:
    """Who approved a version, oldest first."""
    kept = registry(ctx).approvals(ref, project=project)
    if not kept:
        click.echo(f"{ref}: no approvals yet (`slipway model approve NAME VERSION`)")
    for a in kept:
        note = f"  {a.note}" if a.note else ""
        click.echo(f"{a.model}  {stamp(a.approved_at)}  {a.approved_by}{note}")


@click.command()
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


@click.command()
@click.argument("ref")
@PROJECT
@click.pass_context
def promotions(ctx: click.Context, ref: str, project: str | None) -> None:
    """How a version went through the gates (forced promotions too), newest first."""
    kept = registry(ctx).promotions(ref, project=project)
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


def print_report(report: GateReport) -> None:
    """The verdict, a table of the rules (result, observed, threshold), then why each failed
    rule failed and what each rule that passed without evidence noted."""
    from rich.table import Table

    out = console()
    good = report.promoted or (report.dry_run and report.passed)
    colour = "green" if good and not report.forced else "red" if not good else "yellow"
    out.print(f"[{colour}]{report.summary()}[/{colour}]", highlight=False)
    if not report.results:
        return
    table = Table("rule", "result", "observed", "threshold")
    table.columns[0].no_wrap = True
    for r in report.results:
        mark = "[green]pass[/green]" if r.passed else "[red]FAIL[/red]"
        table.add_row(r.rule, mark, shown(r.observed), shown(r.threshold))
    out.print(table)
    for r in report.results:
        if not r.passed or r.observed is None:
            label = "FAIL" if not r.passed else "note"
            out.print(f"  {label} {r.rule}: {r.message}", highlight=False, soft_wrap=True)
    if report.forced:
        out.print(f"  forced: {report.reason}", highlight=False, soft_wrap=True)


def shown(value: object) -> str:
    """A rule's observed value or threshold as the report prints it."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
