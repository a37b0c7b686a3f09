"""`track_batch`: 100,000 metric points in one run, batched, direct and over HTTP, vs MLflow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cases._common import Anchor, Case, Options, Row
from cases._servers import mlflow_server, slipway_server
from cases._tracking import (
    MLFLOW,
    SLIPWAY,
    at_least,
    child_env,
    children,
    measure,
    median_per_item,
    rates,
    require_mlflow,
)
from cases.track_single import DURABILITY

BATCH = 1_000  # points per call: MLflow's limit for log_batch


@dataclass(frozen=True)
class Sizes:
    points: int
    repetitions: int  # of each Slipway measurement; MLflow's run once


FULL = Sizes(points=100_000, repetitions=3)
QUICK = Sizes(points=10_000, repetitions=1)

SLIPWAY_COMMANDS = {"slipway sdk": "log-metric", "slipway batch": "log-batch"}
Results = dict[str, list[dict[str, Any]]]  # "slipway sdk" / "slipway batch" / "mlflow" -> runs


def run(options: Options) -> list[Row]:
    require_mlflow()
    sizes = QUICK if options.quick else FULL
    work, env = options.work, child_env()
    n = ["--n", str(sizes.points), "--batch", str(BATCH)]
    direct: Results = {}
    http: Results = {}
    for i in range(sizes.repetitions):  # a fresh embedded workspace for each measurement
        for key, cmd in SLIPWAY_COMMANDS.items():
            target = str(work / f"slipway-{i}-{cmd}" / ".slipway")
            direct.setdefault(key, []).append(measure(SLIPWAY, target, cmd, *n, cwd=work))
    with slipway_server(work / "slipway-server" / ".slipway", env) as s_server:
        for _ in range(sizes.repetitions):
            for key, cmd in SLIPWAY_COMMANDS.items():
                http.setdefault(key, []).append(measure(SLIPWAY, s_server.url, cmd, *n, cwd=work))
    (work / "mlflow-direct").mkdir()
    db = f"sqlite:///{work / 'mlflow-direct' / 'mlflow.db'}"
    direct["mlflow"] = [measure(MLFLOW, db, "log-batch", *n, cwd=work)]
    with mlflow_server(work / "mlflow-server", env) as m_server:
        http["mlflow"] = [measure(MLFLOW, m_server.url, "log-batch", *n, cwd=work)]
    direct_where = Where(
        "direct (embedded / sqlite)",
        "`slipway_track.py WORKSPACE {cmd}`, a fresh embedded workspace each",
        "`mlflow_track.py sqlite:///…/mlflow.db log-batch`, fresh database",
        (DURABILITY,),
    )
    http_where = Where(
        "over HTTP (local server)",
        f"`slipway_track.py http://127.0.0.1:PORT {{cmd}}` against `{s_server.command}`",
        f"`mlflow_track.py http://127.0.0.1:PORT log-batch` against `{m_server.command}`",
    )
    return [*rows(sizes, direct, direct_where), *rows(sizes, http, http_where)]


@dataclass(frozen=True)
class Where:
    mode: str
    slipway: str  # how Slipway was reached, with {cmd} for the child command
    mlflow: str
    notes: tuple[str, ...] = ()


def rows(sizes: Sizes, results: Results, where: Where) -> list[Row]:
    points, reps = sizes.points, sizes.repetitions
    anchor_value = median_per_item(results["mlflow"], 1e6)
    anchor = Anchor(
        f"mlflow log_batch {where.mode.split(' (')[0]}",
        anchor_value,
        f"{where.mlflow}: `MlflowClient().log_batch(run_id, metrics=[Metric(…) x{BATCH:,}])` "
        f"x{points // BATCH:,} (synchronous: committed when it returns), one run; "
        f"{rates(results['mlflow'], 'points')}",
    )
    timing = f"timed in a fresh child process from the first call until durable; {children(reps)}"
    variants = {
        "slipway sdk": (
            "`run.log_metric` (SDK batching)",
            "log-metric",
            f"`run.log_metric('loss', v, step=i)` x{points:,} in one run, then `run.flush()` "
            "(the SDK's writer thread sends up to 10,000 points per batch)",
        ),
        "slipway batch": (
            "explicit `runs.log_batch`",
            "log-batch",
            f"`client.runs.log_batch(run_id, metrics=MetricColumns(…))` with {BATCH:,} points "
            f"per call, x{points // BATCH:,} (synchronous)",
        ),
    }
    out = []
    for key, (label, cmd, how) in variants.items():
        out.append(
            Row(
                case="track_batch",
                metric=f"{points:,} points, {label}, {where.mode}: time per point",
                unit="µs",
                slipway=median_per_item(results[key], 1e6),
                source=f"{where.slipway.format(cmd=cmd)}: {how}; {timing}; "
                + rates(results[key], "points"),
                anchors=(anchor,),
                target=at_least(10, anchor_value, "mlflow"),
                notes=where.notes if key == "slipway sdk" else (),
            )
        )
    return out


CASE = Case(
    name="track_batch",
    summary=(
        f"100,000 metric points in one run (10,000 with --quick), in batches of {BATCH:,}: "
        "Slipway's SDK batching and explicit log_batch vs MLflow's log_batch, direct and over HTTP"
    ),
    run=run,
)
