"""Opening the metadata store in a forked helper while `data add` reads the files.

Opening it costs a few hundred ms of imports (SQLAlchemy, pydantic models, the schema), all
CPU-bound Python. In a thread those imports hold the GIL against the scan and the hashing;
in a child process forked before any thread starts they run on another core. The child
connects, then waits for one request on a pipe (the version to record), answers it, and
exits when the pipe closes. Where forking is unsafe (`_fork`), the caller opens the store
in a thread instead (`forked` returns None).
"""

from __future__ import annotations

import gc
import json
import os
import struct
from typing import TYPE_CHECKING, Any

from slipway import errors
from slipway.client._fork import fork, hold, release
from slipway.config import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from pydantic import BaseModel

    from slipway.client._backends import Backend

_LENGTH = struct.Struct("!Q")


class RecorderFailed(Exception):
    """The helper died or answered nonsense: the caller records the version itself."""


class ForkedRecorder:
    """A child process holding an open backend; `call` runs one operation there."""

    def __init__(self, pid: int, requests: int, answers: int) -> None:
        self._pid, self._requests, self._answers = pid, requests, answers
        self._closed = False
        hold(requests, answers)

    def submit(
        self,
        operation: str,
        model: str,
        fields: dict[str, Any],
        /,
        *,
        totals: tuple[str, int, int] | None = None,
        **arguments: Any,
    ) -> None:
        """Start `operation` with `body` = the `model` ("module:Class") made from `fields`;
        `result` waits for its answer. `totals`: (manifest hash, bytes, files) that this
        process's object store counted as it stored the manifest, which spares the helper
        parsing it back (`ObjectStore.note_totals`)."""
        message: dict[str, Any] = {
            "op": operation,
            "model": model,
            "fields": fields,
            "args": arguments,
        }
        if totals is not None:
            message["totals"] = list(totals)
        try:
            _send(self._requests, message)
        except OSError as exc:  # e.g. the child already died: EPIPE
            raise RecorderFailed(f"the metadata helper process is gone: {exc}") from None

    def result(self) -> Any:
        """The answer (JSON-able data) to what was submitted; its error re-raised here."""
        answer = _receive(self._answers)
        if not isinstance(answer, dict) or not ("result" in answer or "error" in answer):
            raise RecorderFailed("the metadata helper process ended without answering")
        if "error" in answer:
            raise _error(str(answer["error"]), str(answer["detail"]))
        return answer["result"]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        release(self._requests, self._answers)
        os.close(self._requests)  # the child's cue to close the store and leave
        os.close(self._answers)
        os.waitpid(self._pid, 0)


def forked(
    settings: Settings,
    connect: Callable[[Settings], Backend],
    expected: tuple[str, str] | None = None,
) -> ForkedRecorder | None:
    """A helper connected (soon) to the store the settings name; None where forking is unsafe.
    `expected`: the (operation, "module:Model") it will be asked for, made ready once connected."""
    request_r, request_w = os.pipe()
    answer_r, answer_w = os.pipe()

    def child() -> None:
        os.close(request_w)
        os.close(answer_r)
        _serve(settings, connect, request_r, answer_w, expected)

    pid = fork(child)
    os.close(request_r)
    os.close(answer_w)
    if pid is None:
        os.close(request_w)
        os.close(answer_r)
        return None
    return ForkedRecorder(pid, request_w, answer_r)


def _serve(
    settings: Settings,
    connect: Callable[[Settings], Backend],
    requests: int,
    answers: int,
    expected: tuple[str, str] | None,
) -> None:
    # A helper lives for one command: its imports (SQLAlchemy's above all) run ~20% faster
    # without the cycle collector, and it creates no garbage worth collecting.
    gc.disable()
    backend = None
    failure: Exception | None = None
    try:
        backend = connect(settings)
        if expected is not None:
            # While the parent still reads the files: finding the operation imports its
            # service module (and those registered before it), ~50 ms that would otherwise
            # follow the request.
            from slipway.operations import get
            from slipway.services import catalog

            operation, model = expected
            catalog.load(operation)
            get(operation)
            _model(model)
    except Exception as exc:  # told to the parent with its first request
        failure = exc
    try:
        while (request := _receive(requests)) is not None:
            try:
                if backend is None:
                    raise failure or RuntimeError("no backend")
                result = _run(backend, request)
                _send(answers, {"result": result})
            except Exception as exc:
                _send(answers, {"error": type(exc).__name__, "detail": _detail(exc)})
    finally:
        if backend is not None:
            backend.close()


def _run(backend: Backend, request: dict[str, Any]) -> Any:
    from slipway.client._body import body

    if request.get("totals") is not None:
        from slipway.client._backends import EmbeddedBackend

        if isinstance(backend, EmbeddedBackend):
            digest, size, files = request["totals"]
            backend.ctx.objects.note_totals(str(digest), int(size), int(files))

    model = _model(str(request["model"]))
    result = backend.call(request["op"], body=body(model, **request["fields"]), **request["args"])
    return result.model_dump(mode="json")


def _model(reference: str) -> type[BaseModel]:
    """The pydantic model named "module:Class", from Slipway's own modules only."""
    from importlib import import_module

    module, _, name = reference.partition(":")
    if not module.startswith("slipway."):
        raise errors.InvalidInput(f"not a Slipway model: {reference}")
    model: type[BaseModel] = getattr(import_module(module), name)
    return model


def _detail(exc: Exception) -> str:
    return exc.detail if isinstance(exc, errors.SlipwayError) else f"{type(exc).__name__}: {exc}"


def _error(name: str, detail: str) -> Exception:
    kind = getattr(errors, name, None)
    if isinstance(kind, type) and issubclass(kind, errors.SlipwayError):
        return kind(detail)
    return errors.SlipwayError(detail)


def _send(fd: int, message: Any) -> None:
    data = json.dumps(message).encode()
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _receive(fd: int) -> Any:
    """The next message, or None at the end of the pipe."""
    head = _read_exactly(fd, _LENGTH.size)
    if head is None:
        return None
    data = _read_exactly(fd, _LENGTH.unpack(head)[0])
    return None if data is None else json.loads(data)


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
