"""Repository for runs and what hangs off them: params, tags, metrics, artifacts."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Dialect,
    and_,
    bindparam,
    case,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError as SAIntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.functions import FunctionElement

from slipway.errors import Conflict
from slipway.store.entities import ArtifactEntity, MetricPoint, RunEntity
from slipway.store.run_search import PAGE_LIMIT, PAGE_OFFSET, RunQuery
from slipway.store.schema import artifacts, latest_metrics, metrics, params, runs, tags

# Creating and ending a run: statements built once (SQLAlchemy caches their compiled form).
_RUN_COLUMNS = tuple(column.name for column in runs.c)  # RunEntity's fields, in this order
_INSERT_RUN = insert(runs)
_GET_RUN = select(runs).where(runs.c.id == bindparam("run_id"))
_END_RUN = (
    update(runs)
    .where(runs.c.id == bindparam("run_id"))
    .values(status=bindparam("final_status"), end_time=bindparam("final_end_time"))
)


def insert_run(conn: Connection, run: RunEntity) -> RunEntity:
    conn.execute(_INSERT_RUN, {name: getattr(run, name) for name in _RUN_COLUMNS})
    return run


def get_run(conn: Connection, run_id: str) -> RunEntity | None:
    found = conn.execute(_GET_RUN, {"run_id": run_id}).first()
    return None if found is None else RunEntity(*found)


def update_run(conn: Connection, run_id: str, **values: Any) -> None:
    conn.execute(update(runs).where(runs.c.id == run_id).values(**values))


def end_run(conn: Connection, run_id: str, status: str, end_time: int) -> None:
    conn.execute(_END_RUN, {"run_id": run_id, "final_status": status, "final_end_time": end_time})


def search(conn: Connection, query: RunQuery, *, limit: int, offset: int) -> list[RunEntity]:
    """One page of a compiled search."""
    found = conn.execute(query.page, {PAGE_LIMIT: limit, PAGE_OFFSET: offset}).all()
    return [RunEntity(*row) for row in found]


# -- params, tags, metrics ---------------------------------------------------------------


class _ObjectOf(FunctionElement[Any]):
    """Aggregate (key, value) rows into one JSON object: json_group_object on SQLite,
    json_object_agg on PostgreSQL."""

    type = JSON()
    name = "object_of"
    inherit_cache = True


@compiles(_ObjectOf, "sqlite")
def _object_of_sqlite(element: _ObjectOf, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_object({compiler.process(element.clauses, **kw)})"


@compiles(_ObjectOf, "postgresql")
def _object_of_postgresql(element: _ObjectOf, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_object_agg({compiler.process(element.clauses, **kw)})"


# What a page of runs shows besides the runs: some 1,000 params and 1,000 metrics for 100.
# Params and tags (text) come as one JSON object per run, which the driver or json decodes
# in one call; metric values (floats) come as rows, since SQLite writes floats into JSON
# with 15 digits. A NaN comes as NULL.
_IDS: BindParameter[str] = bindparam("run_ids", expanding=True)
_OBJECTS_OF_RUNS = {
    table.name: select(table.c.run_id, _ObjectOf(table.c.key, table.c.value))
    .where(table.c.run_id.in_(_IDS))
    .group_by(table.c.run_id)
    for table in (params, tags)
}
_LATEST_OF_RUNS = select(
    latest_metrics.c.run_id,
    latest_metrics.c.key,
    case((latest_metrics.c.is_nan, None), else_=latest_metrics.c.value),
).where(latest_metrics.c.run_id.in_(_IDS))


def key_values(
    conn: Connection, table_name: str, run_ids: Sequence[str]
) -> dict[str, dict[str, str]]:
    """Params or tags of several runs at once: run_id -> {key: value}."""
    found: dict[str, dict[str, str]] = {run_id: {} for run_id in run_ids}
    if found:
        statement = _OBJECTS_OF_RUNS[table_name]
        found.update(conn.execute(statement, {"run_ids": list(found)}).all())
    return found


def latest_values(conn: Connection, run_ids: Sequence[str]) -> dict[str, dict[str, float]]:
    """The latest value of every metric of several runs at once: run_id -> {key: value}."""
    found: dict[str, dict[str, float]] = {run_id: {} for run_id in run_ids}
    if found:
        for run_id, key, value in conn.execute(_LATEST_OF_RUNS, {"run_ids": list(found)}).all():
            found[run_id][key] = math.nan if value is None else value
    return found


_PARAMS_OF_RUN = select(params.c.key, params.c.value).where(params.c.run_id == bindparam("run_id"))
_INSERT_PARAMS = insert(params)


def log_params(conn: Connection, run_id: str, values: Mapping[str, str]) -> None:
    """Params are write-once: logging the same value again is fine, a different one is not."""
    if not values:
        return
    existing = {k: v for k, v in conn.execute(_PARAMS_OF_RUN, {"run_id": run_id})}
    clashes = {k: (existing[k], v) for k, v in values.items() if k in existing and existing[k] != v}
    if clashes:
        key, (old, wanted) = next(iter(sorted(clashes.items())))
        raise Conflict(
            f"param {key!r} of run {run_id} is already {old!r}, cannot change it to {wanted!r}; "
            "params are immutable: log a new run, or use a tag or metric for values that change"
        )
    new = [{"run_id": run_id, "key": k, "value": v} for k, v in values.items() if k not in existing]
    if not new:
        return
    if conn.get_execution_options().get("sqlite_begin") == "IMMEDIATE":
        # SQLite's write lock is held since BEGIN: no writer can add a key after our read,
        # so the savepoint for that race (two statements) is not needed.
        conn.execute(_INSERT_PARAMS, new)
        return
    try:
        with conn.begin_nested():
            conn.execute(_INSERT_PARAMS, new)
    except SAIntegrityError:
        # Another writer logged the same key between our read and insert: check again.
        log_params(conn, run_id, values)


def set_tags(conn: Connection, run_id: str, values: Mapping[str, str]) -> None:
    if values:
        rows = [{"run_id": run_id, "key": k, "value": v} for k, v in values.items()]
        conn.execute(_tag_upsert(conn.dialect.name), rows)


_POINT_COLUMNS = ("run_id", "key", "value", "is_nan", "step", "timestamp")
# The drivers' placeholders: sqlite3's qmark, psycopg's format.
_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


@functools.cache
def _insert_points(dialect: Dialect) -> str:
    """INSERT INTO metrics (...) VALUES (?, ...) in the driver's own placeholders.

    Points reach the driver as tuples through `exec_driver_sql`: `conn.execute(insert, rows)`
    builds, converts and type-processes a parameter dict per row, some 4 us of the 6.5 us a
    point cost in a batch of 10,000 (the writer thread of the SDK's batching is then the
    bottleneck of `log_metric`). The values are already what the column types bind.
    """
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(map(quote, _POINT_COLUMNS))
    markers = ", ".join([_MARKERS[dialect.paramstyle]] * len(_POINT_COLUMNS))
    # Built from the schema's names and the driver's placeholder alone: no input reaches it.
    return f"INSERT INTO {quote(metrics.name)} ({columns}) VALUES ({markers})"  # noqa: S608


def log_metrics(
    conn: Connection,
    run_id: str,
    keys: Sequence[str],
    values: Sequence[float],
    steps: Sequence[int],
    timestamps: Sequence[int],
) -> None:
    """Append points (given as columns) to the series and move each key's latest value forward."""
    if not keys:
        return
    # NaN != NaN: stored as 0.0 with a flag, since SQLite would turn NaN into NULL.
    rows = [
        (run_id, k, 0.0 if v != v else v, v != v, s, t)
        for k, v, s, t in zip(keys, values, steps, timestamps, strict=True)
    ]
    conn.exec_driver_sql(_insert_points(conn.dialect), rows)
    newest: dict[str, tuple[int, int, int]] = {}  # key -> (step, timestamp, row) of its newest
    for number, when in enumerate(zip(steps, timestamps, strict=True)):
        current = newest.get(key := keys[number])
        if current is None or when >= current[:2]:
            newest[key] = (*when, number)
    latest = [dict(zip(_POINT_COLUMNS, rows[n], strict=True)) for _, _, n in newest.values()]
    conn.execute(_latest_upsert(conn.dialect.name), latest)


def _dialect_insert(dialect: str) -> Any:
    """The INSERT that has ON CONFLICT (upserts) for this dialect.

    Imported here, when a statement is first built: SQLAlchemy's PostgreSQL package loads
    all of its drivers' modules, some 50 ms that a SQLite workspace's first run would pay.
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


# The upserts are built once per dialect, on first use (see `_dialect_insert`).


@functools.cache
def _tag_upsert(dialect: str) -> Any:
    statement = _dialect_insert(dialect)(tags)
    return statement.on_conflict_do_update(
        index_elements=[tags.c.run_id, tags.c.key], set_={"value": statement.excluded.value}
    )


@functools.cache
def _latest_upsert(dialect: str) -> Any:
    statement = _dialect_insert(dialect)(latest_metrics)
    incoming = statement.excluded
    # "Latest" is the highest step, then the newest timestamp: a late point for an old
    # step never overwrites a newer one.
    is_newer = or_(
        incoming.step > latest_metrics.c.step,
        and_(
            incoming.step == latest_metrics.c.step,
            incoming.timestamp >= latest_metrics.c.timestamp,
        ),
    )
    return statement.on_conflict_do_update(
        index_elements=[latest_metrics.c.run_id, latest_metrics.c.key],
        set_={
            "value": incoming.value,
            "is_nan": incoming.is_nan,
            "step": incoming.step,
            "timestamp": incoming.timestamp,
        },
        where=is_newer,
    )


@functools.cache
def _artifact_upsert(dialect: str) -> Any:
    statement = _dialect_insert(dialect)(artifacts)
    return statement.on_conflict_do_update(
        index_elements=[artifacts.c.run_id, artifacts.c.path],
        set_={k: statement.excluded[k] for k in ("object_hash", "size", "is_dir", "created_at")},
    )


def metric_history(conn: Connection, run_id: str, key: str) -> list[MetricPoint]:
    query = (
        select(
            metrics.c.key, metrics.c.value, metrics.c.is_nan, metrics.c.step, metrics.c.timestamp
        )
        .where(and_(metrics.c.run_id == run_id, metrics.c.key == key))
        .order_by(metrics.c.step, metrics.c.timestamp, metrics.c.id)
    )
    return [
        MetricPoint(k, math.nan if is_nan else value, step, ts)
        for k, value, is_nan, step, ts in conn.execute(query)
    ]


# -- artifacts ---------------------------------------------------------------------------

_ARTIFACT_COLUMNS = tuple(column.name for column in artifacts.c)  # ArtifactEntity's fields


def put_artifact(conn: Connection, artifact: ArtifactEntity) -> None:
    """Record (or replace) the artifact at `artifact.path` of its run."""
    values = {name: getattr(artifact, name) for name in _ARTIFACT_COLUMNS}
    conn.execute(_artifact_upsert(conn.dialect.name), values)


def list_artifacts(conn: Connection, run_id: str) -> list[ArtifactEntity]:
    query = select(artifacts).where(artifacts.c.run_id == run_id).order_by(artifacts.c.path)
    return [ArtifactEntity(**row._mapping) for row in conn.execute(query)]


def artifact_objects(conn: Connection) -> set[tuple[str, bool]]:
    """(object hash, is a folder manifest) of every artifact of every run, deleted ones too."""
    query = select(artifacts.c.object_hash, artifacts.c.is_dir).distinct()
    return {(digest, bool(is_dir)) for digest, is_dir in conn.execute(query)}
