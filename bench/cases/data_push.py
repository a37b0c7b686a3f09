"""`data_push`: push 50,000 files to a local folder, `slipway data push` vs `dvc push`.

Measured in the data-versioning sequence of `_data_tree`, which the first `data_*` case of
a run executes and the others report from."""

from __future__ import annotations

from cases._common import Case, Options, Row
from cases._data_tree import min_free_bytes, rows_for


def run(options: Options) -> list[Row]:
    return rows_for(options, "push")


CASE = Case(
    name="data_push",
    summary=(
        "`slipway data push` of 50,000 files (5,000 with --quick) to an empty local "
        "folder vs `dvc push`"
    ),
    run=run,
    min_free_bytes=min_free_bytes,
    anchors_needed=("dvc",),
)
