"""`@step` and `@pipeline`: plain Python functions, wired into a graph by calling them."""

from __future__ import annotations

import functools
import inspect
import json
import sys
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from slipway.errors import InvalidInput
from slipway.pipelines._graph import DatasetArg, Graph, Node, Ref, StepOutput

if TYPE_CHECKING:
    from slipway.client import Client
    from slipway.pipelines._result import PipelineRun

F = TypeVar("F", bound=Callable[..., Any])
_RESOURCE_KEYS = {"cpus", "memory_gb", "gpus"}
_building: ContextVar[_Builder | None] = ContextVar("slipway_pipeline_builder", default=None)


class Dataset(str):
    """Annotate a step parameter with it to take a dataset version (`raw@v3`, `raw@latest`).

    The version is resolved when the pipeline runs: its content is part of the step's cache key
    (so `raw@latest` moving on re-runs the step) and reading it records lineage. The step
    receives a `DatasetInput`.
    """


class Step:
    """A function declared as a pipeline step. Called outside a pipeline, it just runs."""

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        retries: int = 0,
        retry_delay_s: float = 1.0,
        timeout_s: float | None = None,
        resources: Mapping[str, float] | None = None,
        cache: bool = True,
        packages: Sequence[str] = (),
    ) -> None:
        if not callable(func):
            raise TypeError("@step decorates a function")
        if not isinstance(retries, int) or retries < 0:
            raise InvalidInput(f"step {func.__name__}: retries must be a whole number >= 0")
        if retry_delay_s < 0:
            raise InvalidInput(f"step {func.__name__}: retry_delay_s must be >= 0")
        if timeout_s is not None and timeout_s <= 0:
            raise InvalidInput(f"step {func.__name__}: timeout_s must be more than 0")
        resources = dict(resources or {})
        if unknown := set(resources) - _RESOURCE_KEYS:
            raise InvalidInput(
                f"step {func.__name__}: unknown resources {sorted(unknown)}; "
                f"use {sorted(_RESOURCE_KEYS)}"
            )
        if any(not isinstance(v, int | float) or v < 0 for v in resources.values()):
            raise InvalidInput(f"step {func.__name__}: resources must be numbers >= 0")
        self.func = func
        self.name = name or func.__name__
        self.retries = retries
        self.retry_delay_s = float(retry_delay_s)
        self.timeout_s = timeout_s
        self.resources = {k: float(v) for k, v in resources.items()}
        self.cache = cache
        self.packages = tuple(packages)
        self.signature = inspect.signature(func)
        self.module = func.__module__
        self.qualname = func.__qualname__
        functools.update_wrapper(self, func)

    def __repr__(self) -> str:
        return f"<step {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        builder = _building.get()
        if builder is None:
            return self.func(*args, **kwargs)
        return builder.add(self, args, kwargs)

    @functools.cached_property
    def package_versions(self) -> dict[str, str]:
        """The installed versions of the declared packages; read once per process."""
        import importlib.metadata  # here: ~20 ms that a step declaring none never pays

        versions = {}
        for package in self.packages:
            try:
                versions[package] = importlib.metadata.version(package)
            except importlib.metadata.PackageNotFoundError:
                raise InvalidInput(
                    f"step {self.name} declares package {package!r}, which is not installed"
                ) from None
        return versions

    @functools.cached_property
    def dataset_params(self) -> frozenset[str]:
        """Parameters annotated `Dataset` (resolved on first use: annotations may name types
        defined after the step)."""
        try:
            hints = typing.get_type_hints(self.func)
        except Exception:
            return frozenset()
        return frozenset(name for name, hint in hints.items() if hint is Dataset)


@overload
def step(func: F) -> F: ...
@overload
def step(
    *,
    name: str | None = None,
    retries: int = 0,
    retry_delay_s: float = 1.0,
    timeout_s: float | None = None,
    resources: Mapping[str, float] | None = None,
    cache: bool = True,
    packages: Sequence[str] = (),
) -> Callable[[F], F]: ...
def step(func: Any = None, **options: Any) -> Any:
    """Declare a pipeline step: `@step` or `@step(retries=2, resources={"cpus": 2})`.

    `retries` re-runs a failing step with exponential backoff from `retry_delay_s`;
    `timeout_s` fails an attempt that runs longer; `cache=False` always runs it; `packages`
    names installed packages whose versions are part of the cache key.
    """
    if func is not None:
        return Step(func)
    return lambda f: Step(f, **options)


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.names: set[str] = set()

    def add(self, step: Step, args: tuple[Any, ...], kwargs: dict[str, Any]) -> StepOutput:
        try:
            bound = step.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise InvalidInput(f"step {step.name}: {exc}") from None
        bound.apply_defaults()
        name = step.name
        serial = 2
        while name in self.names:
            name, serial = f"{step.name}_{serial}", serial + 1
        dataset_params = step.dataset_params
        literals: dict[str, Any] = {}
        inputs: dict[str, Ref] = {}
        datasets: dict[str, DatasetArg] = {}
        after: list[str] = []
        for param, value in bound.arguments.items():
            kind = step.signature.parameters[param].kind
            if kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                raise InvalidInput(f"step {step.name}: *args and **kwargs cannot be wired")
            if isinstance(value, StepOutput):
                inputs[param] = Ref(value.node)
                after.append(value.node)
            elif param in dataset_params:
                if not isinstance(value, str):
                    raise InvalidInput(
                        f"step {step.name}: {param} takes a dataset reference such as raw@v3"
                    )
                datasets[param] = DatasetArg(value)
            else:
                literals[param] = _json_value(step.name, param, value)
        node = Node(name, step, literals, inputs, datasets, tuple(dict.fromkeys(after)))
        self.nodes.append(node)
        self.names.add(name)
        return StepOutput(name)


def _json_value(step: str, param: str, value: Any) -> Any:
    try:
        text = json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"step {step}: argument {param} is a {type(value).__name__}; pass JSON values "
            "(numbers, strings, lists, dicts) or another step's output"
        ) from None
    return json.loads(text)


@contextmanager
def _recording() -> Iterator[_Builder]:
    builder = _Builder()
    token = _building.set(builder)
    try:
        yield builder
    finally:
        _building.reset(token)


class Pipeline:
    """A function whose body wires steps together. `churn.run(lr=0.2)` runs it."""

    def __init__(self, func: Callable[..., Any], *, name: str | None = None) -> None:
        self.func = func
        self.name = name or func.__name__
        self.signature = inspect.signature(func)
        self.ref = f"{_module_name(func)}:{func.__qualname__}"
        self.__doc__ = func.__doc__

    def __repr__(self) -> str:
        return f"<pipeline {self.name} ({self.ref})>"

    def params(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The parameters a run uses: defaults, then `overrides`, coerced to annotated types."""
        overrides = dict(overrides or {})
        unknown = set(overrides) - set(self.signature.parameters)
        if unknown:
            raise InvalidInput(
                f"pipeline {self.name} has no parameter(s) {sorted(unknown)}; "
                f"its parameters: {sorted(self.signature.parameters) or 'none'}"
            )
        values: dict[str, Any] = {}
        for name, parameter in self.signature.parameters.items():
            if name in overrides:
                values[name] = _coerce(self.name, parameter, overrides[name])
            elif parameter.default is not inspect.Parameter.empty:
                values[name] = parameter.default
            else:
                raise InvalidInput(f"pipeline {self.name} needs a value for {name}")
            values[name] = _json_value(self.name, name, values[name])
        return values

    def build(self, **overrides: Any) -> Graph:
        """The graph for these parameters, built without running any step."""
        params = self.params(overrides)
        with _recording() as builder:
            self.func(**params)
        if not builder.nodes:
            raise InvalidInput(f"pipeline {self.name} calls no step")
        return Graph(self.name, self.ref, params, tuple(builder.nodes))

    def run(
        self,
        executor: str = "local",
        *,
        cache: bool = True,
        project: str | None = None,
        client: Client | None = None,
        **params: Any,
    ) -> PipelineRun:
        """Run on `executor` ("local", "process" or "ray"); steps whose cache key matches a
        finished step run are skipped and their outputs reused (unless `cache=False`)."""
        from slipway.pipelines._runner import run_graph

        return run_graph(
            self.build(**params), executor=executor, cache=cache, project=project, client=client
        )


def pipeline(func: Any = None, *, name: str | None = None) -> Any:
    """Declare a pipeline: a function that calls steps; its parameters are the run's."""
    if func is not None:
        return Pipeline(func)
    return lambda f: Pipeline(f, name=name)


def _coerce(pipeline: str, parameter: inspect.Parameter, value: Any) -> Any:
    """Values from the command line arrive as text; the annotation says what they are."""
    annotation = parameter.annotation
    if isinstance(annotation, str):
        annotation = {"int": int, "float": float, "bool": bool, "str": str}.get(annotation)
    if not isinstance(value, str) or annotation in (None, str, inspect.Parameter.empty):
        return value
    try:
        if annotation is bool:
            if value.lower() not in {"true", "false", "1", "0", "yes", "no"}:
                raise ValueError(value)
            return value.lower() in {"true", "1", "yes"}
        if annotation in (int, float):
            return annotation(value)
    except ValueError:
        raise InvalidInput(
            f"pipeline {pipeline}: {parameter.name} must be a {annotation.__name__}, got {value!r}"
        ) from None
    return value


def _module_name(func: Callable[..., Any]) -> str:
    """The importable name of the function's module; a script run directly is named by its
    file, which `slipway pipeline resume` imports from the current folder."""
    module = func.__module__
    if module != "__main__":
        return module
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name:
        return str(spec.name)
    path = getattr(main, "__file__", None)
    return Path(path).stem if path else module
