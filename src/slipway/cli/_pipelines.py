"""`slipway pipeline ...`, `slipway schedule ...`, `slipway scheduler`, `slipway cost ...`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from slipway.cli._common import client, console, stamp

if TYPE_CHECKING:
    from slipway.pipeline_runs.models import PipelineRun

EXECUTORS = click.Choice(["local", "process", "ray"])


def _params(values: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} must read NAME=VALUE", param_hint="--param")
        params[key.strip()] = value
    return params


def _project(project: str | None) -> str:
    import os

    return project or os.environ.get("SLIPWAY_PROJECT") or "default"


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
    from slipway.cli._common import settings
    from slipway.pipelines._helper import start_helper

    # Opening the metadata store (SQLAlchemy's imports) in a forked process overlaps with
    # importing the pipeline and hashing its steps; a fully cached run needs nothing more.
    # Forked first: everything this process imports before, the helper waits for.
    helper = start_helper(settings(ctx))
    try:
        from slipway.pipelines import load_pipeline, run_graph

        graph = load_pipeline(ref).build(**_params(params))
    except BaseException:
        if helper is not None:
            helper.close()
        raise
    click.echo(f"pipeline {graph.pipeline}: {len(graph.nodes)} steps on {executor}")
    result = run_graph(
        graph,
        executor=executor,
        cache=not no_cache,
        project=_project(project),
        connect=lambda: client(ctx),
        helper=helper,
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
        "list_pipeline_runs", project=_project(project), pipeline=name, max_results=limit
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
            _seconds(found.duration_s),
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
    click.echo(f"started    {stamp(record.start_time)} UTC, took {_seconds(record.duration_s)}")
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
            _seconds(step.duration_s),
            f"{step.cpu_seconds:.2f}" if step.cpu_seconds is not None else "",
            _bytes(step.peak_memory_bytes),
            (step.run_id or "")[:12],
            "; ".join(lineage),
        )
    console().print(table)


# -- schedule ----------------------------------------------------------------------------------


@click.group()
def schedule() -> None:
    """Run pipelines on a cron: add, list, pause, resume, remove."""


@schedule.command("add")
@click.argument("ref")
@click.option("--cron", required=True, help="Five cron fields in UTC, e.g. '0 3 * * *'.")
@click.option("--param", "-p", "params", multiple=True, help="NAME=VALUE; repeat for more.")
@click.option("--name", help="The schedule's name (default: the pipeline's).")
@click.option("--executor", "-e", type=EXECUTORS, default="local", show_default=True)
@click.option(
    "--missed",
    type=click.Choice(["latest", "all", "skip"]),
    default="latest",
    show_default=True,
    help="Occurrences missed while no scheduler ran: run the latest once, run all, or skip.",
)
@click.option("--project", help="Default: $SLIPWAY_PROJECT, else default.")
@click.pass_context
def schedule_add(
    ctx: click.Context,
    ref: str,
    cron: str,
    params: tuple[str, ...],
    name: str | None,
    executor: str,
    missed: str,
    project: str | None,
) -> None:
    """Schedule pipeline REF (module:function)."""
    from slipway.pipeline_runs.models import ScheduleCreate
    from slipway.pipelines import load_pipeline

    found = load_pipeline(ref)
    values = found.params(_params(params))
    found.build(**values)  # refuse a schedule whose graph cannot be built now
    made = client(ctx).call(
        "create_schedule",
        project=_project(project),
        body=ScheduleCreate(
            name=name or found.name,
            pipeline=found.ref,
            cron=cron,
            params=values,
            executor=executor,
            missed=missed,
        ),
    )
    click.echo(f"scheduled {made.name}: {made.pipeline} at '{made.cron}' (UTC)")
    click.echo(f"next occurrence {stamp(made.next_occurrence)} UTC")


@schedule.command("list")
@click.option("--project", help="Default: $SLIPWAY_PROJECT, else default.")
@click.pass_context
def schedule_list(ctx: click.Context, project: str | None) -> None:
    """List schedules with their last and next occurrence."""
    from rich.table import Table

    found = client(ctx).call("list_schedules", project=_project(project)).schedules
    table = Table(
        "name", "pipeline", "cron (UTC)", "params", "executor", "missed", "state", "last", "next"
    )
    for item in found:
        table.add_row(
            item.name,
            item.pipeline,
            item.cron,
            ", ".join(f"{k}={v}" for k, v in item.params.items()),
            item.executor,
            item.missed,
            "paused" if item.paused else "active",
            stamp(item.last_occurrence),
            stamp(item.next_occurrence),
        )
    console().print(table)


def _set_paused(ctx: click.Context, name: str, project: str | None, paused: bool) -> None:
    from slipway.pipeline_runs.models import ScheduleUpdate

    client(ctx).call(
        "update_schedule", project=_project(project), name=name, body=ScheduleUpdate(paused=paused)
    )
    click.echo(f"{'paused' if paused else 'resumed'} schedule {name}")


@schedule.command("pause")
@click.argument("name")
@click.option("--project", help="Default: $SLIPWAY_PROJECT, else default.")
@click.pass_context
def schedule_pause(ctx: click.Context, name: str, project: str | None) -> None:
    """Pause schedule NAME; what falls due while paused is not run later."""
    _set_paused(ctx, name, project, True)


@schedule.command("resume")
@click.argument("name")
@click.option("--project", help="Default: $SLIPWAY_PROJECT, else default.")
@click.pass_context
def schedule_resume(ctx: click.Context, name: str, project: str | None) -> None:
    """Resume schedule NAME from its next occurrence."""
    _set_paused(ctx, name, project, False)


@schedule.command("remove")
@click.argument("name")
@click.option("--project", help="Default: $SLIPWAY_PROJECT, else default.")
@click.pass_context
def schedule_remove(ctx: click.Context, name: str, project: str | None) -> None:
    """Remove schedule NAME; the runs it started stay."""
    client(ctx).call("delete_schedule", project=_project(project), name=name)
    click.echo(f"removed schedule {name}")


@click.command()
@click.option(
    "--poll",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds between checks.",
)
@click.option("--once", is_flag=True, help="Start what is due now, then exit.")
@click.pass_context
def scheduler(ctx: click.Context, poll: float, once: bool) -> None:
    """Run due scheduled pipelines; start as many schedulers as you like, each occurrence
    runs once."""
    from slipway.pipelines._scheduler import serve, tick

    made = client(ctx)
    if once:
        started = tick(made, echo=click.echo)
        click.echo(f"started {started} occurrence(s)")
        return
    click.echo(f"scheduler running, checking every {poll:g} s (Ctrl-C stops it)")
    try:
        serve(made, poll_s=poll, echo=click.echo)
    except KeyboardInterrupt:
        click.echo("scheduler stopped")


# -- cost --------------------------------------------------------------------------------------


@click.group()
def cost() -> None:
    """What pipeline runs cost, from recorded resources and the [cost] price table."""


@cost.command("report")
@click.option("--project", help="Default: $SLIPWAY_PROJECT, else default.")
@click.option("--run", "run_id", help="Only this pipeline run, step by step.")
@click.option("--since", type=click.DateTime(), help="Only runs started since (UTC).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def cost_report(
    ctx: click.Context,
    project: str | None,
    run_id: str | None,
    since: datetime | None,
    as_json: bool,
) -> None:
    """Cost per step, per pipeline run and in total."""
    from rich.table import Table

    since_ms = int(since.replace(tzinfo=UTC).timestamp() * 1000) if since else None
    report = client(ctx).call(
        "cost_report", project=_project(project), run_id=run_id, since=since_ms
    )
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    money = _money(report.currency)
    prices = ", ".join(f"{k} {money(v)}" for k, v in report.prices.items())
    click.echo(f"project {report.project}; prices: {prices}")
    if run_id:
        table = Table("step", "cached", "duration", "cpu h", "mem GiB h", "gpu h", "cost")
        for line in report.steps:
            table.add_row(
                line.step,
                "yes" if line.cached else "",
                _seconds(line.duration_s),
                f"{line.cpu_hours:.6f}",
                f"{line.memory_gib_hours:.6f}",
                f"{line.gpu_hours:.4f}",
                money(line.cost),
            )
        console().print(table)
    runs_table = Table("run", "pipeline", "status", "started (UTC)", "cost")
    for entry in report.runs:
        runs_table.add_row(
            entry.pipeline_run_id,
            entry.pipeline,
            entry.status,
            stamp(entry.start_time),
            money(entry.cost),
        )
    console().print(runs_table)
    click.echo(f"total {money(report.total)} over {len(report.runs)} pipeline run(s)")


def _money(currency: str) -> Any:
    return lambda value: f"{value:.6f} {currency}"


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f} s"


def _bytes(value: int | None) -> str:
    if value is None:
        return ""
    return f"{value / 1024**2:.0f} MiB"
