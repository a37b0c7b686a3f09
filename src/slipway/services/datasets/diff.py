"""What changed between two versions of a dataset: files, and for each changed table its rows,
schema and column statistics.

Rows are compared in DuckDB over the two files (EXCEPT ALL on the columns both have, so a
duplicated row counts twice), never in pandas; statistics come from the stored profiles.
SQL text is built only from constant table names, identifiers quoted by
`_table_sql.quote_ident` and paths quoted by `_table_sql.quote_path` (hence the S608 noqa).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from slipway.objects import Manifest

if TYPE_CHECKING:
    import duckdb

# Column statistics compared between two profiles, in this order.
_STATS = ("null_rate", "distinct_count", "min", "max", "mean", "std")
_QUANTILE = "0.5"


class FileChanges(BaseModel):
    added: list[str]
    removed: list[str]
    modified: list[str]
    unchanged: int


class StatChange(BaseModel):
    column: str
    stat: str
    before: Any
    after: Any


class TableDiff(BaseModel):
    path: str
    rows_before: int
    rows_after: int
    rows_added: int  # rows of the new version not in the old (as a multiset, on shared columns)
    rows_removed: int
    columns_added: list[str]
    columns_removed: list[str]
    type_changes: dict[str, tuple[str, str]]  # column -> (before, after)
    stats: list[StatChange]


class DatasetDiff(BaseModel):
    base: str
    target: str
    files: FileChanges
    tables: list[TableDiff]


def diff_manifests(old: Manifest, new: Manifest) -> FileChanges:
    before = {e.path: e.hash for e in old.entries}
    after = {e.path: e.hash for e in new.entries}
    both = before.keys() & after.keys()
    modified = sorted(p for p in both if before[p] != after[p])
    return FileChanges(
        added=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
        modified=modified,
        unchanged=len(both) - len(modified),
    )


def diff_table(
    path: str,
    old_file: Path,
    new_file: Path,
    old_profile: dict[str, Any] | None,
    new_profile: dict[str, Any] | None,
) -> TableDiff:
    """Rows added and removed, schema changes and statistic changes of one table."""
    # DuckDB and pyarrow load only when a table is compared: recording a version (in the
    # same service module) must not pay for them.
    from slipway.services.datasets import tables as sql

    fmt = sql.table_format(Path(path))
    tab = path.lower().endswith((".tsv", ".tsv.gz"))
    with tempfile.TemporaryDirectory(prefix="slipway-diff-") as work:
        con = sql.connect(Path(work), memory_limit="1GB", threads=2)
        try:
            old_cols = _open(con, old_file, fmt, tab, "old_t")
            new_cols = _open(con, new_file, fmt, tab, "new_t")
            shared = [name for name in old_cols if name in new_cols]
            listed = ", ".join(sql.quote_ident(name) for name in shared) or "1"
            removed, added = (
                _count(con, f"SELECT {listed} FROM {a} EXCEPT ALL SELECT {listed} FROM {b}")  # noqa: S608
                for a, b in (("old_t", "new_t"), ("new_t", "old_t"))
            )
            rows_before = _count(con, "SELECT * FROM old_t")
            rows_after = _count(con, "SELECT * FROM new_t")
        finally:
            con.close()
    return TableDiff(
        path=path,
        rows_before=rows_before,
        rows_after=rows_after,
        rows_added=added,
        rows_removed=removed,
        columns_added=[c for c in new_cols if c not in old_cols],
        columns_removed=[c for c in old_cols if c not in new_cols],
        type_changes={c: (old_cols[c], new_cols[c]) for c in shared if old_cols[c] != new_cols[c]},
        stats=_stat_changes(old_profile, new_profile),
    )


def _open(
    con: duckdb.DuckDBPyConnection, file: Path, fmt: str, tab: bool, name: str
) -> dict[str, str]:
    from slipway.services.datasets import tables as sql

    source = sql.quote_path(file)
    if fmt == "parquet":
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({source})")  # noqa: S608
    else:
        delim = ", delim='\t'" if tab else ""
        con.execute(
            f"CREATE TABLE {name} AS SELECT * FROM "  # noqa: S608
            f"read_csv({source}, header=true, skip=0, sample_size=-1{delim})"
        )
    return {str(row[0]): str(row[1]) for row in con.execute(f"DESCRIBE {name}").fetchall()}


def _count(con: duckdb.DuckDBPyConnection, query: str) -> int:
    row = con.execute(f"SELECT count(*) FROM ({query})").fetchone()  # noqa: S608
    return int(row[0]) if row else 0


def _stat_changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[StatChange]:
    if not old or not new:
        return []
    before = {c["name"]: c for c in old.get("columns", [])}
    changes = []
    for column in new.get("columns", []):
        prior = before.get(column["name"])
        if prior is None:
            continue
        pairs = [(stat, prior.get(stat), column.get(stat)) for stat in _STATS]
        median = [
            (prior.get("quantiles") or {}).get(_QUANTILE),
            (column.get("quantiles") or {}).get(_QUANTILE),
        ]
        pairs.append(("median", median[0], median[1]))
        changes += [
            StatChange(column=column["name"], stat=stat, before=a, after=b)
            for stat, a, b in pairs
            if not _same(a, b)
        ]
    return changes


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
    return bool(a == b)
