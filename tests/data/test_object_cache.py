"""A client remembers which objects its store holds in one place: what data versioning
stored or saw stored, the rest of the client does not ask about again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from slipway.client import Client, HttpBackend, data_objects
from slipway.objects import hash_bytes


class CountingBackend(HttpBackend):
    """The HTTP backend, counting the operations it is asked for."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.calls: list[str] = []

    def call(self, name: str, /, **arguments: Any) -> Any:
        self.calls.append(name)
        return super().call(name, **arguments)


def test_what_data_stored_the_client_knows(live_server: Any, workspace: Path) -> None:
    backend = CountingBackend(live_server.url)
    with Client(backend) as client:
        files = data_objects(client.backend, client.objects)
        table = workspace / "t.csv"
        table.write_text("a,b\n1,2\n")
        [(stored, created)] = files.store_files([str(table)], [table.stat().st_size])
        profile = files.store_bytes(b'{"t.csv": {}}')
        assert created and files.present({stored, profile}) == {stored, profile}
        backend.calls.clear()
        # A run storing the same bytes (its package list, say) asks nothing more.
        assert client.objects.upload_bytes(b'{"t.csv": {}}').hash == profile
        assert client.objects.present([stored]) == {stored}
        again = data_objects(client.backend, client.objects)
        assert again.present({stored, profile}) == {stored, profile}
        assert backend.calls == []
        # What it was never told about, it asks the store.
        assert client.objects.present([hash_bytes(b"elsewhere")]) == set()
        assert backend.calls == ["missing_objects"]
