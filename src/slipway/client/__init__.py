"""The client: one interface to operations, embedded or over HTTP.

Exports load on first use (PEP 562), so a command that only reads the workspace, such as
`slipway data status`, does not pay for importing the metadata store and the HTTP stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slipway._lazy import lazy_exports

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

__getattr__ = lazy_exports(__name__, _WHERE)
