"""`data_add`: add a tree of 50,000 small files, `slipway data add` vs `dvc add`.

Measured in the data-versioning sequence of `_data_tree`, which the first `data_*` case of
a run executes and the others report from."""

from __future__ import annotations

from cases._common import Case, Options, Row
from cases._data_tree import min_free_bytes, rows_for


def run(options: Options) -> list[Row]:
    return rows_for(options, "add")


CASE = Case(
    name="data_add",
    summary=(
        "`slipway data add data` on 50,000 files of 1-8 KiB in 50 folders (5,000 with "
        "--quick) vs `dvc add data`, with `cp -a` of the tree for reference"
    ),
    run=run,
    min_free_bytes=min_free_bytes,
    anchors_needed=("dvc",),
)
