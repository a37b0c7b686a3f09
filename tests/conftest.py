"""Shared fixtures: real PostgreSQL, moto's S3 server over HTTP, workspaces, a live server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from slipway.client import Client, EmbeddedBackend, HttpBackend
from slipway.config import Settings, load_settings
from slipway.context import Context

# -- markers --------------------------------------------------------------------------------

_NEEDS = {
    "postgres": {"pg_server", "pg_url"},
    "s3": {"moto_endpoint", "s3_bucket", "s3_options"},
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the services it reaches through its fixtures, however indirectly
    (`-m "not postgres"` runs without PostgreSQL): a fixture it names, or the parameter of
    one it uses (`metadata_url`'s "postgres", `objects_location`'s "s3")."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        chosen = {str(v) for v in callspec.params.values()} if callspec is not None else set()
        for marker, fixtures in _NEEDS.items():
            if names & fixtures or any(marker in value for value in chosen):
                item.add_marker(getattr(pytest.mark, marker))


PG_ADMIN_URL = os.environ.get(
    "SLIPWAY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
VENV_BIN = Path(sys.executable).parent
SLIPWAY = str(VENV_BIN / "slipway")


# -- PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin URL of the local PostgreSQL; fails loudly if it is not running."""
    import psycopg

    dsn = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        psycopg.connect(dsn, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL} (make test starts it): {exc}")
    return dsn


@contextmanager
def temporary_pg_database(pg_server: str) -> Iterator[str]:
    """Create a database of its own on the local server; drop it afterwards."""
    import psycopg

    name = f"slipway_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh database of this test's own, dropped afterwards."""
    with temporary_pg_database(pg_server) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'meta' / 'slipway.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def metadata_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once against SQLite and once against PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(fixture))


# -- S3 (moto's server over HTTP) -------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_options(moto_endpoint: str) -> dict[str, object]:
    return {
        "key": "testing",
        "secret": "testing",
        "endpoint_url": moto_endpoint,
        "client_kwargs": {"region_name": "us-east-1"},
        "skip_instance_cache": True,
    }


@pytest.fixture
def s3_bucket(moto_endpoint: str) -> str:
    import boto3

    name = f"bucket-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
def objects_location(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[str, dict[str, object]]:
    """(url, options) of an empty object store: a local folder, then an S3 bucket over HTTP."""
    if request.param == "local":
        return f"file://{tmp_path / 'objects'}", {}
    bucket = request.getfixturevalue("s3_bucket")
    return f"s3://{bucket}/objects", request.getfixturevalue("s3_options")


# -- workspaces and servers -----------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder as cwd, with no SLIPWAY_* variables leaking in from the caller."""
    for name in list(os.environ):
        if name.startswith("SLIPWAY_"):
            monkeypatch.delenv(name)
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


def settings_for(root: Path, metadata_url: str) -> Settings:
    return load_settings(root / ".slipway", env={"SLIPWAY_METADATA_URL": metadata_url})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url

    def stop(self) -> str:
        self.process.terminate()
        try:
            out, _ = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        return out


def start_server(root: Path, env: dict[str, str]) -> LiveServer:
    """Run `slipway server` as a user would, on a free loopback port; wait until it answers."""
    port = free_port()
    process = subprocess.Popen(
        [SLIPWAY, "server", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"slipway server exited: {process.communicate()[0]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return LiveServer(process, url)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"slipway server did not answer: {process.communicate()[0]}")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLIPWAY_")}
    env.update(extra)
    return env


@pytest.fixture
def live_server(workspace: Path, sqlite_url: str) -> Iterator[LiveServer]:
    server = start_server(workspace, clean_env(SLIPWAY_METADATA_URL=sqlite_url))
    yield server
    server.stop()


@pytest.fixture(params=["embedded-sqlite", "embedded-postgres", "remote"])
def any_client(
    request: pytest.FixtureRequest, workspace: Path, sqlite_url: str
) -> Iterator[Client]:
    if request.param == "remote":
        server = start_server(workspace, clean_env(SLIPWAY_METADATA_URL=sqlite_url))
        made = Client(HttpBackend(server.url))
        yield made
        made.close()
        server.stop()
        return
    url = sqlite_url if request.param == "embedded-sqlite" else request.getfixturevalue("pg_url")
    made = Client(EmbeddedBackend(Context.open(settings_for(workspace, url))))
    yield made
    made.close()
