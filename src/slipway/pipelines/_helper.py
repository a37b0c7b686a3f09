"""The CLI's fast path: a forked process opens the metadata store while this one imports the
pipeline and computes its cache keys, then records the run's start, cache hits included.

A run where nothing changed is recorded in that one request, and this process never imports
SQLAlchemy; a run with steps to execute connects here as usual once the start is recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slipway.config import Settings

if TYPE_CHECKING:
    from slipway.client._backends import Backend
    from slipway.client._recorder import ForkedRecorder
    from slipway.context import Context
    from slipway.services.pipeline_runs.schemas import PipelineRun as RunRecord
    from slipway.services.pipeline_runs.schemas import PipelineRunCreate

_CREATE = ("create_pipeline_run", "slipway.services.pipeline_runs.schemas:PipelineRunCreate")


class ForkedCreate:
    def __init__(self, recorder: ForkedRecorder) -> None:
        self._recorder = recorder

    def create(self, project: str, body: PipelineRunCreate) -> RunRecord:
        from slipway.services.pipeline_runs.schemas import PipelineRun as RunRecord

        operation, model = _CREATE
        self._recorder.submit(operation, model, body.model_dump(mode="json"), project=project)
        return RunRecord.model_validate(self._recorder.result())

    def close(self) -> None:
        self._recorder.close()


# Started by the console script before the command line is parsed (`slipway.cli._entry`),
# for the settings it found; the command adopts it if its own settings are the same.
_preforked: tuple[Settings, ForkedCreate] | None = None


def prefork(settings: Settings) -> None:
    global _preforked
    helper = _fork(settings)
    if helper is not None:
        _preforked = (settings, helper)


def start_helper(settings: Settings) -> ForkedCreate | None:
    """A helper for embedded mode, where forking is safe; None otherwise."""
    global _preforked
    if _preforked is not None:
        (early, helper), _preforked = _preforked, None
        if early == settings:
            return helper
        helper.close()
    return _fork(settings)


def _fork(settings: Settings) -> ForkedCreate | None:
    if settings.server_url:
        return None  # over HTTP nothing heavy is imported anyway
    from slipway.client._recorder import forked

    recorder = forked(settings, _connect, _CREATE)
    return ForkedCreate(recorder) if recorder is not None else None


class _Direct:
    """The dispatcher on an open context: what EmbeddedBackend does for one operation, without
    importing the HTTP half of the client (~50 ms the no-op run would wait for)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def call(self, name: str, /, **arguments: Any) -> Any:
        from slipway.operations import invoke
        from slipway.services import catalog  # noqa: F401  (registers the operations)

        return invoke(self.ctx, name, **arguments)

    def close(self) -> None:
        self.ctx.close()


def _connect(settings: Settings) -> Backend:
    from slipway.context import Context

    return _Direct(Context.open(settings))
