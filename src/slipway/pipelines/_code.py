"""A step's code fingerprint: its source and the source of the project's own functions it
calls, followed through globals and module attributes, so editing a helper re-runs the step.

Library code (the standard library, site-packages) is left out: its version is what counts,
and a step names the packages whose versions matter (`@step(packages=[...])`).
"""

from __future__ import annotations

import contextlib
import inspect
import sysconfig
import textwrap
import types
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from blake3 import blake3

_LIBRARY_ROOTS = tuple(
    {
        str(Path(p).resolve())
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
        if (p := sysconfig.get_paths().get(key))
    }
)
# Fingerprints by function: its source does not change while the function object lives (an
# edited file makes new functions when it is imported again), and an in-process re-run must
# stay fast. Not by code object: equal code in a reloaded module may call a changed helper.
_known: weakref.WeakKeyDictionary[Callable[..., Any], str] = weakref.WeakKeyDictionary()


def fingerprint(func: Callable[..., Any]) -> str:
    """A hex digest of `func`'s source and the project-local functions it reaches."""
    with contextlib.suppress(TypeError):  # TypeError: not weakly referenceable
        if (known := _known.get(func)) is not None:
            return known
    digest = blake3()
    for label, source in sorted(_sources(func)):
        digest.update(f"{label}\0{source}\0".encode())
    value = digest.hexdigest()
    with contextlib.suppress(TypeError):
        _known[func] = value
    return value


def _sources(root: Callable[..., Any]) -> Iterator[tuple[str, str]]:
    seen: set[int] = set()
    pending: list[Any] = [root]
    while pending:
        obj = _unwrap(pending.pop())
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield _label(obj), _source(obj)
        if isinstance(obj, types.FunctionType):
            pending.extend(_referenced(obj))
        elif inspect.isclass(obj):
            for member in vars(obj).values():
                if isinstance(member, types.FunctionType):
                    pending.extend(_referenced(member))


def _unwrap(obj: Any) -> Any:
    inner = getattr(obj, "func", None)  # a Step
    if callable(inner) and getattr(obj, "signature", None) is not None:
        obj = inner
    return inspect.unwrap(obj) if callable(obj) else obj


def _referenced(func: types.FunctionType) -> Iterator[Any]:
    """Project-local functions and classes `func` names through its globals or closures."""
    names = set(_names(func.__code__))
    scope: dict[str, Any] = dict(func.__globals__)
    if func.__closure__:
        for var, cell in zip(func.__code__.co_freevars, func.__closure__, strict=False):
            try:
                scope[var] = cell.cell_contents
            except ValueError:  # an empty cell
                continue
    for name in names:
        value = scope.get(name)
        if isinstance(value, types.ModuleType):
            if _is_local(value):
                for attr in names:
                    member = vars(value).get(attr)  # no getattr: a lazy module would load
                    if _is_local(member):
                        yield member
        elif _is_local(value):
            yield value


def _names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    yield from code.co_freevars
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def _is_local(obj: Any) -> bool:
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismodule(obj)):
        obj = _unwrap(obj) if hasattr(obj, "signature") else None
        if obj is None:
            return False
    module = obj.__name__ if inspect.ismodule(obj) else getattr(obj, "__module__", "")
    if module == "slipway" or str(module).startswith("slipway."):
        return False  # Slipway is a library to its users, wherever it is installed from
    try:
        path = inspect.getsourcefile(obj)
    except TypeError:  # built-in
        return False
    if path is None:
        return False
    resolved = str(Path(path).resolve())
    return not resolved.startswith(_LIBRARY_ROOTS)


def _label(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '')}:{getattr(obj, '__qualname__', repr(obj))}"


def _source(obj: Any) -> str:
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError):
        # No source to read (defined in a REPL): the compiled code stands in for it.
        code = getattr(obj, "__code__", None)
        return repr(code.co_code + repr(code.co_consts).encode()) if code else repr(obj)
