"""Materializers: how a step's output is written to the object store and read back.

pandas DataFrames and Arrow tables become Parquet, numpy arrays `.npy` (never pickled), models
a package in the registry's format, JSON values JSON. Anything else needs a materializer of
its own (`register_materializer`), so no output is ever pickled behind the user's back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from slipway.errors import InvalidInput

JSON_TYPES = (dict, list, str, int, float, bool, type(None))


class Materializer(Protocol):
    kind: str  # recorded with the artifact; names the materializer that reads it back
    folder: bool  # writes a folder (a manifest is stored) rather than one file

    def accepts(self, value: Any) -> bool: ...

    def save(self, value: Any, path: Path) -> None:
        """Write `value` at `path` (a file, or a folder when `folder`)."""

    def load(self, path: Path) -> Any: ...


def _module_of(value: Any) -> str:
    return type(value).__module__.split(".", 1)[0]


class PandasParquet:
    kind = "pandas.parquet"
    folder = False

    def accepts(self, value: Any) -> bool:
        if _module_of(value) != "pandas":
            return False
        import pandas as pd  # type: ignore[import-untyped]

        return isinstance(value, pd.DataFrame)

    def save(self, value: Any, path: Path) -> None:
        value.to_parquet(path)

    def load(self, path: Path) -> Any:
        import pandas as pd

        return pd.read_parquet(path)


class ArrowParquet:
    kind = "arrow.parquet"
    folder = False

    def accepts(self, value: Any) -> bool:
        if _module_of(value) != "pyarrow":
            return False
        import pyarrow as pa

        return isinstance(value, pa.Table)

    def save(self, value: Any, path: Path) -> None:
        import pyarrow.parquet as pq

        pq.write_table(value, path)

    def load(self, path: Path) -> Any:
        import pyarrow.parquet as pq

        return pq.read_table(path)


class NumpyArray:
    kind = "numpy.npy"
    folder = False

    def accepts(self, value: Any) -> bool:
        if _module_of(value) != "numpy":
            return False
        import numpy as np

        return isinstance(value, np.ndarray) and value.dtype != object

    def save(self, value: Any, path: Path) -> None:
        import numpy as np

        with path.open("wb") as out:
            np.save(out, value, allow_pickle=False)

    def load(self, path: Path) -> Any:
        import numpy as np

        return np.load(path, allow_pickle=False)


class JsonValue:
    kind = "json"
    folder = False

    def accepts(self, value: Any) -> bool:
        return _plain(value)

    def save(self, value: Any, path: Path) -> None:
        path.write_text(json.dumps(value, sort_keys=True, allow_nan=False), encoding="utf-8")

    def load(self, path: Path) -> Any:
        return json.loads(path.read_text(encoding="utf-8"))


class ModelPackage:
    """A model of any registry flavor (scikit-learn, XGBoost, LightGBM, ONNX, PyTorch, ...)."""

    kind = "model"
    folder = True

    def accepts(self, value: Any) -> bool:
        if isinstance(value, JSON_TYPES):
            return False
        from slipway.models.flavors import detect_flavor

        try:
            detect_flavor(value)
        except InvalidInput:
            return False
        return True

    def save(self, value: Any, path: Path) -> None:
        from slipway.models import save_package

        path.mkdir()
        save_package(value, path)

    def load(self, path: Path) -> Any:
        from slipway.models import load_package

        # skops trusts scikit-learn's own types; anything else is refused, not unpickled.
        return load_package(path).model


_registry: list[Materializer] = [
    PandasParquet(),
    ArrowParquet(),
    NumpyArray(),
    JsonValue(),
    ModelPackage(),
]


def register_materializer(materializer: Materializer) -> None:
    """Add a materializer, tried before the built-in ones; its `kind` must be new."""
    if any(m.kind == materializer.kind for m in _registry):
        raise InvalidInput(f"a materializer of kind {materializer.kind!r} is registered already")
    _registry.insert(0, materializer)


def for_value(value: Any, step: str) -> Materializer:
    for materializer in _registry:
        if materializer.accepts(value):
            return materializer
    raise InvalidInput(
        f"step {step} returned a {type(value).__module__}.{type(value).__qualname__}, which "
        "Slipway does not know how to store: return a DataFrame, Arrow table, numpy array, "
        "model or JSON value, or register a materializer (slipway.pipelines."
        "register_materializer)"
    )


def for_kind(kind: str) -> Materializer:
    for materializer in _registry:
        if materializer.kind == kind:
            return materializer
    raise InvalidInput(
        f"no materializer of kind {kind!r} is registered in this process; "
        "register it before running the pipeline"
    )


def _plain(value: Any, depth: int = 0) -> bool:
    """JSON round-trips it unchanged (no tuples, no NaN, string keys only)."""
    if depth > 100:
        return False
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if type(value) is list:
        return all(_plain(v, depth + 1) for v in value)
    if type(value) is dict:
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    return False
