"""`data_checkout`: restore 50,000 missing files, `slipway data checkout` vs `dvc checkout`.

Measured in the data-versioning sequence of `_data_tree`, which the first `data_*` case of
a run executes and the others report from."""

from __future__ import annotations

from cases._common import Case, Options, Row
from cases._data_tree import min_free_bytes, rows_for


def run(options: Options) -> list[Row]:
    return rows_for(options, "checkout")


CASE = Case(
    name="data_checkout",
    summary=(
        "`slipway data checkout` of 50,000 files (5,000 with --quick) into a missing "
        "folder vs `dvc checkout`, and `cp -a` of the tree into a new folder as the reference"
    ),
    run=run,
    min_free_bytes=min_free_bytes,
    anchors_needed=("dvc",),
)
