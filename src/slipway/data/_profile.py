"""Tabular profiles: what a CSV or Parquet table holds, computed in DuckDB over the file.

A profile is the reference that drift monitoring compares live traffic against, so it keeps
enough of each distribution to compare: quantiles, equal-width histogram bins, top values.
Tables are never loaded whole into memory (and never into pandas): DuckDB scans the file
with a memory limit and spills to a temporary directory past it.

Statistics follow pandas/numpy so a profile can be checked against them: `std` is the sample
standard deviation (ddof=1), quantiles interpolate linearly (numpy's default), histograms
use numpy.histogram's bins. NaN and infinities in float columns are counted apart
(`nan_count`, `inf_count`) and left out of the statistics, which therefore stay finite:
pandas leaves NaN out too, and a finite range is what equal-width bins need.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, model_validator

from slipway.data._pii import PiiFlag, scan_pii
from slipway.errors import InvalidInput, NotFound, SlipwayError
from slipway.services.datasets import tables as sql
from slipway.services.datasets.tables import (
    QUANTILES,
    Column,
    ColumnKind,
    TableFormat,
    table_format,
)

__all__ = [
    "ColumnKind",
    "ColumnProfile",
    "Histogram",
    "TableFormat",
    "TableProfile",
    "profile_table",
    "table_format",
]

MEMORY_LIMIT = 2**30  # bytes DuckDB may hold before it spills to disk
# Exact quantiles and distinct counts keep about this much per value (a copy of the value
# and a hash-table entry, with slack). Columns are aggregated in groups that stay within
# half the memory limit, so a wide table is not estimated just for being wide.
_EXACT_BYTES_PER_VALUE = 32
# Integers this large may be card numbers stored as numbers (13 digits and up).
_CARD_NUMBER_MIN = 10**12

Scalar = int | float | str


class Histogram(BaseModel):
    """Equal-width bins from min to max: [edges[i], edges[i+1]), the last one closed."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    edges: list[float]
    counts: list[int]

    @model_validator(mode="after")
    def _one_more_edge(self) -> Histogram:
        if len(self.edges) != len(self.counts) + 1:
            raise ValueError(f"{len(self.counts)} bins need {len(self.counts) + 1} edges")
        return self


class ColumnProfile(BaseModel):
    """One column. Statistics that do not apply to its kind, or that no value fed, are None."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str
    type: str = Field(description="Arrow type, e.g. int64, double, string, timestamp[us]")
    kind: ColumnKind
    null_count: int = Field(ge=0)
    null_rate: float = Field(ge=0, le=1, description="0.0 on an empty table")
    nan_count: int = Field(default=0, ge=0, description="NaN in float columns, not in null")
    inf_count: int = Field(default=0, ge=0, description="+-inf in float columns")
    distinct_count: int | None = Field(default=None, ge=0, description="nulls and NaN left out")
    # Numbers for numeric columns (ints stay exact), ISO 8601 strings for temporal ones.
    min: Scalar | None = None
    max: Scalar | None = None
    mean: float | None = None
    std: float | None = Field(default=None, description="sample standard deviation, ddof=1")
    quantiles: dict[str, float] | None = Field(default=None, description='"0.01" ... "0.99"')
    histogram: Histogram | None = None
    top: list[tuple[str, int]] | None = Field(
        default=None, description="most frequent values first, ties by value"
    )


class TableProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    format: TableFormat
    row_count: int = Field(ge=0)
    exact: bool = Field(
        default=True,
        description="False when quantiles and distinct counts were estimated (t-digest, "
        "HyperLogLog) because exact ones did not fit in memory",
    )
    columns: list[ColumnProfile]
    pii: list[PiiFlag] = Field(default_factory=list)

    def column(self, name: str) -> ColumnProfile:
        for col in self.columns:
            if col.name == name:
                return col
        raise NotFound(f"no column {name!r} in this profile")


def profile_table(
    path: Path, *, format: TableFormat | None = None, bins: int = 20, top: int = 10
) -> TableProfile:
    """Profile a CSV or Parquet file and scan its text columns for PII.

    CSV files start with a header line; empty fields are nulls; the delimiter, quoting and
    column types are detected from the whole file (UTF-8). Raises NotFound when the file is
    missing and InvalidInput when its format is unknown or it cannot be parsed.
    """
    if bins < 1 or top < 0:
        raise InvalidInput(f"bins must be at least 1 and top at least 0 (got {bins}, {top})")
    path = Path(path)
    fmt = format or table_format(path)
    if not path.is_file():
        raise NotFound(f"{path}: no such file")
    if fmt == "csv" and path.stat().st_size == 0:
        return TableProfile(format=fmt, row_count=0, columns=[])  # DuckDB would invent a column
    with tempfile.TemporaryDirectory(prefix="slipway-profile-") as workdir:
        limit = f"{MEMORY_LIMIT // 2**20}MiB"
        con = sql.connect(Path(workdir), memory_limit=limit, threads=os.cpu_count() or 1)
        try:
            return _profile(con, path.resolve(), fmt, bins=bins, top=top)
        except duckdb.OutOfMemoryException as exc:
            raise SlipwayError(
                f"{path}: profiling needs more than {MEMORY_LIMIT >> 20} MiB of memory even with "
                f"estimated quantiles: {_reason(exc)}"
            ) from exc
        except (duckdb.Error, pa.ArrowException) as exc:
            raise InvalidInput(f"{path}: cannot read it as {fmt}: {_reason(exc)}") from exc
        finally:
            con.close()


def _profile(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: TableFormat, *, bins: int, top: int
) -> TableProfile:
    tab_separated = path.name.lower().endswith((".tsv", ".tsv.gz"))
    columns = sql.open_table(con, path, fmt, tab_separated=tab_separated)
    fields = _fields(con, path, fmt, columns)
    row_count, exact, stats = _aggregate(con, columns)
    _spread(con, columns, stats, bins)
    profiles = [
        _column_profile(col, fields[i], stats[i], row_count, con, top)
        for i, col in enumerate(columns)
    ]
    pii = _scan(con, columns, stats, [profile.name for profile in profiles])
    return TableProfile(format=fmt, row_count=row_count, exact=exact, columns=profiles, pii=pii)


def _aggregate(
    con: duckdb.DuckDBPyConnection, columns: list[Column]
) -> tuple[int, bool, list[dict[str, Any]]]:
    """Row count, whether all statistics are exact, and each column's one-pass statistics.

    Exact when they fit in memory, estimated when they do not (or DuckDB runs out anyway).
    """
    row = con.execute(sql.count_sql()).fetchone()
    rows = int(row[0]) if row else 0
    budget = MEMORY_LIMIT // 2
    per_column = max(rows * _EXACT_BYTES_PER_VALUE, 1)
    group = max(budget // per_column, 1)
    try_exact = per_column <= budget  # else even one column would not fit: estimate at once
    stats: list[dict[str, Any]] = [{} for _ in columns]
    all_exact = True
    for start in range(0, len(columns), group):
        exact = try_exact
        part = columns[start : start + group]
        try:
            values = _aggregate_group(con, part, exact=exact)
        except duckdb.OutOfMemoryException:
            if not exact:
                raise
            exact, values = False, _aggregate_group(con, part, exact=False)
        all_exact &= exact
        for offset, column_stats in enumerate(values):
            stats[start + offset] = column_stats
    return rows, all_exact, stats


def _aggregate_group(
    con: duckdb.DuckDBPyConnection, columns: list[Column], *, exact: bool
) -> list[dict[str, Any]]:
    query, slots = sql.aggregate_sql(columns, exact=exact)
    row = con.execute(query).fetchone()
    assert row is not None  # an aggregate without GROUP BY always yields one row
    stats: list[dict[str, Any]] = [{} for _ in columns]
    for (index, stat), value in zip(slots, row, strict=True):
        stats[index][stat] = value
    return stats


def _fields(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: TableFormat, columns: list[Column]
) -> list[tuple[str, str]]:
    """Each column's name and Arrow type as the file has them.

    Parquet: the file's own schema (DuckDB renames names that clash case-insensitively and
    has no dictionary or large_string types). CSV: DuckDB's Arrow export of what it detected.
    """
    if fmt == "parquet":
        schema = pq.read_schema(path)
    else:
        schema = con.sql(sql.schema_sql()).to_arrow_table().schema
    if len(schema) != len(columns):  # not expected; DuckDB's view of the file is what we have
        return [(col.name, col.sql_type.lower()) for col in columns]
    return [(field.name, str(field.type)) for field in schema]


def _spread(
    con: duckdb.DuckDBPyConnection, columns: list[Column], stats: list[dict[str, Any]], bins: int
) -> None:
    """Add "histogram" and "std" to the numeric columns' `stats`, in one more pass.

    Columns whose finite values are all equal get one bin and need no pass.
    """
    spread: list[tuple[int, list[float], float]] = []
    for index, col in enumerate(columns):
        column = stats[index]
        low, high = _finite(column.get("min")), _finite(column.get("max"))
        if col.kind != "numeric" or low is None or high is None:
            continue
        if low == high:
            # count_if yields NULL over no rows, hence the `or 0`
            n = column["non_null"] - (column.get("nan") or 0) - (column.get("inf") or 0)
            column["histogram"] = Histogram(edges=[low, high], counts=[n])
            column["std"] = 0.0 if n > 1 else None
        else:
            spread.append((index, _edges(low, high, bins), float(column["mean"])))
    if not spread:
        return
    query = sql.spread_sql([(columns[index], bins) for index, _, _ in spread])
    params: dict[str, Any] = {}
    for i, (_, edges, mean) in enumerate(spread):
        params |= {f"e{i}": edges, f"m{i}": mean}
    row = con.execute(query, params).fetchone()
    assert row is not None
    for i, (index, edges, _) in enumerate(spread):
        counted, squares = row[2 * i], row[2 * i + 1]
        counts = [0] * bins
        for b, n in (counted or {}).items():
            counts[b] = int(n)
        stats[index]["histogram"] = Histogram(edges=edges, counts=counts)
        # low < high means at least two finite values, so n - 1 > 0
        stats[index]["std"] = math.sqrt(squares / (sum(counts) - 1))


def _edges(low: float, high: float, bins: int) -> list[float]:
    # numpy.linspace's arithmetic (start + i * step, the last edge exactly `stop`), so edges
    # are bit-identical to numpy.histogram's.
    step = (high - low) / bins
    return [low + i * step for i in range(bins)] + [high]


def _column_profile(
    col: Column,
    field: tuple[str, str],
    stats: dict[str, Any],
    row_count: int,
    con: duckdb.DuckDBPyConnection,
    top: int,
) -> ColumnProfile:
    kind = col.kind
    null_count = row_count - int(stats["non_null"])
    fields: dict[str, Any] = {
        "name": field[0],
        "type": field[1],
        "kind": kind,
        "null_count": null_count,
        "null_rate": null_count / row_count if row_count else 0.0,
        "nan_count": int(stats.get("nan") or 0),
        "inf_count": int(stats.get("inf") or 0),
        "distinct_count": stats.get("distinct"),
    }
    if kind == "numeric":
        quantiles = stats["quantiles"]
        fields |= {
            "min": _number(stats["min"]),
            "max": _number(stats["max"]),
            "mean": _finite(stats["mean"]),
            "std": _finite(stats.get("std")),
            "quantiles": None if quantiles is None else _quantiles(quantiles),
            "histogram": stats.get("histogram"),
        }
    elif kind == "temporal":
        fields |= {"min": _iso(stats["min"]), "max": _iso(stats["max"])}
    elif kind == "boolean":
        trues = int(stats["true"] or 0)
        falses = int(stats["non_null"]) - trues
        counts = sorted([("true", trues), ("false", falses)], key=lambda vc: (-vc[1], vc[0]))
        fields["top"] = [vc for vc in counts if vc[1] > 0][:top]
    elif kind == "categorical":
        fields["top"] = [(str(v), int(n)) for v, n in _top(con, col, top)]
    return ColumnProfile(**fields)


def _top(con: duckdb.DuckDBPyConnection, col: Column, top: int) -> list[tuple[Any, ...]]:
    return con.execute(sql.top_sql(col), {"top": top}).fetchall() if top else []


def _quantiles(values: Sequence[Any]) -> dict[str, float] | None:
    result: dict[str, float] = {}
    for level, value in zip(QUANTILES, values, strict=True):
        number = _finite(value)
        if number is None:
            return None
        result[str(level)] = number
    return result


def _scan(
    con: duckdb.DuckDBPyConnection,
    columns: list[Column],
    stats: list[dict[str, Any]],
    names: list[str],
) -> list[PiiFlag]:
    text = [col.name for col in columns if col.kind == "categorical"]
    big_ints = [
        col.name
        for i, col in enumerate(columns)
        if col.is_integer and (stats[i].get("max") or 0) >= _CARD_NUMBER_MIN
    ]
    flags = scan_pii(con, sql.TABLE, text, integer_columns=big_ints)
    position = {col.name: i for i, col in enumerate(columns)}
    flags.sort(key=lambda flag: position[flag.column])  # file order, not text columns first
    # DuckDB renames columns whose names clash case-insensitively; report the file's names.
    return [flag.model_copy(update={"column": names[position[flag.column]]}) for flag in flags]


def _reason(exc: Exception) -> str:
    """The first paragraph of DuckDB's message, which says what failed.

    The rest repeats the SQL and the reader's settings. "Original Line:" is left out as it
    quotes the file's content, which may be personal data, into errors and logs.
    """
    paragraph = str(exc).strip().split("\n\n", 1)[0].splitlines()
    lines = [line.strip() for line in paragraph if not line.startswith("Original Line:")]
    return " ".join(line for line in lines if line) or type(exc).__name__


def _number(value: Any) -> int | float | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # kept exact: int64 ids do not survive a trip through float
    return _finite(value)


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value) if isinstance(value, int | float | Decimal) else None
    return number if number is not None and math.isfinite(number) else None


def _iso(value: Any) -> str | None:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        # DuckDB hands TIMESTAMPTZ over in the session's time zone; the profile says UTC.
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return None if value is None else str(value)
