"""How HTTP requests reach a Slipway server: `http.client` when it can, httpx when it must.

A run's start and end are one small request each. httpx's client layers, httpcore and h11 cost
about 0.6 ms of CPU per request here, more than the server's own work on such a write, while
`http.client` (the standard library) sends the same request in a fraction of that. It is used
for plain `http://` servers reached directly, over kept-alive connections (one per concurrent
caller: the SDK's thread and its logging thread each keep theirs). Servers behind TLS or a
proxy from the environment go through httpx, which knows certifi, proxy variables and
NO_PROXY, as before.
"""

from __future__ import annotations

import http.client
import select
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any, Protocol
from urllib.parse import SplitResult, urlsplit

from slipway._version import __version__

Content = bytes | Iterator[bytes] | None
USER_AGENT = f"slipway/{__version__}"
IDLE_CONNECTIONS = 8  # kept open per server; more concurrent callers open and close theirs
# How a kept-alive connection that the server closed fails when it is used again.
_DROPPED = (
    http.client.RemoteDisconnected,
    BrokenPipeError,
    ConnectionResetError,
    ConnectionAbortedError,
)


class TransportFailure(Exception):
    """The server could not be reached, or its answer broke off; the text says why."""


class Answer(Protocol):
    """The part of a response the HTTP backend reads."""

    status_code: int

    def read(self) -> bytes: ...

    def iter_bytes(self, size: int) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class Transport(Protocol):
    def send(
        self,
        method: str,
        target: str,
        *,
        content: Content,
        headers: dict[str, str],
        stream: bool,
    ) -> Answer:
        """Send a request for `target` (path and query); TransportFailure if unreachable."""
        ...

    def close(self) -> None: ...


def transport_for(base_url: str, timeout: float) -> Transport:
    url = urlsplit(base_url)
    if url.scheme == "http" and url.hostname and not _proxied(url):
        return DirectTransport(url, timeout)
    return HttpxTransport(base_url, timeout)


def _proxied(url: SplitResult) -> bool:
    """Whether httpx would send requests for `url` through a proxy from the environment."""
    proxies = urllib.request.getproxies_environment()
    if not (proxies.get("http") or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(url.netloc)  # NO_PROXY


def reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


# -- http.client ---------------------------------------------------------------------------


class DirectTransport:
    def __init__(self, url: SplitResult, timeout: float) -> None:
        self._host = url.hostname or ""
        self._port = url.port or 80
        self._prefix = url.path.rstrip("/")
        self._timeout = timeout
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def send(
        self,
        method: str,
        target: str,
        *,
        content: Content,
        headers: dict[str, str],
        stream: bool,
    ) -> Answer:
        resendable = content is None or isinstance(content, bytes)
        # A streamed body (an upload) cannot be sent twice, so it gets a new connection,
        # which the server cannot have closed in the meantime.
        conn, reused = self._connection() if resendable else (self._new_connection(), False)
        try:
            return self._exchange(conn, method, target, content, headers, stream)
        except _DROPPED:
            conn.close()
            if not reused:
                raise TransportFailure("the server closed the connection") from None
            # A kept-alive connection the server closed just as we sent on it (its idle
            # timeout; it never read the request): once more on a new one, as xmlrpc.client.
            conn = self._new_connection()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise TransportFailure(reason(exc)) from None
        try:
            return self._exchange(conn, method, target, content, headers, stream)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise TransportFailure(reason(exc)) from None

    def _exchange(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        target: str,
        content: Content,
        headers: dict[str, str],
        stream: bool,
    ) -> Answer:
        conn.request(
            method,
            self._prefix + target,
            body=content,
            headers={"User-Agent": USER_AGENT, **headers},
        )
        response = conn.getresponse()
        answer = _DirectAnswer(response, lambda: self._release(conn, response))
        if not stream:
            answer.read()  # the connection is free again once the body is read
        return answer

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection (reused: True), or a new one."""
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if _still_open(conn):
                    return conn, True
                conn.close()
        return self._new_connection(), False

    def _new_connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)

    def _release(
        self, conn: http.client.HTTPConnection, response: http.client.HTTPResponse
    ) -> None:
        if response.will_close or conn.sock is None:
            conn.close()
            return
        with self._lock:
            if len(self._idle) < IDLE_CONNECTIONS:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _still_open(conn: http.client.HTTPConnection) -> bool:
    """An idle kept-alive socket that has something to read was closed by the server (its
    keep-alive timeout): sending on it would fail, so it is replaced before use."""
    if conn.sock is None:
        return False
    try:
        readable, _, _ = select.select([conn.sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


class _DirectAnswer:
    def __init__(self, response: http.client.HTTPResponse, release: Any) -> None:
        self.status_code = response.status
        self._response = response
        self._release = release
        self._body: bytes | None = None

    def read(self) -> bytes:
        if self._body is None:
            try:
                self._body = self._response.read()
            except (OSError, http.client.HTTPException) as exc:
                self._response.close()
                raise TransportFailure(f"the answer broke off: {reason(exc)}") from None
            self._release()
        return self._body

    def iter_bytes(self, size: int) -> Iterator[bytes]:
        try:
            while chunk := self._response.read(size):
                yield chunk
        except (OSError, http.client.HTTPException) as exc:
            self._response.close()
            raise TransportFailure(f"the answer broke off: {reason(exc)}") from None
        self._body = b""
        self._release()

    def close(self) -> None:
        if self._body is None:  # not read to the end: the connection cannot be reused
            self._response.close()


# -- httpx ---------------------------------------------------------------------------------


class HttpxTransport:
    def __init__(self, base_url: str, timeout: float) -> None:
        import httpx

        self._http = httpx.Client(
            base_url=base_url, timeout=timeout, headers={"User-Agent": USER_AGENT}
        )

    def send(
        self,
        method: str,
        target: str,
        *,
        content: Content,
        headers: dict[str, str],
        stream: bool,
    ) -> Answer:
        import httpx

        request = self._http.build_request(method, target, content=content, headers=headers)
        try:
            response = self._http.send(request, stream=stream)
        except httpx.TransportError as exc:
            raise TransportFailure(reason(exc)) from None
        return _HttpxAnswer(response)

    def close(self) -> None:
        self._http.close()


class _HttpxAnswer:
    def __init__(self, response: Any) -> None:
        self.status_code: int = response.status_code
        self._response = response

    def read(self) -> bytes:
        import httpx

        try:
            return bytes(self._response.read())
        except httpx.TransportError as exc:
            raise TransportFailure(f"the answer broke off: {reason(exc)}") from None

    def iter_bytes(self, size: int) -> Iterator[bytes]:
        import httpx

        try:
            yield from self._response.iter_bytes(size)
        except httpx.TransportError as exc:
            raise TransportFailure(f"the answer broke off: {reason(exc)}") from None

    def close(self) -> None:
        self._response.close()
