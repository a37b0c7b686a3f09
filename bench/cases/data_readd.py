"""`data_readd`: add again after changing 10 of 50,000 files, `slipway data add` vs `dvc add`,
and again on a tree of 20,000 files, where DVC's fixed cost is a larger share of its time.

Measured in the data-versioning sequence of `_data_tree`, which the first `data_*` case of
a run executes and the others report from."""

from __future__ import annotations

from cases._common import Case, Options, Row
from cases._data_tree import min_free_bytes, rows_for


def run(options: Options) -> list[Row]:
    return rows_for(options, "readd")


CASE = Case(
    name="data_readd",
    summary=(
        "`slipway data add data` again after appending to 10 of 50,000 files (5,000 "
        "with --quick), and of 20,000 (2,000), vs `dvc add data`"
    ),
    run=run,
    min_free_bytes=min_free_bytes,
    anchors_needed=("dvc",),
)
