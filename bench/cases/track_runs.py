"""`track_runs`: create and finish many small runs (10 params, 10 metrics each) vs MLflow."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cases._common import Anchor, Case, Options, Row, check_output
from cases._servers import mlflow_server, slipway_server
from cases._tracking import (
    CHILDREN,
    MLFLOW,
    SLIPWAY,
    Tool,
    at_least,
    child_env,
    measure,
    median_per_item,
    rates,
    require_mlflow,
)

TARGET_FACTOR = 10


@dataclass(frozen=True)
class Sizes:
    slipway: int
    capture: int  # Slipway runs with capture=True
    mlflow_direct: int
    mlflow_http: int


FULL = Sizes(slipway=1_000, capture=1_000, mlflow_direct=1_000, mlflow_http=200)
QUICK = Sizes(slipway=100, capture=100, mlflow_direct=100, mlflow_http=20)


def run(options: Options) -> list[Row]:
    require_mlflow()
    sizes = QUICK if options.quick else FULL
    work, env = options.work, child_env()
    project = training_project(work / "project")
    stores = work / "stores"

    def child(tool: Tool, target: str, n: int, *extra: str) -> dict[str, Any]:
        args = ["--n", str(n), *extra]
        return measure(tool, target, "runs", *args, cwd=project, children=project)

    results: dict[str, dict[str, Any]] = {
        "direct": child(SLIPWAY, str(stores / "slipway" / ".slipway"), sizes.slipway),
        "capture": child(
            SLIPWAY, str(stores / "slipway-capture" / ".slipway"), sizes.capture, "--capture"
        ),
    }
    with slipway_server(stores / "slipway-server" / ".slipway", env) as s_server:
        results["http"] = child(SLIPWAY, s_server.url, sizes.slipway)
    (stores / "mlflow-direct").mkdir()
    db = f"sqlite:///{stores / 'mlflow-direct' / 'mlflow.db'}"
    results["mlflow direct"] = child(MLFLOW, db, sizes.mlflow_direct)
    with mlflow_server(stores / "mlflow-server", env) as m_server:
        results["mlflow http"] = child(MLFLOW, m_server.url, sizes.mlflow_http)
    return rows(results, s_server.command, m_server.command)


def training_project(folder: Path) -> Path:
    """A one-commit git repository holding the child scripts, as a user's project would.

    Both tools look at git when a run starts (Slipway with capture=True: commit, branch, dirty
    state, diff digest; MLflow always: commit, branch, remote of the script's repository). The
    stores live outside it, so its working tree stays clean.
    """
    folder.mkdir(parents=True)
    for script in CHILDREN.glob("*.py"):
        shutil.copy2(script, folder / script.name)
    (folder / ".gitignore").write_text("__pycache__/\n")
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    check_output([*git, "init", "-q", "-b", "main"], cwd=folder)
    check_output([*git, "add", "."], cwd=folder)
    check_output([*git, "commit", "-q", "-m", "training project"], cwd=folder)
    return folder


def rows(results: dict[str, dict[str, Any]], s_server: str, m_server: str) -> list[Row]:
    direct_value = median_per_item([results["mlflow direct"]], 1e3)
    http_value = median_per_item([results["mlflow http"]], 1e3)
    loop = (
        "per run: start it, log 10 params and 10 metrics (one call each), end it as finished; "
        "the loop timed in a fresh child process (cwd: a one-commit git repository holding the "
        "script), one child"
    )
    slipway_how = (
        "`with sw.start_run(project, name, capture={capture}) as run: "
        "run.log_params(…); run.log_metrics(…)`"
    )
    mlflow_how = "`with mlflow.start_run(run_name=…): mlflow.log_params(…); mlflow.log_metrics(…)`"
    mlflow_direct = Anchor(
        "mlflow direct (sqlite)",
        direct_value,
        f"`mlflow_track.py sqlite:///…/mlflow.db runs`: {mlflow_how} x"
        f"{results['mlflow direct']['count']:,}, fresh database; {loop}; "
        + rates([results["mlflow direct"]], "runs"),
    )
    mlflow_http = Anchor(
        "mlflow over HTTP",
        http_value,
        f"`mlflow_track.py http://127.0.0.1:PORT runs` against `{m_server}`: {mlflow_how} x"
        f"{results['mlflow http']['count']:,}; {loop}; " + rates([results["mlflow http"]], "runs"),
    )
    git_seen = (
        f"git commit each tool recorded: slipway {results['capture'].get('git_commit')}, "
        f"mlflow {results['mlflow direct'].get('git_commit')} (MLflow resolves git once per "
        "process; Slipway's capture runs git at most every 2 s and lists packages once per "
        "process, then stores that list as an artifact of every run)"
    )

    def row(key: str, label: str, where: str, anchor: Anchor, notes: tuple[str, ...]) -> Row:
        result = results[key]
        capture = key == "capture"
        return Row(
            case="track_runs",
            metric=f"runs with 10 params + 10 metrics, {label}: time per run",
            unit="ms",
            slipway=median_per_item([result], 1e3),
            source=f"{where}: {slipway_how.format(capture=capture)} x{result['count']:,}; "
            f"{loop}; " + rates([result], "runs"),
            anchors=(anchor,),
            target=at_least(TARGET_FACTOR, anchor.value, anchor.name.split(" (")[0]),
            notes=notes,
        )

    partial = "MLflow measured on {n:,} runs, not {total:,}, reported as a rate"
    http_notes: tuple[str, ...] = ()
    if results["mlflow http"]["count"] < results["http"]["count"]:
        http_notes = (
            partial.format(n=results["mlflow http"]["count"], total=results["http"]["count"]),
        )
    return [
        row(
            "direct",
            "capture=False, direct (embedded / sqlite)",
            "`slipway_track.py WORKSPACE runs`, fresh embedded workspace",
            mlflow_direct,
            (),
        ),
        row(
            "http",
            "capture=False, over HTTP (local server)",
            f"`slipway_track.py http://127.0.0.1:PORT runs` against `{s_server}`",
            mlflow_http,
            http_notes,
        ),
        row(
            "capture",
            "capture=True (the default), direct",
            "`slipway_track.py WORKSPACE runs --capture`, fresh embedded workspace",
            mlflow_direct,
            (git_seen,),
        ),
    ]


CASE = Case(
    name="track_runs",
    summary=(
        "1,000 runs (100 with --quick), each started, given 10 params and 10 metrics, and "
        "finished: Slipway (capture off and on) vs MLflow's fluent API, direct and over HTTP"
    ),
    run=run,
)
