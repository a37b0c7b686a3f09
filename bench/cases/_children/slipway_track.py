"""One Slipway tracking measurement in a fresh process; prints its result as JSON on stdout.

    .venv/bin/python slipway_track.py TARGET COMMAND [--n N] [...]

TARGET is a workspace folder (`…/.slipway`, embedded mode) or `http://127.0.0.1:PORT` (remote
mode). Only the measured work is timed: from the first call until the data is durable
(`flush()` returned, or the synchronous call returned). With BENCH_PROFILE=FILE set, the timed
work runs under cProfile (main thread only) and the stats are written to FILE.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _data import FILTER, KEYS, START_MS, run_values
from _timing import check, dump_profile, time_search, timed
from sqlalchemy import Engine, event

import slipway as sw
from slipway.client import Client, EmbeddedBackend
from slipway.services.runs.schemas import MetricColumns


def connect(target: str) -> Client:
    if target.startswith("http"):
        return sw.connect(server=target)
    return sw.connect(workspace=target)


def log_metric(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    """`run.log_metric` N times in one run, then `run.flush()`: the SDK batches in a thread."""
    result: dict[str, Any] = {"count": args.n}
    with sw.start_run(project="bench", name="log-metric", capture=False) as run:
        with timed(result):
            for i in range(args.n):
                run.log_metric("loss", i * 0.001, step=i)
            run.flush()
        run_id = run.id
    stored = client.runs.metric_history(run_id, "loss")
    check(len(stored) == args.n, f"{len(stored)} points stored, {args.n} logged")
    return result


def log_batch(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    """`client.runs.log_batch` with `args.batch` points per call (synchronous)."""
    result: dict[str, Any] = {"count": args.n}
    run = client.runs.create("bench", name="log-batch")
    now = int(time.time() * 1000)
    with timed(result):
        for first in range(0, args.n, args.batch):
            steps = list(range(first, min(first + args.batch, args.n)))
            columns = MetricColumns(
                keys=["loss"] * len(steps),
                values=[step * 0.001 for step in steps],
                steps=steps,
                timestamps=[now] * len(steps),
            )
            client.runs.log_batch(run.id, metrics=columns)
    client.runs.update(run.id, status="finished")
    stored = client.runs.metric_history(run.id, "loss")
    check(len(stored) == args.n, f"{len(stored)} points stored, {args.n} logged")
    return result


def runs(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    """N runs, each started, given 10 params and 10 metrics, and ended (finished)."""
    result: dict[str, Any] = {"count": args.n}
    with timed(result):
        for i in range(args.n):
            metrics, params = run_values(i)
            with sw.start_run(project="bench", name=f"run-{i}", capture=args.capture) as run:
                run.log_params(params)
                run.log_metrics(metrics, step=0)
    page = client.runs.search(["bench"], "attributes.status = 'finished'", max_results=10_000)
    check(len(page.runs) == args.n, f"{len(page.runs)} finished runs, {args.n} started")
    last = page.runs[0]
    check(len(last.params) == KEYS and len(last.metrics) == KEYS, f"run stored as {last}")
    if args.capture:
        check("slipway.packages.hash" in last.tags, "capture=True recorded no package hash")
        result["git_commit"] = last.tags.get("slipway.git.commit")
    return result


def populate(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    """N runs through the public API: `runs.create` then one `runs.log_batch` each."""
    result: dict[str, Any] = {"count": args.n}
    with timed(result):
        for i in range(args.n):
            metrics, params = run_values(i)
            run = client.runs.create(args.project, name=f"run-{i}", start_time=START_MS + i)
            columns = MetricColumns(
                keys=list(metrics),
                values=list(metrics.values()),
                steps=[0] * KEYS,
                timestamps=[START_MS + i] * KEYS,
            )
            client.runs.log_batch(run.id, metrics=columns, params=params)
    return result


def populate_core(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    """N runs written as rows with SQLAlchemy Core into the workspace DB (slipway.store.schema).

    The rows `runs.create` + `runs.log_batch` leave (runs, params, metric series and
    latest_metrics), minus the audit events; used where the API would take too long. The
    INSERTs are compiled from the schema's tables and run as one executemany per table and
    chunk, with plain tuples (SQLAlchemy's per-row parameter processing would double the time).
    """
    import uuid

    from sqlalchemy import Table, create_engine, insert

    from slipway.config import load_settings
    from slipway.store import schema

    check(not args.target.startswith("http"), "populate-core needs a workspace, not a server")
    project = client.create_project(args.project)
    engine = create_engine(load_settings(Path(args.target)).metadata_url)
    run_cols = ("id", "project_id", "name", "status", "created_by", "start_time")
    param_cols = ("run_id", "key", "value")
    metric_cols = ("run_id", "key", "value", "is_nan", "step", "timestamp")

    def sql(table: Table, columns: tuple[str, ...]) -> str:
        return str(insert(table).compile(dialect=engine.dialect, column_keys=list(columns)))

    result: dict[str, Any] = {"count": args.n}
    chunk = 10_000
    with timed(result), engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA cache_size = -262144")  # 256 MiB: random-key indexes
        for first in range(0, args.n, chunk):
            run_rows: list[tuple[Any, ...]] = []
            param_rows: list[tuple[Any, ...]] = []
            metric_rows: list[tuple[Any, ...]] = []
            for i in range(first, min(first + chunk, args.n)):
                run_id, at = uuid.uuid4().hex, START_MS + i
                metrics, params = run_values(i)
                run_rows.append((run_id, project.id, f"run-{i}", "running", "bench", at))
                param_rows += [(run_id, k, v) for k, v in params.items()]
                metric_rows += [(run_id, k, v, 0, 0, at) for k, v in metrics.items()]
            conn.exec_driver_sql(sql(schema.runs, run_cols), run_rows)
            conn.exec_driver_sql(sql(schema.params, param_cols), param_rows)
            conn.exec_driver_sql(sql(schema.metrics, metric_cols), metric_rows)
            conn.exec_driver_sql(sql(schema.latest_metrics, metric_cols), metric_rows)
    engine.dispose()
    return result


def search(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    """`client.runs.search` with FILTER, max_results=100: 1 warm-up, then `repeat` timed."""

    def once() -> int:
        return len(client.runs.search([args.project], FILTER, max_results=100).runs)

    result = time_search(once, runs=args.n, repeat=args.repeat)
    if isinstance(client.backend, EmbeddedBackend):
        result["raw_sql"] = time_raw_sql(client.backend.ctx.store.engine, once, args.repeat)
    return result


def time_raw_sql(engine: Engine, once: Callable[[], int], repeat: int) -> dict[str, Any]:
    """The statements one search sends (caught with SQLAlchemy's `before_cursor_execute`
    event), replayed through the `sqlite3` module on a connection of its own (with the memory
    map Slipway's connections use), fetching every row: the database's share of a search,
    without the layers above it."""
    sent: list[tuple[str, Any]] = []

    def catch(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", catch)
    try:
        once()
    finally:
        event.remove(engine, "before_cursor_execute", catch)
    queries = [(sql, params) for sql, params in sent if sql.lstrip().upper().startswith("SELECT")]
    with engine.connect() as conn:  # read with the same memory map as Slipway's connections
        mmap_size = int(conn.exec_driver_sql("PRAGMA mmap_size").scalar_one())
    database = sqlite3.connect(str(engine.url.database))
    database.execute(f"PRAGMA mmap_size={mmap_size}")
    try:

        def replay() -> int:
            return sum(len(database.execute(sql, params).fetchall()) for sql, params in queries)

        replay()  # warm-up, as for the search
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            replay()
            times.append(time.perf_counter() - start)
    finally:
        database.close()
    return {"seconds": statistics.median(times), "runs": times, "statements": len(queries)}


COMMANDS = {
    "log-metric": log_metric,
    "log-batch": log_batch,
    "runs": runs,
    "populate": populate,
    "populate-core": populate_core,
    "search": search,
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target")
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--capture", action="store_true")
    parser.add_argument("--project", default="search")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    client = connect(args.target)
    result = COMMANDS[args.command](client, args)
    dump_profile()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
