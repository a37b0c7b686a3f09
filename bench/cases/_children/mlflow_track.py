"""One MLflow tracking measurement in a fresh process; prints its result as JSON on stdout.

    .venv-anchors/bin/python mlflow_track.py TRACKING_URI COMMAND [--n N] [...]

TRACKING_URI is `sqlite:///…/mlflow.db` (direct) or `http://127.0.0.1:PORT` (an `mlflow
server`). MLflow's calls are synchronous: when one returns, its data is committed. Only the
measured work is timed. With BENCH_PROFILE=FILE set, the timed work runs under cProfile and the
stats are written to FILE.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import mlflow
from _data import FILTER, KEYS, START_MS, run_values
from _timing import check, dump_profile, time_search, timed
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunStatus


def log_metric(client: MlflowClient, args: argparse.Namespace) -> dict[str, Any]:
    """`mlflow.log_metric` N times in one run (each call writes and commits)."""
    result: dict[str, Any] = {"count": args.n}
    mlflow.set_experiment("bench")
    with mlflow.start_run(run_name="log-metric") as run:
        with timed(result):
            for i in range(args.n):
                mlflow.log_metric("loss", i * 0.001, step=i)
        run_id = run.info.run_id
    stored = client.get_metric_history(run_id, "loss")
    check(len(stored) == args.n, f"{len(stored)} points stored, {args.n} logged")
    return result


def log_batch(client: MlflowClient, args: argparse.Namespace) -> dict[str, Any]:
    """`MlflowClient().log_batch` with `args.batch` metrics per call (1,000 is its limit)."""
    result: dict[str, Any] = {"count": args.n}
    experiment = mlflow.set_experiment("bench")
    run_id = client.create_run(experiment.experiment_id, run_name="log-batch").info.run_id
    now = int(time.time() * 1000)
    with timed(result):
        for first in range(0, args.n, args.batch):
            steps = range(first, min(first + args.batch, args.n))
            client.log_batch(run_id, metrics=[Metric("loss", s * 0.001, now, s) for s in steps])
    client.set_terminated(run_id)
    stored = client.get_metric_history(run_id, "loss")
    check(len(stored) == args.n, f"{len(stored)} points stored, {args.n} logged")
    return result


def runs(client: MlflowClient, args: argparse.Namespace) -> dict[str, Any]:
    """N runs with the fluent API: start, log 10 params and 10 metrics, end (FINISHED)."""
    result: dict[str, Any] = {"count": args.n}
    experiment = mlflow.set_experiment("bench")
    with timed(result):
        for i in range(args.n):
            metrics, params = run_values(i)
            with mlflow.start_run(run_name=f"run-{i}"):
                mlflow.log_params(params)
                mlflow.log_metrics(metrics, step=0)
    found = client.search_runs(
        [experiment.experiment_id], "attributes.status = 'FINISHED'", max_results=50_000
    )
    check(len(found) == args.n, f"{len(found)} finished runs, {args.n} started")
    last = found[0]
    check(
        len(last.data.params) == KEYS and len(last.data.metrics) == KEYS,
        f"run stored as {last.data}",
    )
    result["git_commit"] = last.data.tags.get("mlflow.source.git.commit")
    check(last.info.status == RunStatus.to_string(RunStatus.FINISHED), "run not finished")
    return result


def populate(client: MlflowClient, args: argparse.Namespace) -> dict[str, Any]:
    """Runs number `first` to `first + n - 1`, MLflow's fastest public way: `create_run`
    then one `log_batch` each. The experiment is created if missing (`--n 0` does only that)."""
    result: dict[str, Any] = {"count": args.n}
    found = client.get_experiment_by_name(args.project)
    experiment_id = found.experiment_id if found else client.create_experiment(args.project)
    with timed(result):
        for i in range(args.first, args.first + args.n):
            metrics, params = run_values(i)
            at = START_MS + i
            run = client.create_run(experiment_id, start_time=at, run_name=f"run-{i}")
            client.log_batch(
                run.info.run_id,
                metrics=[Metric(k, v, at, 0) for k, v in metrics.items()],
                params=[Param(k, v) for k, v in params.items()],
            )
    return result


def search(client: MlflowClient, args: argparse.Namespace) -> dict[str, Any]:
    """`MlflowClient().search_runs` with FILTER, max_results=100: 1 warm-up, `repeat` timed."""
    experiment = client.get_experiment_by_name(args.project)
    check(experiment is not None, f"no experiment {args.project!r}")
    ids = [experiment.experiment_id]

    def once() -> int:
        return len(client.search_runs(ids, filter_string=FILTER, max_results=100))

    return time_search(once, runs=args.n, repeat=args.repeat)


COMMANDS = {
    "log-metric": log_metric,
    "log-batch": log_batch,
    "runs": runs,
    "populate": populate,
    "search": search,
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tracking_uri")
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--project", default="search")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    mlflow.set_tracking_uri(args.tracking_uri)
    result = COMMANDS[args.command](MlflowClient(), args)
    dump_profile()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
