"""`slipway schedule ...` and `slipway scheduler`: pipelines run on a cron."""

from __future__ import annotations

import click

from slipway.cli._common import client, console, stamp
from slipway.cli._pipelines import EXECUTORS, parse_params, project_name


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
    from slipway.pipelines import load_pipeline
    from slipway.services.pipeline_runs.schemas import ScheduleCreate

    found = load_pipeline(ref)
    values = found.params(parse_params(params))
    found.build(**values)  # refuse a schedule whose graph cannot be built now
    made = client(ctx).call(
        "create_schedule",
        project=project_name(ctx, project),
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

    found = client(ctx).call("list_schedules", project=project_name(ctx, project)).schedules
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
    from slipway.services.pipeline_runs.schemas import ScheduleUpdate

    client(ctx).call(
        "update_schedule",
        project=project_name(ctx, project),
        name=name,
        body=ScheduleUpdate(paused=paused),
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
    client(ctx).call("delete_schedule", project=project_name(ctx, project), name=name)
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
    from slipway.pipelines.scheduler import serve, tick

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
