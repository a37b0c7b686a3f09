"""Executors: where step attempts run. One narrow protocol, three implementations.

- `local`: in this process, one step at a time (for debugging: breakpoints work).
- `process`: a pool of fresh Python processes (spawned, not forked: the parent holds threads,
  database connections and helpers' pipes); independent steps run side by side.
- `ray`: each attempt a Ray task with the step's declared resources, on a local cluster or an
  existing one (`ray_address` in settings, or $RAY_ADDRESS; `ray://host:10001` works).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from slipway.errors import ConfigError, InvalidInput
from slipway.pipelines._execute import StepResult, StepTask, execute, resolve_step

if TYPE_CHECKING:
    from slipway.client import Client
    from slipway.config import Settings
    from slipway.pipelines._dsl import Step

EXECUTORS = ("local", "process", "ray")


class Executor(Protocol):
    name: str

    def submit(self, task: StepTask, step: Step) -> Future[StepResult]: ...

    def close(self) -> None: ...


class LocalExecutor:
    name = "local"

    def __init__(self, client: Client) -> None:
        self.client = client

    def submit(self, task: StepTask, step: Step) -> Future[StepResult]:
        future: Future[StepResult] = Future()
        future.set_result(execute(task, step, self.client))
        return future

    def close(self) -> None:
        pass


# -- process ------------------------------------------------------------------------------------

_worker_client: Client | None = None


def _client_in_worker(settings: Settings | None) -> Client:
    """One client per worker process, opened on its first step and kept for the next ones."""
    global _worker_client
    if _worker_client is None:
        from slipway.client import Client

        _worker_client = Client.from_settings(settings)
    return _worker_client


def _in_worker(task: StepTask) -> StepResult:
    return execute(task, resolve_step(task), _client_in_worker(task.settings))


def _in_ray(task: StepTask, step: Step) -> StepResult:
    # Ray ships the step itself (cloudpickle): steps defined in a function work there too.
    return execute(task, step, _client_in_worker(task.settings))


class ProcessExecutor:
    name = "process"

    def __init__(self, settings: Settings, workers: int) -> None:
        self.settings = settings
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, task: StepTask, step: Step) -> Future[StepResult]:
        if self._pool is None:
            # Started on the first step that runs: a fully cached run never pays for it.
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn")
            )
        task = _with_settings(task, self.settings)
        try:
            return self._pool.submit(_in_worker, task)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): its step failed; later ones get a new pool.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            return self.submit(task, step)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


# -- ray ----------------------------------------------------------------------------------------


class RayExecutor:
    name = "ray"

    def __init__(self, settings: Settings, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError("the ray executor needs Ray: pip install 'slipway[ray]'") from None
        self.settings = settings
        self._ray = ray
        self._remote: dict[tuple[float, float, float], Any] = {}
        self._started_here = False
        if not ray.is_initialized():
            address = address or settings.ray_address or os.environ.get("RAY_ADDRESS")
            # A local cluster's workers import the user's modules from where the pipeline runs;
            # an existing cluster gets its code the way its operator set up (working_dir, image).
            runtime_env = None if address else {"env_vars": {"PYTHONPATH": _python_path()}}
            ray.init(
                address=address,
                runtime_env=runtime_env,
                include_dashboard=False,
                log_to_driver=True,
                ignore_reinit_error=True,
            )
            self._started_here = True

    def submit(self, task: StepTask, step: Step) -> Future[StepResult]:
        resources = step.resources
        key = (
            resources.get("cpus", 1.0),
            resources.get("memory_gb", 0.0),
            resources.get("gpus", 0.0),
        )
        remote = self._remote.get(key)
        if remote is None:
            options: dict[str, Any] = {"num_cpus": key[0], "num_gpus": key[2], "max_retries": 0}
            if key[1]:
                options["memory"] = int(key[1] * 1024**3)
            remote = self._ray.remote(**options)(_in_ray)
            self._remote[key] = remote
        reference = remote.remote(_with_settings(task, self.settings), step)
        future: Future[StepResult] = reference.future()
        return future

    def close(self) -> None:
        # A cluster this run started goes with it; one the user started stays up.
        if self._started_here:
            self._ray.shutdown()


def make_executor(name: str, client: Client, *, parallel: int) -> Executor:
    if name not in EXECUTORS:
        raise InvalidInput(f"executor {name!r} is not one of {', '.join(EXECUTORS)}")
    if name == "local":
        return LocalExecutor(client)
    settings = _settings_of(client)
    if name == "process":
        return ProcessExecutor(settings, min(parallel, os.cpu_count() or 1))
    return RayExecutor(settings)


def _settings_of(client: Client) -> Settings:
    """The settings workers connect with: the driver's stores, or the server it talks to."""
    from slipway.client import EmbeddedBackend, HttpBackend

    if isinstance(client.backend, EmbeddedBackend):
        return client.backend.ctx.settings
    settings = client.settings
    if isinstance(client.backend, HttpBackend):
        settings = replace(settings, server_url=client.backend.base_url)
    return settings


def _with_settings(task: StepTask, settings: Settings) -> StepTask:
    return replace(task, settings=settings)


def _python_path() -> str:
    paths = [str(Path.cwd()), *(p for p in sys.path if p and Path(p).is_dir())]
    return os.pathsep.join(dict.fromkeys(paths))
