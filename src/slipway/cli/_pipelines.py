"""`slipway pipeline ...`: run pipelines, list and show their runs, resume one."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from slipway.cli._common import client, console, settings, stamp

if TYPE_CHECKING:
    from slipway.services.pipeline_runs.schemas import PipelineRun

EXECUTORS = click.Choice(["local", "process", "ray"])


def parse_params(values: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} must read NAME=VALUE", param_hint="--param")
        params[key.strip()] = value
    return params


def project_name(ctx: click.Context, project: str | None) -> str:
    return settings(ctx).project_or(project)


def _echo(line: str) -> None:
    click.echo(f"  {line}")


# -- pipeline --------------------------------------------------------------------------------


@click.group()
def pipeline() -> None:
    """Run pipelines, list and show their runs, resume a failed one."""


@pipeline.command("run")
@click.argument("ref")
@click.option("--executor", "-e", type=EXECUTORS, default="local", show_default=True)
@click.option("--param", "-p", "params", multiple=True, help="NAME=VALUE; repeat for more.")
@click.option("--no-cache", is_flag=True, help="Run every step, even those the cache has.")
@click.option("--project", help="Project to record the run in (default: $SLIPWAY_PROJECT).")
@click.pass_context
def run(
    ctx: click.Context,
    ref: str,
    executor: str,
    params: tuple[str, ...],
    no_cache: bool,
    project: str | None,
) -> None:
    """Run pipeline REF (module:function, imported from this folder)."""
    from slipway.pipelines import load_pipeline, run_graph

    graph = load_pipeline(ref).build(**parse_params(params))
    click.echo(f"pipeline {graph.pipeline}: {len(graph.nodes)} steps on {executor}")
    result = run_graph(
        graph,
        executor=executor,
        cache=not no_cache,
        project=project_name(ctx, project),
        connect=lambda: client(ctx),
        echo=_echo,
    )
    _outcome(result.record)


@pipeline.command("resume")
@click.argument("run_id")
@click.option("--executor", "-e", type=EXECUTORS, help="Default: the executor it ran on.")
@click.option("--no-cache", is_flag=True, help="Run every unfinished step, cache or not.")
@click.pass_context
def resume(ctx: click.Context, run_id: str, executor: str | None, no_cache: bool) -> None:
    """Re-run what run RUN_ID did not finish; its finished steps are kept."""
    from slipway.pipelines import resume_run

    result = resume_run(
        run_id, client=client(ctx), executor=executor, cache=not no_cache, echo=_echo
    )
    _outcome(result.record)


@pipeline.command("runs")
@click.option("--project", help="Default: $SLIPWAY_PROJECT, else default.")
@click.option("--pipeline", "name", help="Only runs of this pipeline (name or module:function).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@click.pass_context
def runs(
    ctx: click.Context, project: str | None, name: str | None, limit: int, as_json: bool
) -> None:
    """List pipeline runs, newest first."""
    from rich.table import Table

    page = client(ctx).call(
        "list_pipeline_runs", project=project_name(ctx, project), pipeline=name, max_results=limit
    )
    if as_json:
        for found in page.runs:
            click.echo(found.model_dump_json())
        return
    table = Table(
        "run", "pipeline", "status", "executor", "steps", "cached", "started (UTC)", "duration"
    )
    for found in page.runs:
        table.add_row(
            found.id,
            found.name,
            found.status,
            found.executor,
            str(len(found.steps)),
            str(sum(1 for s in found.steps.values() if s.cached)),
            stamp(found.start_time),
            seconds_text(found.duration_s),
        )
    console().print(table)


@pipeline.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
@click.pass_context
def show(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """Show run RUN_ID: its DAG with status, timings, cache hits, resources and lineage."""
    record = client(ctx).call("get_pipeline_run", run_id=run_id)
    if as_json:
        click.echo(record.model_dump_json(indent=2))
        return
    click.echo(f"run        {record.id}")
    click.echo(f"pipeline   {record.name} ({record.pipeline}) in project {record.project}")
    click.echo(f"status     {record.status}" + (f": {record.error}" if record.error else ""))
    click.echo(f"executor   {record.executor}, driver {record.driver}")
    click.echo(f"params     {record.params}")
    click.echo(f"started    {stamp(record.start_time)} UTC, took {seconds_text(record.duration_s)}")
    _summary(record)
    for name, step in record.steps.items():
        if step.status == "failed" and step.error:
            click.echo(f"\n{name} failed:\n{step.error.rstrip()}")


def _outcome(record: PipelineRun) -> None:
    """One line on how the run ended (the steps were echoed as they went); exit 1 if failed."""
    cached = sum(1 for s in record.steps.values() if s.cached)
    took = f" in {record.duration_s:.2f} s" if record.duration_s is not None else ""
    click.echo(
        f"{record.status}: {len(record.steps)} steps, {cached} cached{took}; "
        f"run {record.id} (slipway pipeline show {record.id[:12]})"
    )
    if record.status != "finished":
        click.echo(f"error: {record.error}", err=True)
        sys.exit(1)


def _summary(record: PipelineRun) -> None:
    from rich.table import Table

    table = Table(
        "step",
        "after",
        "status",
        "cache",
        "attempts",
        "duration",
        "cpu s",
        "peak mem",
        "tracking run",
        "lineage",
    )
    for name, step in record.steps.items():
        lineage = [f"read {d}" for d in step.datasets] + [f"registered {m}" for m in step.models]
        table.add_row(
            name,
            ", ".join(step.upstream) or "-",
            step.status,
            "hit" if step.cached else ("-" if step.cache_key is None else "miss"),
            str(step.attempts),
            seconds_text(step.duration_s),
            f"{step.cpu_seconds:.2f}" if step.cpu_seconds is not None else "",
            _bytes(step.peak_memory_bytes),
            (step.run_id or "")[:12],
            "; ".join(lineage),
        )
    console().print(table)


def seconds_text(value: float | None) -> str:
    return "" if value is None else f"{value:.2f} s"


def _bytes(value: int | None) -> str:
    if value is None:
        return ""
    return f"{value / 1024**2:.0f} MiB"
