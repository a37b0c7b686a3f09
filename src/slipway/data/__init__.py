"""Data versioning: `import slipway as sw; sw.data.add("data/train")`.

The functions work through the current client (`slipway.client.current_client`); `Data`
does the same through a client of your choosing, or, without one, in a workspace of its
own, connecting only when it must (the CLI's way).
"""

from __future__ import annotations

from slipway.data._data import AddResult, Data
from slipway.data._fluent import (
    add,
    checkout,
    diff,
    get,
    get_path,
    list_datasets,
    load_table,
    log,
    profile,
    pull,
    push,
    status,
)
from slipway.data._sync import SyncResult

__all__ = [
    "AddResult",
    "Data",
    "SyncResult",
    "add",
    "checkout",
    "diff",
    "get",
    "get_path",
    "list_datasets",
    "load_table",
    "log",
    "profile",
    "pull",
    "push",
    "status",
]


def __dir__() -> list[str]:
    return sorted(__all__)
