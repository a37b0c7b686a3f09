"""The operation registry: each user-visible operation written once, served everywhere.

`@operation("POST /projects", permission="project:write", audit="project.create")` registers a
service function. The API builds its routes from the registry, the HTTP client calls operations
by name, and `invoke` is the one dispatcher that checks permissions and writes audit events.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal, TypeVar

from pydantic import BaseModel

from slipway.context import Context
from slipway.errors import InvalidInput, NotFound, PermissionDenied, SlipwayError
from slipway.store import audit

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
_PERMISSION = re.compile(r"^[a-z][a-z_]*:[a-z][a-z_*]*$")
_AUDIT = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
_PLACEHOLDER = re.compile(r"{([a-z_][a-z0-9_]*)}")
_SIMPLE = (str, int, float, bool)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Param:
    name: str
    where: Literal["path", "query", "body", "blob"]
    annotation: Any
    default: Any = inspect.Parameter.empty

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str
    permission: str
    audit: str | None
    func: Callable[..., Any]
    params: tuple[Param, ...]
    returns: Any
    summary: str
    area: str
    read_only: bool = False

    @property
    def mutating(self) -> bool:
        return self.method != "GET" and not self.read_only

    @property
    def streams(self) -> bool:
        """The operation answers with a byte stream rather than a JSON body."""
        return self.returns is BinaryIO

    def param(self, where: str) -> list[Param]:
        return [p for p in self.params if p.where == where]


class OperationDefinitionError(TypeError):
    """A programming error in an @operation declaration, raised at import time."""


_registry: dict[str, Operation] = {}


def operation(
    route: str, *, permission: str, audit: str | None, read_only: bool = False
) -> Callable[[F], F]:
    """Register a service function as an operation. Both `permission` and `audit` are required.

    `read_only=True` marks a POST that changes nothing (a search with a large body), which
    needs no audit action. A `BinaryIO` parameter is the raw request body; a `BinaryIO`
    return value is streamed back.
    """
    method, _, path = route.partition(" ")
    if method not in METHODS or not path.startswith("/"):
        raise OperationDefinitionError(f"route {route!r} must read 'METHOD /path'")
    if not isinstance(permission, str) or not _PERMISSION.match(permission):
        raise OperationDefinitionError(f"{route}: permission {permission!r} must read 'area:verb'")
    if audit is not None and not _AUDIT.match(audit):
        raise OperationDefinitionError(f"{route}: audit action {audit!r} must read 'area.verb'")
    if method != "GET" and audit is None and not read_only:
        raise OperationDefinitionError(
            f"{route}: a mutating operation must declare an audit action"
        )

    def register(func: F) -> F:
        op = _build(func, method, path, permission, audit, read_only)
        if op.name in _registry and _registry[op.name].func is not func:
            raise OperationDefinitionError(f"operation {op.name!r} is registered twice")
        _registry[op.name] = op
        return func

    return register


def _build(
    func: Callable[..., Any],
    method: str,
    path: str,
    permission: str,
    audit: str | None,
    read_only: bool,
) -> Operation:
    hints = typing.get_type_hints(func)
    signature = inspect.signature(func)
    names = list(signature.parameters)
    if not names or names[0] != "ctx":
        raise OperationDefinitionError(f"{func.__qualname__}: the first parameter must be ctx")
    placeholders = set(_PLACEHOLDER.findall(path))
    params: list[Param] = []
    for name in names[1:]:
        spec = signature.parameters[name]
        annotation = hints[name]
        if name in placeholders:
            where: Literal["path", "query", "body", "blob"] = "path"
        elif annotation is BinaryIO:
            where = "blob"
        elif inspect.isclass(annotation) and issubclass(annotation, BaseModel):
            where = "body"
        elif _is_simple(annotation):
            where = "query"
        else:
            raise OperationDefinitionError(
                f"{func.__qualname__}: parameter {name} must be a path placeholder, "
                "a simple query value, a pydantic body or a BinaryIO body"
            )
        params.append(Param(name, where, annotation, spec.default))
    if missing := placeholders - {p.name for p in params}:
        raise OperationDefinitionError(f"{func.__qualname__}: path names {missing} not in params")
    if len([p for p in params if p.where in {"body", "blob"}]) > 1:
        raise OperationDefinitionError(f"{func.__qualname__}: at most one body parameter")
    returns = hints.get("return", type(None))
    module = func.__module__.split(".")
    return Operation(
        name=func.__name__,
        method=method,
        path=path,
        permission=permission,
        audit=audit,
        func=func,
        params=tuple(params),
        returns=None if returns is type(None) else returns,
        summary=(inspect.getdoc(func) or func.__name__).splitlines()[0],
        area=module[1] if len(module) > 1 else module[0],
        read_only=read_only,
    )


def _is_simple(annotation: Any) -> bool:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if args and typing.get_origin(annotation) in {typing.Union, types.UnionType}:
        return all(_is_simple(a) for a in args)
    return annotation in _SIMPLE


def registry() -> dict[str, Operation]:
    """Every registered operation by name: those of the service modules imported so far.

    `slipway.services.catalog` imports a module on its operations' first call (the client
    backends) or all of them (the API).
    """
    return _registry


def get(name: str) -> Operation:
    op = _registry.get(name)
    if op is None:
        raise NotFound(f"no operation named {name!r}")
    return op


def invoke(ctx: Context, name: str, /, **arguments: Any) -> Any:
    """Run operation `name` as `ctx.principal`: check permission, call, write the audit event.

    A mutation's audit event is inserted by the operation's first write transaction, so the
    change and its record commit together; a refusal or failure is recorded on its own.
    """
    op = get(name)
    unknown = set(arguments) - {p.name for p in op.params}
    if unknown:
        raise InvalidInput(f"{name} takes no argument(s) {sorted(unknown)}")
    if not op.audit:
        ctx.principal.require(op.permission)
        return op.func(ctx, **arguments)
    event = audit.PendingEvent(
        timestamp=ctx.clock(),
        principal=ctx.principal.name,
        action=op.audit,
        operation=op.name,
        target=_target(op, arguments),
        detail=_body_detail(op, arguments),
    )
    try:
        ctx.principal.require(op.permission)
        with audit.pending(event):
            result = op.func(ctx, **arguments)
    except SlipwayError as exc:
        event.outcome = "denied" if isinstance(exc, PermissionDenied) else "error"
        event.detail = f"{exc.name}: {exc.detail}"[:4000]
        _record(ctx, event)
        raise
    if not event.written:  # an operation that made no metadata write (e.g. a blob upload)
        _record(ctx, event)
    return result


def _target(op: Operation, arguments: dict[str, Any]) -> str:
    return op.path.format(**{p.name: arguments.get(p.name, "") for p in op.param("path")})


def _body_detail(op: Operation, arguments: dict[str, Any]) -> str:
    """What was asked for, minus fields that look secret; large bodies are cut short."""
    for p in op.param("body"):
        body = arguments.get(p.name)
        if isinstance(body, BaseModel):
            # pydantic-core writes the JSON (a metric batch can be large); the log keeps 4,000.
            text = body.model_dump_json(exclude=_secret_fields(body))
            return text if len(text) <= 4000 else f"{text[:3900]}... ({len(text):,} bytes)"
    return ""


def _record(ctx: Context, event: audit.PendingEvent) -> None:
    event.written = False
    with ctx.store.write() as conn:
        audit.write_pending(conn, event)
    event.written = True


_SECRET_FIELD = re.compile(r"secret|password|token|key", re.IGNORECASE)


def _secret_fields(model: BaseModel) -> set[str]:
    return {name for name in type(model).model_fields if _SECRET_FIELD.search(name)}


def describe_validation(errors: list[Any]) -> str:
    parts = []
    for err in errors:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "input"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)
