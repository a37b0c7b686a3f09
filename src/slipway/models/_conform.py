"""How one input column is checked and converted to its signature type (`_signature.py` has
the rules in its docstring); kept apart so the signature module stays about the columns."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from slipway.models._signature import ColumnSpec

ColumnType = Literal["integer", "float", "boolean", "string", "datetime"]
COLUMN_TYPES: tuple[str, ...] = get_args(ColumnType)


def kind_of(value: Any) -> str:
    """A value's signature type, or its Python type name when it has none."""
    np = importlib.import_module("numpy")
    if isinstance(value, bool | np.bool_):
        return "boolean"
    if isinstance(value, int | np.integer):
        return "integer"
    if isinstance(value, float | np.floating):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dt.date | np.datetime64):
        return "datetime"  # pandas' Timestamp is a datetime
    return type(value).__name__


def conform(series: Any, spec: ColumnSpec) -> tuple[Any, str | None]:
    """The column converted to `spec`'s type, or the problem with it."""
    pd = importlib.import_module("pandas")
    np = importlib.import_module("numpy")
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    nulls = series.isna().to_numpy()
    present = np.flatnonzero(~nulls)
    if present.size < len(nulls) and not spec.nullable:
        row = int(np.flatnonzero(nulls)[0])
        return None, f"column {spec.name!r} ({spec.type}) is not nullable but row {row} is null"
    given = _dtype_kind(series.dtype)
    if given == "object" or (spec.type == "datetime" and given == "string"):
        values = series.to_numpy(dtype=object)  # only these need a look at each value
        for row in present:
            kind = kind_of(values[row])
            if kind not in _ACCEPTS[spec.type] or not _fits(spec.type, kind, values[row]):
                return None, _wrong(spec, kind, values[row], int(row))
    elif given not in _ACCEPTS[spec.type] and present.size:
        return None, _wrong(spec, given, series.iloc[present[0]], int(present[0]))
    elif spec.type == "integer" and given == "float":
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.flatnonzero(~nulls & (~np.isfinite(numbers) | (numbers % 1 != 0)))
        if bad.size:
            return None, _wrong(spec, "float", numbers[bad[0]], int(bad[0]))
    try:
        return _convert(series, spec, nulls), None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. datetimes mixing time zones
        return None, f"column {spec.name!r} cannot be read as {spec.type}: {exc}"


def has_nan(frame: Any, positions: list[int], *, all_floats: bool) -> bool:
    np = importlib.import_module("numpy")
    if all_floats:  # one block: a view, no copy
        return bool(np.isnan(frame.to_numpy()[:, positions]).any())
    return any(bool(np.isnan(frame.iloc[:, i].to_numpy()).any()) for i in positions)


# The dtype `_convert` gives each (type, nullable): a column that has it needs no conversion.
EXACT = {
    ("float", False): "float64",
    ("float", True): "float64",
    ("integer", False): "int64",
    ("integer", True): "Int64",
    ("boolean", False): "bool",
    ("boolean", True): "boolean",
}

# What each column type takes, by the kind of values given.
_ACCEPTS: dict[str, frozenset[str]] = {
    "integer": frozenset({"integer", "float"}),  # floats only without a fraction
    "float": frozenset({"integer", "float"}),
    "boolean": frozenset({"boolean"}),
    "string": frozenset({"string"}),
    "datetime": frozenset({"datetime", "string"}),  # strings only in ISO 8601
}


def _fits(expected: str, kind: str, value: Any) -> bool:
    if expected == "integer" and kind == "float":
        return bool(float(value).is_integer())
    if expected == "datetime" and kind == "string":
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            return False
    return True


def _wrong(spec: ColumnSpec, kind: str, value: Any, row: int) -> str:
    if spec.type == "integer" and kind == "float":
        what = "a float with a fraction"
    elif spec.type == "datetime" and kind == "string":
        what = "a string that is not an ISO 8601 datetime"
    else:
        what = f"a {kind}" if kind in COLUMN_TYPES else f"a value of type {kind}"
    shown = repr(value.item() if hasattr(value, "item") else value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"column {spec.name!r} expects {spec.type}, got {what} ({shown} at row {row})"


def _dtype_kind(dtype: Any) -> str:
    """The signature type a column's dtype holds, or "object" when only its values tell."""
    types = importlib.import_module("pandas").api.types
    if types.is_bool_dtype(dtype):
        return "boolean"
    if types.is_integer_dtype(dtype):
        return "integer"
    if types.is_float_dtype(dtype):
        return "float"
    if types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if types.is_string_dtype(dtype) and not types.is_object_dtype(dtype):
        return "string"
    return "object"


def _convert(series: Any, spec: ColumnSpec, nulls: Any) -> Any:
    pd = importlib.import_module("pandas")
    np = importlib.import_module("numpy")
    if spec.type == "float":
        return pd.Series(
            series.to_numpy(dtype=np.float64, na_value=np.nan), index=series.index, copy=False
        )
    if spec.type == "integer":
        if not spec.nullable:
            return pd.Series(series.to_numpy(dtype=np.int64), index=series.index, copy=False)
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return pd.Series(pd.array(numbers, dtype="Int64"), index=series.index)
    if spec.type == "boolean":
        if not spec.nullable:
            return pd.Series(series.to_numpy(dtype=bool), index=series.index, copy=False)
        return series.astype("boolean")
    if spec.type == "datetime":
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            return series
        return pd.to_datetime(series, format="ISO8601")
    if series.dtype == pd.Series(["a"]).dtype:
        return series  # already pandas' default string dtype
    # pandas picks its default string dtype for str values (object before pandas 3)
    strings = pd.Series(np.where(nulls, np.nan, series.to_numpy(dtype=object)), index=series.index)
    return strings if _dtype_kind(strings.dtype) in ("string", "object") else strings.astype(object)


def to_array(frame: Any, inputs: Sequence[ColumnSpec]) -> Any:
    np = importlib.import_module("numpy")
    types = {c.type for c in inputs}
    if types == {"float"}:
        return frame.to_numpy(dtype=np.float64)
    if types == {"integer"}:
        if any(c.nullable for c in inputs):
            return frame.to_numpy(dtype=np.float64, na_value=np.nan)
        return frame.to_numpy(dtype=np.int64)
    if types == {"boolean"} and not any(c.nullable for c in inputs):
        return frame.to_numpy(dtype=bool)
    return frame.to_numpy(dtype=object)
