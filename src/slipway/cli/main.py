"""`slipway` command line. Subcommands load lazily so `--help` never imports heavy libraries."""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

import click

from slipway.errors import SlipwayError

if TYPE_CHECKING:  # what COMMANDS names, for the type checker and import-linter
    from slipway.cli._check import check  # noqa: F401
    from slipway.cli._ci import ci  # noqa: F401
    from slipway.cli._cost import cost  # noqa: F401
    from slipway.cli._data import data  # noqa: F401
    from slipway.cli._models import model  # noqa: F401
    from slipway.cli._pipelines import pipeline  # noqa: F401
    from slipway.cli._projects import projects  # noqa: F401
    from slipway.cli._runs import runs  # noqa: F401
    from slipway.cli._schedules import schedule, scheduler  # noqa: F401
    from slipway.cli._server import db, server  # noqa: F401
    from slipway.cli._workspace import doctor, init  # noqa: F401

# command name -> "module:attribute", imported only when that command runs or shows help
COMMANDS = {
    "init": "slipway.cli._workspace:init",
    "doctor": "slipway.cli._workspace:doctor",
    "server": "slipway.cli._server:server",
    "db": "slipway.cli._server:db",
    "projects": "slipway.cli._projects:projects",
    "runs": "slipway.cli._runs:runs",
    "data": "slipway.cli._data:data",
    "model": "slipway.cli._models:model",
    "check": "slipway.cli._check:check",
    "ci": "slipway.cli._ci:ci",
    "pipeline": "slipway.cli._pipelines:pipeline",
    "schedule": "slipway.cli._schedules:schedule",
    "scheduler": "slipway.cli._schedules:scheduler",
    "cost": "slipway.cli._cost:cost",
}
SUMMARIES = {
    "init": "Create a workspace (.slipway/) in this folder.",
    "doctor": "Check the configured stores and show the settings.",
    "server": "Serve the REST API.",
    "db": "Metadata database schema: current, upgrade.",
    "projects": "Create, list, show and delete projects.",
    "runs": "List, show, compare, delete and reproduce runs.",
    "data": "Version datasets: add, status, checkout, diff, push, pull, gc, remote.",
    "model": "Model registry: list, versions, show, alias, history, archive, delete, lineage.",
    "check": "Check every model's promotion gates (slipway.gates.yaml), for CI.",
    "ci": "Write a CI workflow that runs `slipway check`.",
    "pipeline": "Pipelines: run, runs, show, resume.",
    "schedule": "Run pipelines on a cron: add, list, pause, resume, remove.",
    "scheduler": "Start scheduled pipelines as they fall due.",
    "cost": "Cost of pipeline runs from recorded resources: report.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Summaries come from a table, not from importing every command module.
        with formatter.section("Commands"):
            formatter.write_dl([(name, SUMMARIES[name]) for name in sorted(COMMANDS)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="slipway", prog_name="slipway")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.option(
    "--workspace",
    type=click.Path(file_okay=False),
    help="Workspace folder (default: nearest .slipway/, or $SLIPWAY_WORKSPACE).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, workspace: str | None) -> None:
    """Slipway: track runs, version data and models, gate promotions, run pipelines."""
    ctx.obj = {"debug": debug, "workspace": workspace}


def main(argv: list[str] | None = None) -> None:
    _main(argv)


def _main(argv: list[str] | None) -> None:
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        code: Any = cli.main(args=args, prog_name="slipway", standalone_mode=False)
    except SlipwayError as exc:
        if debug:
            raise
        click.echo(f"error: {exc.detail}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)",
            err=True,
        )
        sys.exit(70)
    sys.exit(code if isinstance(code, int) else 0)
