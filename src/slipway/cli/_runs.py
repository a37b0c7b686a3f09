"""`slipway runs ...`: list, show, compare, delete, reproduce."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import click

from slipway.cli._common import client, console, stamp

if TYPE_CHECKING:
    from slipway.client import Client
    from slipway.tracking import Run

_HEX = re.compile(r"[0-9a-f]{4,32}")
SYSTEM_TAG = "slipway."


def resolve(api: Client, ref: str) -> str:
    """A full run id, or a unique prefix of one (at least 4 hex characters)."""
    from slipway.errors import InvalidInput, NotFound

    if not _HEX.fullmatch(ref):
        raise InvalidInput(f"{ref!r} is not a run id or an id prefix (4-32 hex characters)")
    if len(ref) == 32:
        return ref
    page = api.runs.search(
        filter=f"attributes.run_id LIKE '{ref}%'", max_results=2, include_deleted=True
    )
    if not page.runs:
        raise NotFound(f"no run id starts with {ref}")
    if len(page.runs) > 1:
        raise InvalidInput(f"{ref} matches several runs; give more characters")
    return page.runs[0].id


def duration(run: Run) -> str:
    seconds = run.duration_s
    if seconds is None:
        return "running"
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def number(value: float) -> str:
    return f"{value:.6g}"


@click.group()
def runs() -> None:
    """List, show, compare, delete and reproduce runs."""


@runs.command("list")
@click.option("--project", "-p", multiple=True, help="Only these projects (repeatable).")
@click.option("--filter", "-f", "filter_", default="", help='e.g. "metrics.acc > 0.9".')
@click.option("--order-by", "-o", multiple=True, help='e.g. "metrics.acc DESC" (repeatable).')
@click.option("--max-results", "-n", default=50, show_default=True)
@click.option("--columns", default=6, show_default=True, help="How many metric columns to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@click.pass_context
def list_(
    ctx: click.Context,
    project: tuple[str, ...],
    filter_: str,
    order_by: tuple[str, ...],
    max_results: int,
    columns: int,
    as_json: bool,
) -> None:
    """List runs, newest first, with their metrics."""
    from rich.table import Column, Table

    page = client(ctx).runs.search(
        list(project) or None, filter_, list(order_by), max_results=max_results
    )
    if as_json:
        for run in page.runs:
            click.echo(run.model_dump_json())
        return
    out = console()
    # Metric columns share what the fixed columns leave of the terminal's width.
    keys = _metric_keys(page.runs, min(columns, max(1, (out.width - 64) // 9)))
    table = Table(
        Column("run", no_wrap=True, min_width=8),
        Column("name", min_width=8),
        Column("project", min_width=7),
        Column("status", no_wrap=True),
        Column("started (UTC)", no_wrap=True),
        Column("duration", no_wrap=True),
        *(Column(k, justify="right") for k in keys),
    )
    for run in page.runs:
        table.add_row(
            run.id[:8],
            run.name,
            run.project,
            run.status,
            run.start_time.strftime("%m-%d %H:%M"),
            duration(run),
            *(number(run.metrics[k]) if k in run.metrics else "" for k in keys),
        )
    out.print(table)
    if page.next_page_token:
        out.print(f"(more runs match; raise --max-results above {max_results} to see them)")


def _metric_keys(found: list[Run], limit: int) -> list[str]:
    counts: dict[str, int] = {}
    for run in found:
        for key in run.metrics:
            if not key.startswith("system."):
                counts[key] = counts.get(key, 0) + 1
    return sorted(counts, key=lambda k: (-counts[k], k))[:limit]


@runs.command("show")
@click.argument("run")
@click.option("--all-tags", is_flag=True, help="Also show slipway.* capture tags.")
@click.pass_context
def show(ctx: click.Context, run: str, all_tags: bool) -> None:
    """Show RUN (an id or a unique id prefix): params, metrics, tags, artifacts."""
    from rich.table import Table

    api = client(ctx)
    info = api.runs.get(resolve(api, run))
    out = console()
    out.print(f"[bold]{info.project}/{info.name}[/bold]  {info.id}")
    out.print(
        f"status {info.status}{' (deleted)' if info.deleted else ''}  "
        f"started {stamp(info.start_time)}  duration {duration(info)}  by {info.created_by}"
    )
    if info.parent_run_id:
        out.print(f"parent run {info.parent_run_id}")
    for title, values in (
        ("params", info.params),
        ("metrics", {k: number(v) for k, v in info.metrics.items()}),
        ("tags", {k: v for k, v in info.tags.items() if all_tags or not k.startswith(SYSTEM_TAG)}),
    ):
        if values:
            table = Table(title, "value", title_justify="left")
            for key in sorted(values):
                table.add_row(key, values[key])
            out.print(table)
    artifacts = api.runs.artifacts(info.id)
    if artifacts:
        table = Table("artifact", "size", "kind", "object", title_justify="left")
        for artifact in artifacts:
            kind = "folder" if artifact.is_dir else "file"
            table.add_row(artifact.path, f"{artifact.size:,}", kind, artifact.object_hash[:12])
        out.print(table)


@runs.command("compare")
@click.argument("run_refs", nargs=-1, required=True, metavar="RUN...")
@click.option("--all", "show_all", is_flag=True, help="Also rows that are equal in every run.")
@click.pass_context
def compare(ctx: click.Context, run_refs: tuple[str, ...], show_all: bool) -> None:
    """Compare params and metrics of runs side by side; differences in bold."""
    from rich.table import Table

    api = client(ctx)
    found = [api.runs.get(resolve(api, ref)) for ref in run_refs]
    table = Table("", *(f"{r.name}\n{r.id[:8]}" for r in found))
    rows: list[tuple[str, list[str]]] = []
    for key in sorted({k for r in found for k in r.params}):
        rows.append((f"params.{key}", [r.params.get(key, "—") for r in found]))
    for key in sorted({k for r in found for k in r.metrics}):
        rows.append(
            (f"metrics.{key}", [number(r.metrics[key]) if key in r.metrics else "—" for r in found])
        )
    rows.append(("status", [r.status for r in found]))
    rows.append(("duration", [duration(r) for r in found]))
    for label, values in rows:
        differs = len(set(values)) > 1
        if differs or show_all:
            table.add_row(label, *(f"[bold]{v}[/bold]" if differs else v for v in values))
    console().print(table)


@runs.command("delete")
@click.argument("run_refs", nargs=-1, required=True, metavar="RUN...")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def delete(ctx: click.Context, run_refs: tuple[str, ...], yes: bool) -> None:
    """Mark runs deleted (hidden from search; data kept)."""
    api = client(ctx)
    ids = [resolve(api, ref) for ref in run_refs]
    if not yes:
        click.confirm(f"Delete {len(ids)} run(s)?", abort=True)
    for run_id in ids:
        api.runs.delete(run_id)
        click.echo(f"deleted run {run_id}")


@runs.command("reproduce")
@click.argument("run")
@click.pass_context
def reproduce(ctx: click.Context, run: str) -> None:
    """Print how to re-create RUN: commit, command, package changes since."""
    from slipway.tracking import PACKAGES_ARTIFACT, Capture, plan_reproduction

    api = client(ctx)
    info = api.runs.get(resolve(api, run))
    found = {a.path: a for a in api.runs.artifacts(info.id)}
    packages_then: str | None = None
    if PACKAGES_ARTIFACT in found:
        packages_then = api.objects.read_bytes(found[PACKAGES_ARTIFACT].object_hash).decode()
    plan = plan_reproduction(info.tags, packages_then, Capture.of(api).packages())
    click.echo(f"# run {info.project}/{info.name} ({info.id})")
    click.echo(plan.render())
