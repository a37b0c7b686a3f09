"""What `Pipeline.run` returns: the recorded run, and its outputs on demand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slipway.client import Client
    from slipway.services.pipeline_runs.schemas import PipelineRun as RunRecord
    from slipway.services.pipeline_runs.schemas import StepRun


class PipelineRun:
    """A finished (or failed) pipeline run: `.id`, `.status`, `.steps`; `.output(step)`."""

    def __init__(self, record: RunRecord, client: Client | Callable[[], Client]) -> None:
        self.record = record
        self._client = client  # or how to make one: a cached run may not have needed one

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def status(self) -> str:
        return self.record.status

    @property
    def steps(self) -> dict[str, StepRun]:
        return self.record.steps

    @property
    def error(self) -> str:
        return self.record.error

    def output(self, step: str) -> Any:
        """The value step `step` returned, read back through its materializer."""
        import tempfile

        from slipway.pipelines._execute import OUTPUT, read_value

        found = self.steps.get(step)
        if found is None:
            raise KeyError(f"run {self.id} has no step {step!r}")
        artifact = found.outputs.get(OUTPUT)
        if artifact is None:
            return None
        client = self._client if not callable(self._client) else self._client()
        from slipway.client import data_objects

        objects = data_objects(client.backend, client.objects)
        with tempfile.TemporaryDirectory(prefix="slipway-output-") as scratch:
            return read_value(objects, artifact.hash, artifact.kind, Path(scratch) / "value")

    def __repr__(self) -> str:
        cached = sum(1 for s in self.steps.values() if s.cached)
        return (
            f"<RunRecord {self.record.name} {self.id[:8]} {self.status}: "
            f"{len(self.steps)} steps, {cached} cached>"
        )
