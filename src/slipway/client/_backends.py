"""How a client reaches operations: in-process (embedded) or over HTTP (remote)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any, BinaryIO, Protocol
from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter

from slipway.config import mask_url
from slipway.context import Context
from slipway.errors import SlipwayError, Unavailable, from_name
from slipway.operations import get, invoke


class Backend(Protocol):
    def call(self, name: str, /, **arguments: Any) -> Any: ...

    def close(self) -> None: ...


class EmbeddedBackend:
    """Calls services directly in this process, through the same dispatcher as the server."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def call(self, name: str, /, **arguments: Any) -> Any:
        return invoke(self.ctx, name, **arguments)

    def close(self) -> None:
        self.ctx.close()


class HttpBackend:
    """Calls a `slipway server`; answers and errors come back as the same types as embedded."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)
        self._adapters: dict[str, TypeAdapter[Any]] = {}

    def call(self, name: str, /, **arguments: Any) -> Any:
        import httpx

        op = get(name)
        path = op.path.format(
            **{p.name: quote(str(arguments[p.name]), safe="") for p in op.param("path")}
        )
        query = {
            p.name: _query_value(arguments[p.name])
            for p in op.param("query")
            if arguments.get(p.name) is not None
        }
        body = next((arguments[p.name] for p in op.param("body") if p.name in arguments), None)
        blob = next((arguments[p.name] for p in op.param("blob") if p.name in arguments), None)
        request = self._http.build_request(
            op.method,
            path,
            params=query,
            content=_chunks(blob) if blob is not None else _json(body),
            headers=_BLOB if blob is not None else _JSON if body is not None else None,
        )
        try:
            response = self._http.send(request, stream=op.streams)
        except httpx.TransportError as exc:
            raise Unavailable(
                f"cannot reach the Slipway server at {mask_url(self.base_url)}: {exc}"
            ) from None
        if op.streams:
            return _download(response)
        if response.status_code >= 400:
            raise _error_from(response)
        if op.returns is None or response.status_code == 204:
            return None
        if name not in self._adapters:
            self._adapters[name] = TypeAdapter(op.returns)
        return self._adapters[name].validate_python(response.json())

    def close(self) -> None:
        self._http.close()


_JSON = {"content-type": "application/json"}
_BLOB = {"content-type": "application/octet-stream"}
CHUNK = 1 << 20
SPOOL_IN_MEMORY = 8 << 20


def _json(body: Any) -> bytes | None:
    if isinstance(body, BaseModel):
        return body.model_dump_json().encode()
    return None


def _chunks(reader: BinaryIO) -> Iterator[bytes]:
    while chunk := reader.read(CHUNK):
        yield chunk


def _download(response: Any) -> BinaryIO:
    """Spool a streamed answer to a temporary file (constant memory) and hand it back."""
    try:
        if response.status_code >= 400:
            response.read()
            raise _error_from(response)
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        for chunk in response.iter_bytes(CHUNK):
            spool.write(chunk)
        spool.seek(0)
        return spool  # type: ignore[return-value]
    finally:
        response.close()


def _query_value(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else value


def _error_from(response: Any) -> SlipwayError:
    try:
        body = response.json()
        return from_name(str(body["error"]), str(body["detail"]))
    except (ValueError, KeyError, TypeError):
        text = response.text.strip().splitlines()[0] if response.text.strip() else ""
        return SlipwayError(f"server answered HTTP {response.status_code} {text}".strip())
