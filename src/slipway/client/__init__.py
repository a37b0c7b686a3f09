"""The client: one interface to operations, embedded or over HTTP.

Exports load on first use (PEP 562), so a command that only reads the workspace, such as
`slipway data status`, does not pay for importing the metadata store and the HTTP stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slipway._lazy import lazy_exports

if TYPE_CHECKING:
    from slipway.client._backends import Backend, EmbeddedBackend, HttpBackend
    from slipway.client._batcher import Batcher
    from slipway.client._client import Client
    from slipway.client._current import connect, current_client, using
    from slipway.client._data_objects import (
        DataObjects,
        StoreObjects,
        data_objects,
        staged,
        write_tree,
    )
    from slipway.client._datasets import DatasetsClient
    from slipway.client._models import ModelsClient
    from slipway.client._objects import ObjectsClient

__all__ = [
    "Backend",
    "Batcher",
    "Client",
    "DataObjects",
    "DatasetsClient",
    "EmbeddedBackend",
    "HttpBackend",
    "ModelsClient",
    "ObjectsClient",
    "StoreObjects",
    "connect",
    "current_client",
    "data_objects",
    "staged",
    "using",
    "write_tree",
]
_WHERE = {
    "Backend": "slipway.client._backends",
    "EmbeddedBackend": "slipway.client._backends",
    "HttpBackend": "slipway.client._backends",
    "Batcher": "slipway.client._batcher",
    "Client": "slipway.client._client",
    "connect": "slipway.client._current",
    "current_client": "slipway.client._current",
    "using": "slipway.client._current",
    "DataObjects": "slipway.client._data_objects",
    "staged": "slipway.client._data_objects",
    "write_tree": "slipway.client._data_objects",
    "ModelsClient": "slipway.client._models",
    "StoreObjects": "slipway.client._data_objects",
    "data_objects": "slipway.client._data_objects",
    "DatasetsClient": "slipway.client._datasets",
    "ObjectsClient": "slipway.client._objects",
}

__getattr__ = lazy_exports(__name__, _WHERE)
