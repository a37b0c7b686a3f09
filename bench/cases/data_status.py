"""`data_status`: a no-op status over 50,000 tracked files, `slipway data status` vs `dvc status`.

Measured in the data-versioning sequence of `_data_tree`, which the first `data_*` case of
a run executes and the others report from."""

from __future__ import annotations

from cases._common import Case, Options, Row
from cases._data_tree import min_free_bytes, rows_for


def run(options: Options) -> list[Row]:
    return rows_for(options, "status")


CASE = Case(
    name="data_status",
    summary=(
        "no-op `slipway data status` over 50,000 tracked files (5,000 with --quick) vs `dvc status`"
    ),
    run=run,
    min_free_bytes=min_free_bytes,
    anchors_needed=("dvc",),
)
