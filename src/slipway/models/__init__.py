"""Models: packages and flavors, signatures, the registry (versions, aliases, lineage), cards.

`import slipway as sw; sw.models.log_model(...)` reaches this package, since `slipway.models`
is its name. The SDK's model functions (log_model, load, get_version, set_alias,
list_versions, evaluate, set_card, to_onnx) live in `slipway.models._fluent` and are served from
here on first use (PEP 562): the service modules of this package never import the SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slipway.models._package import load_package as load_package
    from slipway.models._package import save_package as save_package

PACKAGE_FUNCTIONS = ("save_package", "load_package")  # a model package as a folder
SDK_FUNCTIONS = (
    "log_model",
    "load",
    "get_version",
    "set_alias",
    "list_versions",
    "evaluate",
    "set_card",
    "to_onnx",
    "approve",
    "promote",
)


def __getattr__(name: str) -> Any:
    if name in SDK_FUNCTIONS:
        return getattr(importlib.import_module("slipway.models._fluent"), name)
    if name in PACKAGE_FUNCTIONS:
        return getattr(importlib.import_module("slipway.models._package"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *SDK_FUNCTIONS, *PACKAGE_FUNCTIONS])
