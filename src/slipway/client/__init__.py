"""The client: one interface to operations, embedded or over HTTP."""

from slipway.client._backends import Backend, EmbeddedBackend, HttpBackend
from slipway.client._client import Client

__all__ = ["Backend", "Client", "EmbeddedBackend", "HttpBackend"]
