"""Slipway: one self-hosted tool for the whole lifecycle of a model.

Imports are lazy so `slipway --help` and `import slipway` stay fast; the names below load on
first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from slipway._version import __version__

_LAZY = {
    "Client": "slipway.client",
    "connect": "slipway.sdk",
    "current_client": "slipway.sdk",
    "using": "slipway.sdk",
    "create_project": "slipway.sdk",
    "get_project": "slipway.sdk",
    "list_projects": "slipway.sdk",
    "delete_project": "slipway.sdk",
    "load_settings": "slipway.config",
    "Settings": "slipway.config",
}

__all__ = [
    "Client",
    "Settings",
    "__version__",
    "connect",
    "create_project",
    "current_client",
    "delete_project",
    "get_project",
    "list_projects",
    "load_settings",
    "using",
]

if TYPE_CHECKING:
    from slipway.client import Client
    from slipway.config import Settings, load_settings
    from slipway.sdk import (
        connect,
        create_project,
        current_client,
        delete_project,
        get_project,
        list_projects,
        using,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'slipway' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
