"""How a client reaches operations: in-process (embedded) or over HTTP (remote, with httpx:
kept-alive connections, proxies from the environment, TLS with certifi)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol
from urllib.parse import quote, urlencode

from pydantic import BaseModel, TypeAdapter

from slipway._version import __version__
from slipway.config import mask_url
from slipway.context import Context
from slipway.errors import SlipwayError, Unavailable, from_name
from slipway.operations import get, invoke
from slipway.services import catalog

if TYPE_CHECKING:
    import httpx


class Backend(Protocol):
    def call(self, name: str, /, **arguments: Any) -> Any: ...

    def close(self) -> None: ...


class EmbeddedBackend:
    """Calls services directly in this process, through the same dispatcher as the server."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def call(self, name: str, /, **arguments: Any) -> Any:
        catalog.load(name)  # the operation's service module, on its first call
        return invoke(self.ctx, name, **arguments)

    def close(self) -> None:
        self.ctx.close()


class HttpBackend:
    """Calls a `slipway server`; answers and errors come back as the same types as embedded."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        import httpx  # here: an embedded client never needs it

        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, timeout=timeout, headers={"User-Agent": USER_AGENT}
        )
        self._adapters: dict[str, TypeAdapter[Any]] = {}

    def call(self, name: str, /, **arguments: Any) -> Any:
        import httpx

        catalog.load(name)  # what the operation takes and answers: its service module's types
        op = get(name)
        target = op.path.format(
            **{p.name: quote(str(arguments[p.name]), safe="") for p in op.param("path")}
        )
        query = {
            p.name: _query_value(arguments[p.name])
            for p in op.param("query")
            if arguments.get(p.name) is not None
        }
        if query:
            target = f"{target}?{urlencode(query)}"
        body = next((arguments[p.name] for p in op.param("body") if p.name in arguments), None)
        blob = next((arguments[p.name] for p in op.param("blob") if p.name in arguments), None)
        request = self._http.build_request(
            op.method,
            target,
            content=_chunks(blob) if blob is not None else _json(body),
            headers=_BLOB if blob is not None else _JSON if body is not None else None,
        )
        try:
            answer = self._http.send(request, stream=op.streams)
            if op.streams:
                return _download(answer)
            data = answer.read()
        except httpx.TransportError as exc:
            raise Unavailable(
                f"cannot reach the Slipway server at {mask_url(self.base_url)}: {_reason(exc)}"
            ) from None
        if answer.status_code >= 400:
            raise _error_from(answer.status_code, data)
        if op.returns is None or answer.status_code == 204:
            return None
        adapter = self._adapters.get(name)
        if adapter is None:
            adapter = self._adapters[name] = TypeAdapter(op.returns)
        return adapter.validate_json(data)

    def close(self) -> None:
        self._http.close()


USER_AGENT = f"slipway/{__version__}"
_JSON = {"content-type": "application/json"}
_BLOB = {"content-type": "application/octet-stream"}
CHUNK = 1 << 20
SPOOL_IN_MEMORY = 8 << 20


def _json(body: Any) -> bytes | None:
    if isinstance(body, BaseModel):
        # Fields left at their defaults stay out: smaller bodies, and a server from before a
        # field was added (bodies forbid unknown fields) still takes requests that leave the
        # new field unused, such as a batch that does not end its run.
        return body.model_dump_json(exclude_defaults=True).encode()
    return None


def _chunks(reader: BinaryIO) -> Iterator[bytes]:
    while chunk := reader.read(CHUNK):
        yield chunk


def _download(answer: httpx.Response) -> BinaryIO:
    """Spool a streamed answer to a temporary file (constant memory) and hand it back."""
    try:
        if answer.status_code >= 400:
            raise _error_from(answer.status_code, answer.read())
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        for chunk in answer.iter_bytes(CHUNK):
            spool.write(chunk)
        spool.seek(0)
        return spool  # type: ignore[return-value]
    finally:
        answer.close()


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _query_value(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else value


def _error_from(status: int, data: bytes) -> SlipwayError:
    try:
        body = json.loads(data)
        return from_name(str(body["error"]), str(body["detail"]))
    except (ValueError, KeyError, TypeError):
        text = data.decode("utf-8", "replace").strip()
        first = text.splitlines()[0] if text else ""
        return SlipwayError(f"server answered HTTP {status} {first}".strip())
