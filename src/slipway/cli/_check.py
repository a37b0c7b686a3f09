"""`slipway check`: every model's promotion gates, for CI; nothing moves.

Exit status: 0 when every checked candidate passes, 1 when a rule fails (or a model of the
gates file has no version to check), 2 on bad input (an invalid gates file, an unknown
--model). `--junit FILE` writes the results as JUnit XML, which CI systems show per rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from slipway.cli._common import console
from slipway.cli._model_gates import print_report, shown
from slipway.cli._model_options import PROJECT, models

if TYPE_CHECKING:
    from slipway.models import GateReport


@click.command()
@click.option(
    "--gates",
    "gates_file",
    type=click.Path(dir_okay=False),
    help="Gates file (default: the nearest slipway.gates.yaml up from here).",
)
@click.option("--junit", type=click.Path(dir_okay=False), help="Also write JUnit XML here.")
@click.option("--model", "only", multiple=True, help="Check only this model (repeatable).")
@click.option(
    "--candidate",
    "candidates",
    multiple=True,
    help="NAME@vN (or NAME@ALIAS) to check instead of NAME's latest version (repeatable).",
)
@PROJECT
@click.pass_context
def check(
    ctx: click.Context,
    gates_file: str | None,
    junit: str | None,
    only: tuple[str, ...],
    candidates: tuple[str, ...],
    project: str | None,
) -> None:
    """Check each model's candidate against its gates; exit 1 if any rule fails."""
    from slipway.errors import Conflict, NotFound
    from slipway.refs import parse_model_ref

    sdk = models(ctx)
    gates = sdk.gates(gates_file)
    unknown = [name for name in only if name not in gates.models]
    if unknown:
        raise click.UsageError(f"{gates.path} has no gates for {', '.join(unknown)}")
    picked: dict[str, str] = {}
    for ref in candidates:
        try:
            name = parse_model_ref(ref)[0]
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        if name not in gates.models or (only and name not in only):
            raise click.UsageError(f"--candidate {ref}: no gates for {name!r} are being checked")
        picked[name] = ref
    results: list[tuple[str, GateReport | str]] = []
    for name in only or tuple(gates.models):
        ref = picked.get(name, name)  # NAME: its latest active version
        try:
            results.append((name, sdk.check(ref, gates_file=gates, project=project)))
        except (NotFound, Conflict) as exc:  # no version to check: this model fails
            results.append((name, f"{ref}: {exc.detail}"))
    for name, outcome in results:
        if isinstance(outcome, str):
            console().print(f"[red]ERROR[/red] {name}: {outcome}", highlight=False)
        else:
            print_report(outcome)
    if junit:
        write_junit(Path(junit), results, gates.source)
    failed = [n for n, o in results if isinstance(o, str) or not o.passed]
    total = len(results)
    if failed:
        click.echo(f"{len(failed)} of {total} models failed their gates: {', '.join(failed)}")
        raise click.exceptions.Exit(1)
    click.echo(f"all {total} models pass their gates")


def write_junit(path: Path, results: list[tuple[str, GateReport | str]], source: str) -> None:
    """One testsuite per model, one testcase per rule; a failed rule is a <failure>, a model
    that could not be checked an <error>."""
    import xml.etree.ElementTree as ET

    suites = ET.Element("testsuites", name="slipway gates")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for name, outcome in results:
        suite = ET.SubElement(suites, "testsuite", name=name)
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="gates", value=source)
        if isinstance(outcome, str):
            case = ET.SubElement(suite, "testcase", name="candidate", classname=f"gates.{name}")
            ET.SubElement(case, "error", message=outcome, type="CheckError").text = outcome
            counts = {"tests": 1, "failures": 0, "errors": 1}
        else:
            ET.SubElement(props, "property", name="candidate", value=outcome.model)
            ET.SubElement(props, "property", name="alias", value=outcome.alias)
            ET.SubElement(props, "property", name="current", value=outcome.current or "")
            for r in outcome.results:
                case = ET.SubElement(suite, "testcase", name=r.rule, classname=f"gates.{name}")
                case.set("time", "0")
                detail = f"observed: {shown(r.observed)}; threshold: {shown(r.threshold)}"
                if not r.passed:
                    failure = ET.SubElement(case, "failure", message=r.message, type="GateFailed")
                    failure.text = detail
                ET.SubElement(case, "system-out").text = f"{r.message} ({detail})"
            failures = len(outcome.failures)
            counts = {"tests": len(outcome.results), "failures": failures, "errors": 0}
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("skipped", "0")
    for key, value in totals.items():
        suites.set(key, str(value))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
