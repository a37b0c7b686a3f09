"""Data versioning: datasets, versions, profiles.

`import slipway as sw; sw.data.add(...)` reaches this package, since `slipway.data` is its
name. The SDK's data functions (add, get, get_path, load_table, status, checkout, log) live in
`slipway.data._fluent` and are served from here on first use (PEP 562): the service modules of
this package never import the SDK.
"""

from __future__ import annotations

import importlib
from typing import Any

SDK_FUNCTIONS = ("add", "checkout", "get", "get_path", "load_table", "log", "status")


def __getattr__(name: str) -> Any:
    if name in SDK_FUNCTIONS:
        return getattr(importlib.import_module("slipway.data._fluent"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *SDK_FUNCTIONS])
