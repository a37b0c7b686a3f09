"""`slipway cost report`: what pipeline runs cost."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from slipway.cli._common import client, console, stamp
from slipway.cli._pipelines import project_name, seconds_text


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
        "cost_report", project=project_name(ctx, project), run_id=run_id, since=since_ms
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
                seconds_text(line.duration_s),
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
