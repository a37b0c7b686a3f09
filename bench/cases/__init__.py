"""The benchmark cases, in the order they run. To add one: write a module exposing
`CASE = Case(...)` (see `_common.Case`) and list it here."""

from cases import (
    add_2gib,
    cli_help,
    data_add,
    data_checkout,
    data_push,
    data_readd,
    data_status,
    model_serve,
    pipeline_chain,
    track_batch,
    track_runs,
    track_search,
    track_single,
)
from cases._common import Case

CASES: dict[str, Case] = {
    case.name: case
    for case in (
        cli_help.CASE,
        add_2gib.CASE,
        data_add.CASE,
        data_status.CASE,
        data_readd.CASE,
        data_push.CASE,
        data_checkout.CASE,
        track_single.CASE,
        track_batch.CASE,
        track_runs.CASE,
        track_search.CASE,
        model_serve.CASE,
        pipeline_chain.CASE,
    )
}

__all__ = ["CASES", "Case"]
