"""The FastAPI app, built from the operation registry: no route is written by hand."""

from __future__ import annotations

import inspect
import logging
import tempfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from fastapi import Body, FastAPI, Path, Query, Request
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import TypeAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException

from slipway._version import __version__
from slipway.config import Settings
from slipway.context import Context, Principal
from slipway.errors import SlipwayError
from slipway.operations import Operation, describe_validation, invoke, registry
from slipway.services import catalog

log = logging.getLogger("slipway.api")
CHUNK = 1 << 20
JSON = "application/json"
SPOOL_IN_MEMORY = 8 << 20


def create_app(settings: Settings, *, ctx: Context | None = None) -> FastAPI:
    """Build the API over the stores; fails at once if one is unreachable or outdated."""
    ctx = ctx or Context.open(settings, create=True)
    app = FastAPI(
        title="Slipway",
        version=__version__,
        description="Self-hosted MLOps: tracking, data, models, pipelines, serving, monitoring.",
    )
    app.state.ctx = ctx
    catalog.load_all()
    for op in registry().values():
        app.add_api_route(
            op.path,
            _endpoint(op),
            methods=[op.method],
            response_model=None if op.streams else op.returns,
            response_class=StreamingResponse if op.streams else JSONResponse,
            status_code=_status(op),
            name=op.name,
            operation_id=op.name,
            summary=op.summary,
            tags=[op.area],
            openapi_extra=_openapi_extra(op),
        )

    @app.get("/healthz", tags=["server"], operation_id="healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__, "schema": ctx.store.revision() or ""}

    app.add_exception_handler(SlipwayError, _slipway_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _internal_error)
    app.router.on_shutdown.append(ctx.close)
    return app


def _status(op: Operation) -> int:
    if op.returns is None:
        return 204
    return 201 if op.method == "POST" and op.mutating else 200


def _openapi_extra(op: Operation) -> dict[str, Any]:
    extra: dict[str, Any] = {"x-permission": op.permission, "x-audit": op.audit}
    binary = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    if op.param("blob"):
        extra["requestBody"] = {"required": True, "content": binary}
    if op.streams:
        extra["responses"] = {"200": {"description": "The object's bytes", "content": binary}}
    return extra


def _endpoint(op: Operation) -> Any:
    blob = next((p.name for p in op.param("blob")), None)
    # pydantic writes the JSON itself: faster than FastAPI's encoder, and it keeps the
    # models' settings (NaN metrics travel as "NaN" strings instead of breaking the answer).
    adapter = TypeAdapter(op.returns) if op.returns is not None and not op.streams else None
    status = _status(op)

    async def endpoint(request: Request, **arguments: Any) -> Any:
        base: Context = request.app.state.ctx
        # Authentication arrives with the security service; until then a caller is anonymous.
        host = request.client.host if request.client else "unknown"
        ctx = base.acting_as(Principal(f"anonymous@{host}"))
        if blob is not None:
            arguments[blob] = await _spool(request)
        try:
            result = await run_in_threadpool(invoke, ctx, op.name, **arguments)
        finally:
            if blob is not None:
                arguments[blob].close()
        if result is None:
            return Response(status_code=204)
        if adapter is None:
            return StreamingResponse(
                iterate_in_threadpool(_chunks(result)), media_type="application/octet-stream"
            )
        return Response(adapter.dump_json(result), status_code=status, media_type=JSON)

    params = [inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request)]
    for p in op.params:
        if p.where == "blob":
            continue  # read from the raw request stream, not declared to FastAPI
        if p.where == "path":
            default: Any = Path()
        elif p.where == "query":
            default = Query() if p.required else Query(p.default)
        else:
            default = Body()
        params.append(
            inspect.Parameter(
                p.name, inspect.Parameter.KEYWORD_ONLY, annotation=p.annotation, default=default
            )
        )
    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__name__ = op.name
    return endpoint


async def _spool(request: Request) -> BinaryIO:
    """The request body in a temporary file: small ones in memory, large ones on disk."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - closed by caller
    async for chunk in request.stream():
        await run_in_threadpool(spool.write, chunk)
    spool.seek(0)
    return spool  # type: ignore[return-value]


def _chunks(reader: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := reader.read(CHUNK):
            yield chunk
    finally:
        reader.close()


def _error_body(name: str, detail: str, status: int) -> JSONResponse:
    return JSONResponse({"error": name, "detail": detail}, status_code=status)


async def _slipway_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SlipwayError)
    return _error_body(exc.name, exc.detail, exc.http_status)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _error_body("InvalidInput", describe_validation(list(exc.errors())), 400)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    names = {404: "NotFound", 405: "InvalidInput"}
    detail = f"{request.method} {request.url.path}: {exc.detail}"
    return _error_body(names.get(exc.status_code, "SlipwayError"), detail, exc.status_code)


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    # A bug, not a user error: keep the traceback in the server log, not in the answer.
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    detail = f"internal error in {request.method} {request.url.path}; see the server log"
    return _error_body("SlipwayError", detail, 500)
