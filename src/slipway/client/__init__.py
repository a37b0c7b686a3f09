"""The client: one interface to operations, embedded or over HTTP.

Exports load on first use (PEP 562), so a command that only reads the workspace, such as
`slipway data status`, does not pay for importing the metadata store and the HTTP stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slipway.client._backends import Backend, EmbeddedBackend, HttpBackend
    from slipway.client._client import Client

__all__ = ["Backend", "Client", "EmbeddedBackend", "HttpBackend"]
_WHERE = {
    "Backend": "slipway.client._backends",
    "EmbeddedBackend": "slipway.client._backends",
    "HttpBackend": "slipway.client._backends",
    "Client": "slipway.client._client",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
