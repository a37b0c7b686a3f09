"""`ActiveRun`: the handle `sw.start_run()` returns; logging calls enqueue and return."""

from __future__ import annotations

import contextlib
import json
import numbers
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from slipway.errors import Conflict, InvalidInput, NotFound, SlipwayError
from slipway.services.blobs.schemas import StoredObject
from slipway.services.projects.schemas import ms_to_datetime
from slipway.services.runs.schemas import MAX_VALUE, TERMINAL, Artifact, Run, check_key

if TYPE_CHECKING:
    from slipway.client import Client
    from slipway.tracking._system_metrics import SystemMetricsSampler


def _key(key: str, what: str) -> str:
    try:
        return check_key(key)
    except ValueError as exc:
        raise InvalidInput(f"{what}: {exc}") from None


def _text(value: Any, what: str, key: str) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, default=str)
    else:
        text = str(value)
    if len(text) > MAX_VALUE:
        raise InvalidInput(f"{what} {key!r} is {len(text)} characters; the limit is {MAX_VALUE}")
    return text


def _number(value: Any, key: str) -> float:
    if type(value) is float or type(value) is int:  # the common case, without ABC checks
        return float(value)
    if isinstance(value, numbers.Real):
        return float(value)
    try:
        return float(value)  # numpy scalars, 0-d arrays, Decimal
    except (TypeError, ValueError):
        raise InvalidInput(f"metric {key!r} must be a number, got {value!r}") from None


class ActiveRun:
    """A run in progress, held open by its client until `end()` (or the end of its `with`).

    Params, metrics and tags are checked at the call and written in the background, in
    batches; artifacts are stored before the call returns.
    """

    def __init__(self, client: Client, run: Run) -> None:
        self._client = client
        self._batcher = client.batcher
        self.info = run
        self.id = run.id
        self._params: dict[str, str] = {}
        self._tags: dict[str, str] = {}
        self._metric_keys: set[str] = set()  # keys already checked: logging loops repeat them
        # key -> (step, timestamp, value) of its latest point, for `info` once the run ends
        self._latest: dict[str, tuple[int, int, float]] = {}
        self._ended = False
        self._sampler: SystemMetricsSampler | None = None

    @property
    def client(self) -> Client:
        """The client this run logs through."""
        return self._client

    def __repr__(self) -> str:
        return f"<ActiveRun {self.info.project}/{self.info.name} {self.id}>"

    # -- logging (asynchronous) --------------------------------------------------------------

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_params(self, values: Mapping[str, Any]) -> None:
        checked = {_key(k, "param"): _text(v, "param", k) for k, v in values.items()}
        for key, value in checked.items():
            if self._params.get(key, value) != value:
                raise Conflict(
                    f"param {key!r} is already {self._params[key]!r}, cannot change it to "
                    f"{value!r}; params are immutable: use a tag or a metric for changing values"
                )
        self._params.update(checked)
        self._batcher.params(self.id, checked)

    def log_metric(
        self, key: str, value: Any, step: int | None = None, timestamp: int | None = None
    ) -> None:
        if key not in self._metric_keys:
            self._metric_keys.add(_key(key, "metric"))
        number = _number(value, key)
        at = int(step or 0)
        when = timestamp if timestamp is not None else time.time_ns() // 1_000_000
        # The store's rule for "latest": highest step, then newest timestamp.
        latest = self._latest.get(key)
        if latest is None or at > latest[0] or (at == latest[0] and when >= latest[1]):
            self._latest[key] = (at, when, number)
        self._batcher.metric(self.id, key, number, at, when)

    def log_metrics(self, values: Mapping[str, Any], step: int | None = None) -> None:
        now = time.time_ns() // 1_000_000
        for key, value in values.items():
            self.log_metric(key, value, step, now)

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def set_tags(self, values: Mapping[str, Any]) -> None:
        checked = {_key(k, "tag"): _text(v, "tag", k) for k, v in values.items()}
        self._tags.update(checked)
        self._batcher.tags(self.id, checked)

    def flush(self) -> None:
        """Block until everything logged so far is stored; raise if a write failed."""
        self._batcher.flush()

    def sample_system_metrics(self, interval_s: float = 10.0) -> None:
        """Log CPU, memory and GPU use as `system.*` metrics every `interval_s` until the end."""
        from slipway.tracking._system_metrics import SystemMetricsSampler

        if self._ended:
            raise InvalidInput(f"run {self.id} has ended; sample while it is active")
        if self._sampler is None:
            self._sampler = SystemMetricsSampler(
                lambda values, step: self.log_metrics(values, step=step), interval_s=interval_s
            )
        self._sampler.start()

    # -- artifacts (synchronous: the caller may delete the file right after) ----------------

    def log_artifact(self, local_path: str | Path, artifact_path: str | None = None) -> Artifact:
        """Store a file or folder with the run, under `artifact_path` (default: its name)."""
        path = Path(local_path)
        if not path.exists():
            raise InvalidInput(f"{path} does not exist")
        digest, size, is_dir = self._client.objects.upload_path(path)
        name = artifact_path or path.name
        return self._client.runs.record_artifact(self.id, name, digest, size, is_dir=is_dir)

    def log_dict(self, data: Mapping[str, Any] | list[Any], name: str) -> Artifact:
        """Store `data` as JSON (or YAML when `name` ends with .yaml/.yml) named `name`."""
        if name.endswith((".yaml", ".yml")):
            import yaml

            text = yaml.safe_dump(data, sort_keys=False)
        else:
            text = json.dumps(data, indent=2, default=str)
        return self.log_text(text, name)

    def log_text(self, text: str, name: str) -> Artifact:
        return record_bytes(
            self._client,
            text.encode(),
            lambda stored: self._client.runs.record_artifact(
                self.id, name, stored.hash, stored.size
            ),
        )

    def download_artifact(self, path: str, dest: str | Path) -> Path:
        return download_artifact(self._client, self.id, path, Path(dest))

    # -- lifecycle ---------------------------------------------------------------------------

    def end(self, status: str = "finished") -> Run:
        """Write what is queued and end the run with `status`, in one write. Safe to call twice.

        If a write failed, the run ends "failed" and the failure is raised. The returned
        `info` is this handle's view (what it logged, the final status); `sw.get_run()` reads
        the stored run.
        """
        if self._ended:
            return self.info
        if status not in TERMINAL:
            raise InvalidInput(f"status {status!r}: a run ends finished, failed or killed")
        self._ended = True
        end_time = time.time_ns() // 1_000_000
        failure: SlipwayError | None = None
        try:
            if self._sampler is not None:
                self._sampler.stop()
            try:
                self._batcher.finish(self.id, status, end_time)
            except SlipwayError as exc:
                failure, status = exc, "failed"
            self.info = self.info.model_copy(
                update={
                    "status": status,
                    "end_time": ms_to_datetime(end_time),
                    "params": {**self.info.params, **self._params},
                    "tags": {**self.info.tags, **self._tags},
                    "metrics": {
                        **self.info.metrics,
                        **{key: point[2] for key, point in self._latest.items()},
                    },
                }
            )
        finally:
            self._client.release_run(self)  # no longer the active run, whatever happened
        if failure is not None:
            raise failure
        return self.info

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.end("finished")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.end("killed")
        else:
            with contextlib.suppress(SlipwayError):  # the body's own exception is the one to show
                self.end("failed")


T = TypeVar("T")


def record_bytes(client: Client, data: bytes, record: Callable[[StoredObject], T]) -> T:
    """Store `data`, then `record(stored)` (an operation that needs the object stored).

    The client skips uploading objects it stored before; should the store have lost one
    since, the record fails with NotFound and the object is stored again, once.
    """
    stored = client.objects.upload_bytes(data)
    try:
        return record(stored)
    except NotFound:
        if not client.objects.missing([stored.hash]):
            raise  # the object is there: something else was not found
        client.objects.forget(stored.hash)
        return record(client.objects.upload_bytes(data))


def download_artifact(client: Client, run_id: str, path: str, dest: Path) -> Path:
    found = {a.path: a for a in client.runs.artifacts(run_id)}
    if path not in found:
        known = ", ".join(sorted(found)) or "none"
        raise InvalidInput(f"run {run_id} has no artifact {path!r} (it has: {known})")
    artifact = found[path]
    if artifact.is_dir:
        client.objects.download_tree(artifact.object_hash, dest)
    else:
        client.objects.download_file(artifact.object_hash, dest)
    return dest
