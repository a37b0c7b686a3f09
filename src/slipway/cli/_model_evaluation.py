"""`slipway model evaluate`, `evaluations` and `to-onnx`: scoring a version on labelled data
here and keeping the result, and converting a scikit-learn version to ONNX."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from slipway.cli._common import stamp
from slipway.cli._model_options import PROJECT, models, registry

if TYPE_CHECKING:
    from slipway.models import Evaluation


@click.command()
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
    found = models(ctx).evaluate(
        ref, data, target=target, task=task, slices=slices, project=project
    )
    _print_evaluation(found)


@click.command()
@click.argument("ref")
@PROJECT
@click.pass_context
def evaluations(ctx: click.Context, ref: str, project: str | None) -> None:
    """The evaluations kept with a version, newest first."""
    kept = registry(ctx).evaluations(ref, project=project)
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


@click.command("to-onnx")
@click.argument("ref")
@click.option("--name", default=None, help="Register under this model (default: REF's model).")
@PROJECT
@click.pass_context
def to_onnx(ctx: click.Context, ref: str, name: str | None, project: str | None) -> None:
    """Convert a scikit-learn version to ONNX, checked to predict the same, as a new version."""
    made = models(ctx).to_onnx(ref, name=name, project=project)
    click.echo(f"{made.ref}  (onnx, converted from {made.tags.get('converted_from', ref)})")
