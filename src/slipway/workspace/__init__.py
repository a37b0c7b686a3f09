"""The working copy: data tracked by pointer files, a stat cache, add, status and checkout.

`Workspace` is the engine the `slipway.data` verbs drive: it scans and stores tracked paths,
compares them with their pointers and writes versions back, reaching objects through the
client (`slipway.client.DataObjects`). It knows nothing of the metadata store: recording a
version is the caller's. Exports load on first use (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slipway._lazy import lazy_exports

if TYPE_CHECKING:
    from slipway.workspace._add import Stored
    from slipway.workspace._checkout import CheckoutResult
    from slipway.workspace._parts import is_table
    from slipway.workspace._pointers import (
        SUFFIX,
        Pointer,
        data_path,
        find_pointers,
        ignore_in_git,
        pointer_path,
        read_pointer,
        write_pointer,
    )
    from slipway.workspace._progress import NoProgress, Progress
    from slipway.workspace._status import PathStatus
    from slipway.workspace._workspace import Workspace

__all__ = [
    "SUFFIX",
    "CheckoutResult",
    "NoProgress",
    "PathStatus",
    "Pointer",
    "Progress",
    "Stored",
    "Workspace",
    "data_path",
    "find_pointers",
    "ignore_in_git",
    "is_table",
    "pointer_path",
    "read_pointer",
    "write_pointer",
]
_WHERE = {
    "Stored": "slipway.workspace._add",
    "CheckoutResult": "slipway.workspace._checkout",
    "is_table": "slipway.workspace._parts",
    "SUFFIX": "slipway.workspace._pointers",
    "Pointer": "slipway.workspace._pointers",
    "data_path": "slipway.workspace._pointers",
    "find_pointers": "slipway.workspace._pointers",
    "ignore_in_git": "slipway.workspace._pointers",
    "pointer_path": "slipway.workspace._pointers",
    "read_pointer": "slipway.workspace._pointers",
    "write_pointer": "slipway.workspace._pointers",
    "NoProgress": "slipway.workspace._progress",
    "Progress": "slipway.workspace._progress",
    "PathStatus": "slipway.workspace._status",
    "Workspace": "slipway.workspace._workspace",
}

__getattr__ = lazy_exports(__name__, _WHERE)
