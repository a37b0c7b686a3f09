"""Tracking servers for the over-HTTP measurements: bound to 127.0.0.1, always stopped.

Each server runs in its own process group (session), so stopping it reaches the workers it
forks too: SIGTERM to the group, then SIGKILL to whatever is left.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from cases._common import ANCHORS_BIN, SLIPWAY_BIN, BenchError, shell_line, tail

HOST = "127.0.0.1"
START_TIMEOUT_S = 180.0  # mlflow server took 14-24 s to answer on a 2-CPU VM
STOP_GRACE_S = 10.0


@dataclass(frozen=True)
class Server:
    url: str
    command: str  # as a user would type it, for the report
    startup_s: float  # spawn until the health check answered


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def slipway_server(workspace: Path, env: Mapping[str, str]) -> Iterator[Server]:
    """`slipway server` on a fresh workspace (`workspace` is the `.slipway` folder)."""
    port = free_port()
    cmd: list[str | Path] = [
        SLIPWAY_BIN / "slipway",
        "server",
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    server_env = {**env, "SLIPWAY_WORKSPACE": str(workspace)}
    with serving(cmd, server_env, workspace.parent, f"http://{HOST}:{port}", "/healthz") as server:
        yield server


@contextmanager
def mlflow_server(folder: Path, env: Mapping[str, str]) -> Iterator[Server]:
    """`mlflow server` on a fresh SQLite store in `folder`: one worker, no job runner."""
    port = free_port()
    cmd: list[str | Path] = [
        ANCHORS_BIN / "mlflow",
        "server",
        "--backend-store-uri",
        f"sqlite:///{folder / 'mlflow.db'}",
        "--default-artifact-root",
        str(folder / "artifacts"),
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    # The job runner (huey consumers for MLflow's GenAI jobs) is no part of tracking; left on,
    # its 7 extra processes compete for the CPUs and halved the measured rate.
    server_env = {**env, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with serving(cmd, server_env, folder, f"http://{HOST}:{port}", "/health") as server:
        yield server


@contextmanager
def serving(
    cmd: list[str | Path], env: Mapping[str, str], cwd: Path, url: str, health: str
) -> Iterator[Server]:
    cwd.mkdir(parents=True, exist_ok=True)
    log_path = cwd / f"server-{url.rsplit(':', 1)[1]}.log"
    with log_path.open("wb") as log:
        start = time.perf_counter()
        process = subprocess.Popen(
            [str(c) for c in cmd],
            cwd=cwd,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_healthy(process, url + health, log_path)
            yield Server(url, display(cmd, cwd, url), time.perf_counter() - start)
        finally:
            stop(process)


def display(cmd: list[str | Path], cwd: Path, url: str) -> str:
    """The command with the work folder shown as … and the port as PORT."""
    port = url.rsplit(":", 1)[1]
    parts = [str(c).replace(str(cwd), "…") for c in cmd]
    return shell_line(["PORT" if part == port else part for part in parts])


def wait_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(
                f"server exited ({process.returncode}) before answering {url}: "
                f"{tail(log.read_text(errors='replace'))}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise BenchError(
        f"no answer from {url} within {START_TIMEOUT_S:.0f} s: "
        f"{tail(log.read_text(errors='replace'))}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, wait, then SIGKILL the group's leftovers."""
    group = process.pid  # start_new_session: the leader's pid is the group id
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        process.wait()
        return
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_GRACE_S)
    with suppress(ProcessLookupError):  # workers that outlived the leader, or a stuck leader
        os.killpg(group, signal.SIGKILL)
    process.wait()
