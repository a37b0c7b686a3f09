"""`track_search`: a metric-and-param filter over 10,000 runs vs MLflow, and over 100,000.

Slipway leaves the plan to the database: on SQLite the param's `=` reads its runs from the
(key, value) index and the metric's `>` probes each run's latest value, and SQLite picks
between walking the project's runs newest first (stopping once a page is full) and starting
from the param's runs, by the statistics `ANALYZE` keeps: `PRAGMA optimize` gathers them as a
store closes, for the tables its queries used. So each workspace gets one untimed search
process before the timed one, which then measures the plan every later search gets (with
statistics, SQLite starts from the param's runs: robust when a value is rare, about twice
the work of the walk for this filter). The timed child also replays the statements one
search sent through the `sqlite3` module: the database's own share, as a reference.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cases._children._data import FILTER, matches
from cases._common import GIB, Anchor, Case, Options, Row, Target, spread
from cases._tracking import (
    MLFLOW,
    SLIPWAY,
    at_least,
    collect,
    duration,
    measure,
    require_mlflow,
    sig3,
    spawn,
    stop,
)

SHM = Path("/dev/shm")
MLFLOW_WRITERS = 2  # processes filling MLflow's store at once (SQLite's busy timeout queues them)
TARGET_FACTOR = 20  # Slipway at least this many times faster than MLflow at 10,000 runs
TARGET_100K = Target(100, "ms")


@dataclass(frozen=True)
class Sizes:
    compare: int  # runs in the project both tools search
    alone: int  # runs in the project only Slipway searches
    repeat: int  # timed searches after one warm-up


FULL = Sizes(compare=10_000, alone=100_000, repeat=7)
QUICK = Sizes(compare=1_000, alone=10_000, repeat=7)


def run(options: Options) -> list[Row]:
    require_mlflow()
    sizes = QUICK if options.quick else FULL
    work = options.work
    slipway_ws = str(work / "slipway" / ".slipway")
    big_ws = str(work / "slipway-big" / ".slipway")
    mlflow_db = work / "mlflow" / "mlflow.db"
    populated = populate(sizes, work, slipway_ws, big_ws, mlflow_db)
    repeat = ["--repeat", str(sizes.repeat)]
    n, big = ["--n", str(sizes.compare), *repeat], ["--n", str(sizes.alone), *repeat]
    # An untimed search in each workspace first: as its process closes, PRAGMA optimize
    # gathers the statistics SQLite plans from, as after any search a user has run. The
    # timed children then measure the plan searches get from then on, not a first search's.
    for workspace, size in ((slipway_ws, sizes.compare), (big_ws, sizes.alone)):
        measure(SLIPWAY, workspace, "search", "--n", str(size), "--repeat", "1", cwd=work)
    found = {
        "slipway": measure(SLIPWAY, slipway_ws, "search", *n, cwd=work),
        "mlflow": measure(MLFLOW, f"sqlite:///{mlflow_db}", "search", *n, cwd=work),
        "slipway big": measure(SLIPWAY, big_ws, "search", *big, cwd=work),
    }
    return rows(sizes, found, populated)


def populate(sizes: Sizes, work: Path, slipway_ws: str, big_ws: str, mlflow_db: Path) -> Results:
    """Fill the three stores (not timed): MLflow's from MLFLOW_WRITERS processes at once, in
    parallel with Slipway's, as MLflow's public API is the slowest way here by far."""
    made: Results = {}
    mlflow_db.parent.mkdir()
    with scratch(work) as fast:
        staging = f"sqlite:///{fast / 'mlflow.db'}"
        measure(MLFLOW, staging, "populate", "--n", "0", cwd=work)  # the database, the experiment
        share = sizes.compare // MLFLOW_WRITERS
        pending = [
            spawn(
                MLFLOW,
                staging,
                "populate",
                *["--first", str(k * share), "--n", str(share)],
                cwd=work,
            )
            for k in range(MLFLOW_WRITERS)
        ]
        try:
            n = ["--n", str(sizes.compare)]
            made["slipway"] = measure(SLIPWAY, slipway_ws, "populate", *n, cwd=work)
            made["slipway big"] = measure(
                SLIPWAY, big_ws, "populate-core", "--n", str(sizes.alone), cwd=work
            )
            parts = [collect(proc) for proc in pending]
        finally:
            for proc in pending:
                stop(proc)
        made["mlflow"] = {
            "count": sum(part["count"] for part in parts),
            "seconds": max(part["seconds"] for part in parts),  # they ran side by side
        }
        shutil.copy2(fast / "mlflow.db", mlflow_db)
        made["mlflow"]["staged_on"] = "tmpfs" if fast != work else "disk"
    return made


@contextmanager
def scratch(work: Path) -> Iterator[Path]:
    """A folder on tmpfs (removed afterwards) if there is one with room, else `work`.

    MLflow's SQLite store fsyncs every commit, and populating 10,000 runs through its API
    makes 20,000 commits: on tmpfs that takes minutes less. The database is then copied to
    `work`, on the same disk as Slipway's, before anything is timed.
    """
    if not SHM.is_dir() or shutil.disk_usage(SHM).free < GIB:
        yield work
        return
    folder = Path(tempfile.mkdtemp(prefix="slipway-bench-", dir=SHM))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


Results = dict[str, dict[str, Any]]  # "slipway" / "mlflow" / "slipway big" -> child's JSON


def rows(sizes: Sizes, found: Results, made: Results) -> list[Row]:
    def ms(result: dict[str, Any]) -> float:
        return sig3(result["seconds"] * 1e3)

    def how(result: dict[str, Any]) -> str:
        return (
            f"median of {len(result['runs'])} after 1 warm-up ({result['warmup'] * 1e3:.0f} ms), "
            f"in one fresh child process; returned {result['returned']} of "
            f"{result['matching']:,} matching runs; "
            + spread([sig3(r * 1e3) for r in result["runs"]], "ms")
        )

    def made_with(key: str, way: str) -> str:
        result = made[key]
        return (
            f"populated with {way}: {result['count']:,} runs in "
            f"{duration(result['seconds'])} ({result['count'] / result['seconds']:,.0f} runs/s)"
        )

    api_rate = made["slipway"]["count"] / made["slipway"]["seconds"]
    api_time = duration(sizes.alone / api_rate)
    share = selectivity(sizes.compare)
    staged = made["mlflow"]["staged_on"] == "tmpfs"
    mlflow_value = ms(found["mlflow"])
    mlflow_call = (
        "`MlflowClient().search_runs([experiment_id], filter_string=FILTER, max_results=100)`"
    )
    slipway_call = "`client.runs.search([project], FILTER, max_results=100)`"
    return [
        Row(
            case="track_search",
            metric=(
                f"search {sizes.compare:,} runs, `{FILTER}` (matches {share}), "
                "max_results=100, direct: time per search"
            ),
            unit="ms",
            slipway=ms(found["slipway"]),
            source=f"`slipway_track.py WORKSPACE search`: {slipway_call}, embedded; "
            + how(found["slipway"]),
            anchors=(
                Anchor(
                    "mlflow direct (sqlite)",
                    mlflow_value,
                    f"`mlflow_track.py sqlite:///…/mlflow.db search`: {mlflow_call}; "
                    + how(found["mlflow"]),
                ),
                *raw_sql_anchor(found["slipway"]),
            ),
            target=at_least(TARGET_FACTOR, mlflow_value, "mlflow direct"),
            notes=(
                *raw_sql_note(found["slipway"], mlflow_value),
                made_with("slipway", "`client.runs.create` + one `client.runs.log_batch` per run"),
                made_with(
                    "mlflow",
                    f"`create_run` + one `log_batch` per run, from {MLFLOW_WRITERS} processes at "
                    "once" + (", on tmpfs (then copied to disk)" if staged else ""),
                ),
                "the populations ran side by side (not timed as a comparison: their rates "
                "above are for information)",
                "each run: params p0..p9 (digits), metrics m0..m9 (uniform in [0, 1)), "
                "the same values for both tools (bench/cases/_children/_data.py)",
                "Slipway's SQLite plans the search from the statistics ANALYZE keeps: PRAGMA "
                "optimize gathered them as an untimed search process closed before this one, "
                "as after any search a user has run",
            ),
        ),
        Row(
            case="track_search",
            metric=(
                f"search {sizes.alone:,} runs, same filter (matches "
                f"{selectivity(sizes.alone)}), direct: time per search"
            ),
            unit="ms",
            slipway=ms(found["slipway big"]),
            source=f"`slipway_track.py WORKSPACE search`: {slipway_call}, embedded; "
            + how(found["slipway big"]),
            anchors=raw_sql_anchor(found["slipway big"]),
            target=TARGET_100K,
            notes=(
                made_with(
                    "slipway big",
                    "SQLAlchemy Core INSERTs of `slipway.store.schema` rows (runs, params, "
                    "metrics, latest_metrics; no audit events) into the workspace DB (the API, "
                    f"at the rate it filled the {sizes.compare:,}-run project: {api_time})",
                ),
                "plain INSERTs leave no planner statistics: an untimed search process ran "
                "first, and PRAGMA optimize gathered them as it closed",
            ),
        ),
    ]


def raw_sql_anchor(result: dict[str, Any]) -> tuple[Anchor, ...]:
    raw = result.get("raw_sql")
    if raw is None:
        return ()
    return (
        Anchor(
            "the same SQL, raw sqlite3 (reference)",
            sig3(raw["seconds"] * 1e3),
            f"the {raw['statements']} SELECTs one Slipway search sends (caught with "
            "SQLAlchemy's `before_cursor_execute` event, in the same child, after the timed "
            "searches), replayed through Python's `sqlite3` module on a connection of its "
            "own (Slipway's mmap_size), every row fetched: "
            f"median of {len(raw['runs'])} after 1 warm-up; "
            + spread([sig3(r * 1e3) for r in raw["runs"]], "ms"),
        ),
    )


def raw_sql_note(result: dict[str, Any], mlflow_ms: float) -> tuple[str, ...]:
    raw = result.get("raw_sql")
    if raw is None:
        return ()
    return (
        f"{TARGET_FACTOR}x mlflow means slipway <= {mlflow_ms / TARGET_FACTOR:.2f} ms; SQLite "
        f"alone spends {raw['seconds'] * 1e3:.2f} ms on the search's statements (the raw "
        "sqlite3 reference), the rest is Slipway's Python (SQLAlchemy, the page's dicts, "
        "pydantic)",
    )


def selectivity(runs: int) -> str:
    count = sum(matches(i) for i in range(runs))
    return f"{count:,} runs, {count / runs:.1%}"


CASE = Case(
    name="track_search",
    summary=(
        f"search runs with `{FILTER}`, max_results=100, median of 7: 10,000 runs, Slipway vs "
        "MLflow (direct); 100,000 runs, Slipway alone (10x fewer with --quick)"
    ),
    run=run,
)
