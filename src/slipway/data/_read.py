"""Reading a version back: its files materialized once into the workspace's cache, its
tables as pyarrow Tables."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from slipway.errors import InvalidInput
from slipway.workspace import is_table

if TYPE_CHECKING:
    import pyarrow

    from slipway.client import DataObjects
    from slipway.services.datasets.schemas import DatasetVersion
    from slipway.workspace import Progress


def materialize(
    objects: DataObjects, own: Path, version: DatasetVersion, progress: Progress
) -> Path:
    """The version's file or folder under `own/cache/versions/HASH/`, written (verified, in
    full or not at all) the first time and reused after."""
    from slipway.client import staged, write_tree

    cached = own / "cache" / "versions" / version.object_hash
    leaf = cached / (Path(version.path).name or version.name)
    if leaf.exists():
        return leaf
    with staged(cached) as staging:
        into = staging / leaf.name
        if version.kind == "file":
            with progress.task("writing", 1, version.size) as advance:
                objects.materialize([(version.object_hash, into, False)], advance)
        else:
            manifest = objects.manifest(version.object_hash)
            into.mkdir()
            files = len(manifest.entries)
            with progress.task("writing", files, manifest.size) as advance:
                write_tree(objects, manifest, into, advance)
    return leaf


def read_table(path: Path, ref: str, table: str | None = None) -> pyarrow.Table:
    """The CSV or Parquet table at `path`, or, in the folder `path`, the one `table` names
    (the only one when None)."""
    import pyarrow.csv
    import pyarrow.parquet

    if path.is_dir():
        candidates = sorted(
            p.relative_to(path).as_posix() for p in path.rglob("*") if is_table(p.name)
        )
        if table is None:
            if len(candidates) != 1:
                raise InvalidInput(
                    f"{ref} holds {len(candidates)} tables; pass table= one of {candidates}"
                )
            table = candidates[0]
        elif table not in candidates:
            raise InvalidInput(f"{ref} has no table {table!r}; it has {candidates}")
        path = path / table
    if path.name.endswith((".parquet", ".pq")):
        return pyarrow.parquet.read_table(path)
    if is_table(path.name):
        options = pyarrow.csv.ParseOptions(delimiter="\t" if path.name.endswith(".tsv") else ",")
        return pyarrow.csv.read_csv(path, parse_options=options)
    raise InvalidInput(f"{ref} is not a CSV or Parquet table")
