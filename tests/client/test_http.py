"""The remote client over HTTP: kept-alive connections, proxies, failures."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest

from slipway.client import HttpBackend
from slipway.errors import Unavailable


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn answers
    seen: list[tuple[str, str, bytes, int]] = []
    close_after_answer = False

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        self.seen.append(("POST", self.path, body, self.server.connections))  # type: ignore[attr-defined]
        payload = b'{"hashes": []}'
        self.send_response(201)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        if self.close_after_answer:
            # What a server does when a kept-alive connection idles past its timeout: it
            # closes without saying so in the answer.
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


class Server(http.server.ThreadingHTTPServer):
    connections = 0

    def process_request(self, request: object, client_address: object) -> None:
        self.connections += 1
        super().process_request(request, client_address)  # type: ignore[arg-type]


@pytest.fixture
def server() -> Iterator[Server]:
    Handler.seen = []
    Handler.close_after_answer = False
    httpd = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url_of(server: Server, path: str = "") -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}{path}"


def test_a_proxy_from_the_environment_is_used_unless_no_proxy_names_the_server(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test server plays the proxy: a proxied request names the whole URL in its target.
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", url_of(server))
    backend = HttpBackend("http://slipway.invalid:8080")
    backend.call("missing_objects", body=_hashes())
    backend.close()
    assert Handler.seen[-1][1] == "http://slipway.invalid:8080/objects/missing"

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    direct = HttpBackend(url_of(server))
    direct.call("missing_objects", body=_hashes())
    direct.close()
    assert Handler.seen[-1][1] == "/objects/missing"


def test_requests_share_one_kept_alive_connection(server: Server) -> None:
    backend = HttpBackend(url_of(server, "/prefix"))
    for _ in range(3):
        backend.call("missing_objects", body=_hashes())
    backend.close()
    assert [path for _, path, _, _ in Handler.seen] == ["/prefix/objects/missing"] * 3
    assert server.connections == 1
    assert Handler.seen[0][2] == b'{"hashes":[]}'


def test_a_connection_the_server_closed_while_idle_is_replaced(server: Server) -> None:
    Handler.close_after_answer = True
    backend = HttpBackend(url_of(server))
    for _ in range(3):
        backend.call("missing_objects", body=_hashes())
        # Idle, as a connection is between a user's calls: the server's close arrives. (A
        # request sent at the very moment the server closes fails: nothing is sent twice.)
        time.sleep(0.2)
    backend.close()
    assert len(Handler.seen) == 3 and server.connections == 3


def test_an_unreachable_server_is_unavailable(server: Server) -> None:
    url = url_of(server)
    server.shutdown()
    server.server_close()
    with pytest.raises(Unavailable, match=f"cannot reach the Slipway server at {url}"):
        HttpBackend(url).call("missing_objects", body=_hashes())


def _hashes() -> object:
    from slipway.services.blobs.schemas import HashList

    return HashList(hashes=[])
