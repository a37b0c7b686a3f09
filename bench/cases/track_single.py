"""`track_single`: single `log_metric` calls in one run, direct and over HTTP, vs MLflow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cases._common import Anchor, Case, Options, Row
from cases._servers import Server, mlflow_server, slipway_server
from cases._tracking import (
    MLFLOW,
    SLIPWAY,
    at_least,
    child_env,
    children,
    duration,
    measure,
    median_per_item,
    rates,
    require_mlflow,
)

DURABILITY = (
    "durability differs: Slipway's SQLite runs in WAL mode with synchronous=NORMAL (a "
    "commit survives a crash of the process; a power cut can lose the commits since the last "
    "checkpoint), MLflow's keeps SQLite's defaults (rollback journal, synchronous=FULL: an "
    "fsync per commit, and MLflow commits every call)"
)


@dataclass(frozen=True)
class Sizes:
    slipway: int
    mlflow_direct: int
    mlflow_http: int
    repetitions: int  # of each Slipway measurement; MLflow's run once (they take minutes)


FULL = Sizes(slipway=10_000, mlflow_direct=2_000, mlflow_http=1_000, repetitions=3)
QUICK = Sizes(slipway=1_000, mlflow_direct=200, mlflow_http=100, repetitions=1)


def run(options: Options) -> list[Row]:
    require_mlflow()
    sizes = QUICK if options.quick else FULL
    work, env = options.work, child_env()
    n = ["--n", str(sizes.slipway)]
    direct = [
        measure(SLIPWAY, str(work / f"slipway-{i}" / ".slipway"), "log-metric", *n, cwd=work)
        for i in range(sizes.repetitions)
    ]
    with slipway_server(work / "slipway-server" / ".slipway", env) as s_server:
        http = [
            measure(SLIPWAY, s_server.url, "log-metric", *n, cwd=work)
            for _ in range(sizes.repetitions)
        ]
    (work / "mlflow-direct").mkdir()
    m_direct = measure(
        MLFLOW,
        f"sqlite:///{work / 'mlflow-direct' / 'mlflow.db'}",
        "log-metric",
        *["--n", str(sizes.mlflow_direct)],
        cwd=work,
    )
    with mlflow_server(work / "mlflow-server", env) as m_server:
        m_http = measure(
            MLFLOW, m_server.url, "log-metric", "--n", str(sizes.mlflow_http), cwd=work
        )
    return rows(sizes, direct, http, m_direct, m_http, s_server, m_server)


def rows(
    sizes: Sizes,
    direct: list[dict[str, Any]],
    http: list[dict[str, Any]],
    m_direct: dict[str, Any],
    m_http: dict[str, Any],
    s_server: Server,
    m_server: Server,
) -> list[Row]:
    reps = sizes.repetitions
    slipway_how = (
        f"`run.log_metric('loss', v, step=i)` x{sizes.slipway:,} in one run, then "
        "`run.flush()` (returns once all is committed); timed in a fresh child process from "
        f"the first call until flush() returned; {children(reps)}"
    )
    mlflow_how = "`mlflow.log_metric('loss', v, step=i)` x{n:,} in one run (each call commits)"
    extrapolated = (
        "MLflow measured on {n:,} calls, not {total:,} (they would take {time}), reported as a rate"
    )
    direct_value = median_per_item([m_direct], 1e6)
    http_value = median_per_item([m_http], 1e6)
    return [
        Row(
            case="track_single",
            metric="single `log_metric` calls, direct (embedded / sqlite): time per call",
            unit="µs",
            slipway=median_per_item(direct, 1e6),
            source=(
                f"`slipway_track.py WORKSPACE log-metric`: {slipway_how}, each in a fresh "
                f"embedded workspace; {rates(direct, 'calls')}"
            ),
            anchors=(
                Anchor(
                    "mlflow direct (sqlite)",
                    direct_value,
                    f"`mlflow_track.py sqlite:///…/mlflow.db log-metric`: "
                    f"{mlflow_how.format(n=sizes.mlflow_direct)}, fresh database; "
                    f"{rates([m_direct], 'calls')}",
                ),
            ),
            target=at_least(100, direct_value, "mlflow direct"),
            notes=(
                extrapolated.format(
                    n=sizes.mlflow_direct,
                    total=sizes.slipway,
                    time=duration(sizes.slipway * m_direct["seconds"] / m_direct["count"]),
                ),
                DURABILITY,
            ),
        ),
        Row(
            case="track_single",
            metric="single `log_metric` calls, over HTTP (local server): time per call",
            unit="µs",
            slipway=median_per_item(http, 1e6),
            source=(
                f"`slipway_track.py http://127.0.0.1:PORT log-metric` against "
                f"`{s_server.command}`: {slipway_how}, one server; {rates(http, 'calls')}"
            ),
            anchors=(
                Anchor(
                    "mlflow over HTTP",
                    http_value,
                    f"`mlflow_track.py http://127.0.0.1:PORT log-metric` against "
                    f"`{m_server.command}`: {mlflow_how.format(n=sizes.mlflow_http)}; "
                    f"{rates([m_http], 'calls')}",
                ),
            ),
            target=at_least(1000, http_value, "mlflow over HTTP"),
            notes=(
                extrapolated.format(
                    n=sizes.mlflow_http,
                    total=sizes.slipway,
                    time=duration(sizes.slipway * m_http["seconds"] / m_http["count"]),
                ),
                "Slipway's SDK sends the points in batches from a background thread; MLflow's "
                "fluent API makes one HTTP request per call",
                f"server start until its health check answered: slipway {s_server.startup_s:.1f}"
                f" s, mlflow {m_server.startup_s:.1f} s (mlflow server run with --workers 1 and "
                "MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false)",
            ),
        ),
    ]


CASE = Case(
    name="track_single",
    summary=(
        "10,000 single `log_metric` calls in one run (1,000 with --quick), until durable: "
        "Slipway direct and over HTTP vs MLflow direct (sqlite) and over HTTP"
    ),
    run=run,
)
