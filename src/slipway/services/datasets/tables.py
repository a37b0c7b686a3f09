"""The SQL behind table profiles: opening a file in DuckDB and the per-column queries.

Every name and path that reaches SQL goes through `quote_ident` or `quote_path`; statistics
are bound as parameters. Column names come from the file, so they are user text.
"""

# S608 flags every f-string query; here queries are built only from quoted identifiers and
# literals, and SQL this module writes itself.
# ruff: noqa: S608

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from slipway.errors import InvalidInput

TableFormat = Literal["csv", "parquet"]
ColumnKind = Literal["numeric", "categorical", "boolean", "temporal", "other"]
QUANTILES: tuple[float, ...] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
TABLE = '"profiled"'

_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
_INTEGERS |= {"U" + name for name in _INTEGERS}
_FLOATS = {"FLOAT", "DOUBLE"}
_TEMPORAL = {"DATE", "TIME", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"}
_TEMPORAL |= {"TIMESTAMP WITH TIME ZONE", "TIME WITH TIME ZONE"}
_GLOB = re.compile(r"([*?\[])")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_path(path: Path) -> str:
    """A SQL string literal naming exactly `path`.

    DuckDB treats file arguments as glob patterns (`a[1].csv` would read `a1.csv`), so glob
    characters become one-character classes before the literal is quoted.
    """
    literal = _GLOB.sub(r"[\1]", str(path))
    return "'" + literal.replace("'", "''") + "'"


@dataclass(frozen=True)
class Column:
    """A column as DuckDB sees it (its name may differ from the file's: `a`, `A` -> `A_1`)."""

    name: str
    sql_type: str

    @property
    def ident(self) -> str:
        return quote_ident(self.name)

    @property
    def is_float(self) -> bool:
        return self.sql_type in _FLOATS

    @property
    def is_integer(self) -> bool:
        return self.sql_type in _INTEGERS

    @property
    def kind(self) -> ColumnKind:
        sql_type = self.sql_type
        if sql_type in _INTEGERS or sql_type in _FLOATS or sql_type.startswith("DECIMAL"):
            return "numeric"
        if sql_type == "BOOLEAN":
            return "boolean"
        if sql_type in _TEMPORAL:
            return "temporal"
        if sql_type == "VARCHAR" or sql_type.startswith("ENUM"):
            return "categorical"
        return "other"

    @property
    def as_double(self) -> str:
        """The value as DOUBLE, NULL when it is NaN or infinite (those are counted apart)."""
        if self.is_float:
            return f"CASE WHEN isfinite({self.ident}) THEN CAST({self.ident} AS DOUBLE) END"
        return f"CAST({self.ident} AS DOUBLE)"


def connect(workdir: Path, *, memory_limit: str, threads: int) -> duckdb.DuckDBPyConnection:
    """An in-memory database that spills to `workdir` rather than grow past `memory_limit`."""
    con = duckdb.connect(
        config={
            "memory_limit": memory_limit,
            "threads": threads,
            "temp_directory": str(workdir),
            # Keeps LIMIT queries returning the file's first rows: PII samples are reproducible.
            "preserve_insertion_order": True,
        }
    )
    # DuckDB draws a progress bar on stdout for queries over 2 s; a library must not. (A
    # session setting: connect() refuses it as a global option.)
    con.execute("SET enable_progress_bar = false")
    return con


def open_table(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: TableFormat, *, tab_separated: bool
) -> list[Column]:
    """Make `path` queryable as TABLE and return its columns."""
    source = quote_path(path)
    if fmt == "parquet":
        # Parquet is columnar: a view lets each query read only the columns it needs.
        con.execute(f"CREATE VIEW {TABLE} AS SELECT * FROM read_parquet({source})")
    else:
        # CSV is parsed once into DuckDB's compressed columnar storage instead of once per
        # query. sample_size=-1: types sniffed from the whole file, so a late "n/a" in a
        # numeric-looking column makes it text instead of failing the load. skip=0: the
        # sniffer would otherwise skip leading lines (header and data) of a ragged file to
        # find a consistent block, and rows would silently go missing.
        delim = ", delim='\t'" if tab_separated else ""
        con.execute(
            f"CREATE TABLE {TABLE} AS SELECT * FROM "
            f"read_csv({source}, header=true, skip=0, sample_size=-1{delim})"
        )
    rows = con.execute(f"DESCRIBE {TABLE}").fetchall()
    return [Column(name=str(row[0]), sql_type=str(row[1])) for row in rows]


def aggregate_sql(columns: list[Column], *, exact: bool) -> tuple[str, list[tuple[int, str]]]:
    """One pass over the table for the columns' counts, extremes, moments and quantiles.

    Exact quantiles and distinct counts hold every value in memory; with `exact=False` they
    are estimated in bounded memory instead (t-digest, HyperLogLog). Returns the query and,
    for each output position, the (index in `columns`, statistic) it holds.
    """
    count_distinct = "count(DISTINCT {})" if exact else "approx_count_distinct({})"
    quantile = "quantile_cont" if exact else "approx_quantile"
    exprs: list[str] = []
    slots: list[tuple[int, str]] = []

    def add(index: int, stat: str, expr: str) -> None:
        exprs.append(expr)
        slots.append((index, stat))

    levels = "[" + ", ".join(repr(q) for q in QUANTILES) + "]"
    for index, col in enumerate(columns):
        ident, kind = col.ident, col.kind
        add(index, "non_null", f"count({ident})")
        if col.is_float:
            add(index, "nan", f"count_if(isnan({ident}))")
            add(index, "inf", f"count_if(isinf({ident}))")
            # pandas' nunique leaves NaN out; infinities are values like any other.
            distinct = count_distinct.format(ident)
            add(index, "distinct", f"{distinct} FILTER (WHERE NOT isnan({ident}))")
        elif kind != "other":
            add(index, "distinct", count_distinct.format(ident))
        if kind == "numeric":
            value = col.as_double
            finite = f" FILTER (WHERE isfinite({ident}))" if col.is_float else ""
            add(index, "min", f"min({ident}){finite}")
            add(index, "max", f"max({ident}){finite}")
            # favg: Kahan-compensated, so the mean does not depend on the summation order of
            # parallel threads; integers keep their exact (hugeint) sum.
            mean = f"favg({value})" if col.is_float else f"avg({ident})"
            add(index, "mean", mean)
            add(index, "quantiles", f"{quantile}({value}, {levels})")
        elif kind == "temporal":
            add(index, "min", f"min({ident})")
            add(index, "max", f"max({ident})")
        elif kind == "boolean":
            add(index, "true", f"count_if({ident})")
    return f"SELECT {', '.join(exprs)} FROM {TABLE}", slots


def spread_sql(columns: list[tuple[Column, int]]) -> str:
    """A second pass, once min, max and mean are known: bin counts and squared deviations.

    Each column `i` binds its bin edges as `$e{i}` (a DOUBLE list, so edges are the exact
    floats the profile reports) and its mean as `$m{i}`. Bins follow numpy.histogram:
    [e_k, e_k+1) except the last, closed. A first guess from the bin width can be one bin
    off through rounding; it is corrected against the edges themselves, as numpy does.
    The variance is two-pass with a compensated sum, as accurate as numpy's and, unlike
    DuckDB's one-pass stddev_samp merged across threads, the same bits on every run.
    """
    inner, middle, outer = [], [], []
    for i, (col, bins) in enumerate(columns):
        e, m, v, b = f"$e{i}", f"$m{i}", f"v{i}", f"b{i}"
        inner.append(f"{col.as_double} AS {v}")
        guess = f"floor(({v} - {e}[1]) / ({e}[{bins + 1}] - {e}[1]) * {bins})"
        middle.append(f"{v}, least(CAST({guess} AS BIGINT), {bins - 1}) AS {b}")
        fixed = (
            f"CASE WHEN {v} < {e}[{b} + 1] THEN {b} - 1"
            f" WHEN {b} < {bins - 1} AND {v} >= {e}[{b} + 2] THEN {b} + 1 ELSE {b} END"
        )
        outer.append(f"histogram({fixed}) FILTER (WHERE {v} IS NOT NULL)")
        outer.append(f"fsum(({v} - {m}) * ({v} - {m}))")
    return (
        f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(middle)} FROM "
        f"(SELECT {', '.join(inner)} FROM {TABLE}))"
    )


def top_sql(col: Column) -> str:
    """The most frequent values, ties broken by value so the profile is reproducible."""
    value = f"CAST({col.ident} AS VARCHAR)"
    return (
        f"SELECT {value}, count(*) FROM {TABLE} WHERE {col.ident} IS NOT NULL "
        "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $top"
    )


def sample_sql(relation: str, column: str) -> str:
    """The first `$limit` non-blank values of a column, as text, in file order."""
    value = f"trim(CAST({quote_ident(column)} AS VARCHAR))"
    return f"SELECT {value} FROM {relation} WHERE {value} <> '' LIMIT $limit"


def schema_sql() -> str:
    return f"SELECT * FROM {TABLE} LIMIT 0"


def count_sql() -> str:
    # Answered from Parquet footers without reading data.
    return f"SELECT count(*) FROM {TABLE}"


_SUFFIXES: dict[str, TableFormat] = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".tsv": "csv",
    ".tsv.gz": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def table_format(path: Path) -> TableFormat:
    """The format a file name says (.csv, .csv.gz, .tsv, .tsv.gz, .parquet, .pq)."""
    name = path.name.lower()
    for suffix, fmt in _SUFFIXES.items():
        if name.endswith(suffix):
            return fmt
    known = ", ".join(_SUFFIXES)
    raise InvalidInput(
        f"{path}: cannot tell the table format from its name; use one of {known}, "
        "or pass format='csv' or format='parquet'"
    )
