"""Model signatures: the columns a model takes (and gives), and the check every input passes.

A signature is a list of columns, each with one of five types (integer, float, boolean, string,
datetime) and whether it may hold nulls. `input_format` says what the model receives:

- "dataframe": a pandas DataFrame whose columns are the signature's, in its order;
- "ndarray": a 2-D numpy array; its columns are named "0", "1", ... (the labels pandas gives a
  DataFrame built from the array, as strings), so records and tables can feed it too.

Conversion rules, the same for every input kind: integers into float columns are widened; floats
without a fraction into integer columns are accepted; anything else of another type is refused
(booleans are not numbers, numbers are not strings, strings are not numbers); datetime columns
also take ISO 8601 strings (what JSON carries). Nulls (None, NaN, NA, a record missing the key)
pass only in nullable columns. The dtypes a model receives follow from the signature alone, never
from the batch: int64, float64, bool, pandas' string dtype (object before pandas 3), datetime64;
nullable integer and boolean columns are pandas' Int64 and boolean (an "ndarray" model gets
float64 with NaN for them); a string column holds NaN for nulls, as pandas' own do.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from slipway.errors import InvalidInput
from slipway.models._conform import (
    COLUMN_TYPES,
    EXACT,
    ColumnType,
    conform,
    has_nan,
    kind_of,
    to_array,
)

InputFormat = Literal["dataframe", "ndarray"]
INPUT_FORMATS: tuple[str, ...] = get_args(InputFormat)
_SHOWN = 20  # columns listed in an error message before "... and N more"


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: ColumnType
    nullable: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidInput(f"a column name must be a non-empty string, not {self.name!r}")
        if self.type not in COLUMN_TYPES:
            raise InvalidInput(
                f"column {self.name!r} has unknown type {self.type!r}; "
                f"types are {', '.join(COLUMN_TYPES)}"
            )

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "nullable": self.nullable}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ColumnSpec:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("nullable", False), bool):
            raise InvalidInput(f"a column spec is a mapping of name, type, nullable; got {raw!r}")
        return cls(raw.get("name"), raw.get("type"), raw.get("nullable", False))  # type: ignore[arg-type]

    def describe(self) -> str:
        return f"{self.name} ({self.type}{', nullable' if self.nullable else ''})"


@dataclass(frozen=True)
class Signature:
    """What a model takes (`inputs`) and gives (`outputs`, informative: never checked)."""

    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[ColumnSpec, ...] = ()
    input_format: InputFormat = "dataframe"
    _names: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Callers naturally pass lists; a frozen signature keeps tuples.
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        names = [c.name for c in self.inputs]
        object.__setattr__(self, "_names", frozenset(names))
        if not names:
            raise InvalidInput("a signature needs at least one input column")
        if len(self._names) != len(names):
            raise InvalidInput(f"input column names repeat: {_quoted(_repeats(names))}")
        if self.input_format not in INPUT_FORMATS:
            raise InvalidInput(
                f"unknown input format {self.input_format!r}; "
                f"formats are {', '.join(INPUT_FORMATS)}"
            )
        if self.input_format == "ndarray" and names != [str(i) for i in range(len(names))]:
            raise InvalidInput('an "ndarray" signature names its columns "0", "1", ... in order')

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [c.to_dict() for c in self.inputs],
            "outputs": [c.to_dict() for c in self.outputs],
            "input_format": self.input_format,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Signature:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("inputs"), list):
            raise InvalidInput("a signature is a mapping with a list of inputs")
        outputs = raw.get("outputs") or []
        if not isinstance(outputs, list):
            raise InvalidInput("a signature's outputs are a list")
        return cls(
            tuple(ColumnSpec.from_dict(c) for c in raw["inputs"]),
            tuple(ColumnSpec.from_dict(c) for c in outputs),
            raw.get("input_format", "dataframe"),
        )

    def validate(self, data: Any) -> Any:
        """Check `data` against the inputs; a DataFrame or 2-D array as the model expects it.

        Takes a pandas DataFrame, a pyarrow Table, a 2-D numpy array, a list of records (dicts),
        a list of rows (lists, matched by position to "0", "1", ...) or one record (a dict).
        Every problem found is reported in one InvalidInput naming the columns.
        """
        fast = self._fast_array(data)
        if fast is None:
            fast = self._fast_frame(data)
        if fast is not None:
            return fast
        pd = importlib.import_module("pandas")
        frame = as_frame(data)
        if len(frame) == 0:
            raise InvalidInput("the input has no rows")
        missing = [c.name for c in self.inputs if c.name not in frame.columns]
        extra = [str(c) for c in frame.columns if c not in self._names]
        problems = []
        if missing:
            problems.append(f"missing column(s) {_quoted(missing)}")
        if extra:
            problems.append(f"unexpected column(s) {_quoted(extra)}; drop them")
        columns = {}
        for spec in self.inputs:
            if spec.name in frame.columns:
                converted, problem = conform(frame[spec.name], spec)
                if problem:
                    problems.append(problem)
                columns[spec.name] = converted
        if problems:
            raise InvalidInput(
                f"input does not match the model's signature: {'; '.join(problems)}. "
                f"The model takes: {self.describe_inputs()}"
            )
        result = pd.DataFrame(columns, index=frame.index)
        if self.input_format == "dataframe":
            return result
        return to_array(result, self.inputs)

    def describe_inputs(self) -> str:
        shown = ", ".join(c.describe() for c in self.inputs[:_SHOWN])
        more = len(self.inputs) - _SHOWN
        return shown + (f", ... and {more} more" if more > 0 else "")

    def _fast_frame(self, data: Any) -> Any:
        """A DataFrame whose columns already have the exact dtypes validation would give
        (numbers and booleans), passed on as it is; None to go the long way. Serving sends
        one row at a time: converting column by column cost ~100 us a column."""
        if type(data).__name__ != "DataFrame" or not type(data).__module__.startswith("pandas"):
            return None
        names = [c.name for c in self.inputs]
        columns = list(data.columns)
        if len(columns) != len(names) or set(columns) != self._names or len(data) == 0:
            return None
        dtypes = dict(zip(columns, (d.name for d in data.dtypes), strict=True))
        floats = []
        for spec in self.inputs:
            if dtypes[spec.name] != EXACT.get((spec.type, spec.nullable)):
                return None
            if spec.type == "float" and not spec.nullable:
                floats.append(columns.index(spec.name))
        if floats and has_nan(data, floats, all_floats=set(dtypes.values()) == {"float64"}):
            return None  # the long way names the column and the row
        frame = data if columns == names else data[names]
        return frame if self.input_format == "dataframe" else to_array(frame, self.inputs)

    def _fast_array(self, data: Any) -> Any:
        """A numeric array that already fits, converted without pandas; None to go the long way."""
        np = importlib.import_module("numpy")
        if not (
            self.input_format == "ndarray"
            and isinstance(data, np.ndarray)
            and data.ndim == 2
            and data.shape[1] == len(self.inputs)
            and data.shape[0] > 0
            and data.dtype.kind in "iuf"
        ):
            return None
        types = {c.type for c in self.inputs}
        if types == {"integer"} and data.dtype.kind in "iu":
            return data.astype(np.int64, copy=False)
        if types != {"float"}:
            return None
        if data.dtype.kind == "f":
            nullable = np.array([c.nullable for c in self.inputs])
            if (np.isnan(data).any(axis=0) & ~nullable).any():
                return None  # the long way names the column and the row
        return data.astype(np.float64, copy=False)


def infer_signature(example: Any, output: Any = None) -> Signature:
    """The signature `example` fits (and `output`, a model's prediction for it, if given).

    A 2-D numpy array gives an "ndarray" signature; every other input kind a "dataframe" one.
    A column is nullable when the example holds a null in it, so give an example with nulls
    where the model accepts them (or pass a signature of your own).
    """
    np = importlib.import_module("numpy")
    is_array = isinstance(example, np.ndarray)
    if is_array and example.ndim != 2:
        raise InvalidInput(f"an array example must be 2-D (rows, columns), not {example.ndim}-D")
    inputs = _infer_columns(as_frame(example, exact=True))
    return Signature(inputs, infer_outputs(output), "ndarray" if is_array else "dataframe")


def as_frame(data: Any, *, exact: bool = False) -> Any:
    """Any accepted input kind as a pandas DataFrame with string column names.

    `exact` keeps Python values (object columns) where pandas would turn integers with nulls
    into floats: inference wants the integers, validation accepts either.
    """
    pd = importlib.import_module("pandas")
    np = importlib.import_module("numpy")
    if isinstance(data, pd.DataFrame):
        frame = data
    elif type(data).__module__.startswith("pyarrow") and hasattr(data, "to_pandas"):
        frame = data.to_pandas(integer_object_nulls=exact)
    elif isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise InvalidInput(
                f"a {data.ndim}-D array is ambiguous; give a 2-D array "
                "(reshape(1, -1) for one row, reshape(-1, 1) for one column)"
            )
        frame = pd.DataFrame(data)
    elif isinstance(data, Mapping):
        frame = pd.DataFrame([data], dtype=object if exact else None)
    elif isinstance(data, list | tuple):
        if not data:
            raise InvalidInput("the input has no rows")
        records = all(isinstance(r, Mapping) for r in data)
        if records or all(isinstance(r, list | tuple) for r in data):
            frame = pd.DataFrame(list(data), dtype=object if exact else None)
        else:
            raise InvalidInput("a list input holds records (dicts) or rows (lists), not a mix")
    else:
        raise InvalidInput(
            f"cannot read input of type {type(data).__name__}; give a pandas DataFrame, a pyarrow "
            "Table, a 2-D numpy array, a list of records (dicts) or one record"
        )
    labels = [str(c) for c in frame.columns]
    if len(set(labels)) != len(labels):
        raise InvalidInput(f"input column names repeat: {_quoted(_repeats(labels))}")
    if list(frame.columns) != labels:
        frame = frame.set_axis(labels, axis=1)
    return frame


# -- inference -----------------------------------------------------------------------------


def _infer_columns(frame: Any) -> tuple[ColumnSpec, ...]:
    return tuple(ColumnSpec(name, *_infer_type(name, frame[name])) for name in frame.columns)


def infer_outputs(output: Any) -> tuple[ColumnSpec, ...]:
    if output is None:
        return ()
    pd = importlib.import_module("pandas")
    np = importlib.import_module("numpy")
    if isinstance(output, pd.Series):
        output = output.to_frame(name="0" if output.name is None else str(output.name))
    elif not isinstance(output, pd.DataFrame):
        array = np.asarray(output)
        output = pd.DataFrame(array.reshape(len(array), -1) if array.ndim == 1 else array)
    return _infer_columns(as_frame(output))


def _infer_type(name: str, series: Any) -> tuple[ColumnType, bool]:
    pd = importlib.import_module("pandas")
    types = pd.api.types
    nulls = series.isna()
    nullable = bool(nulls.any())
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _infer_type(name, series.astype(object))
    if types.is_bool_dtype(dtype):
        return "boolean", nullable
    if types.is_integer_dtype(dtype):
        return "integer", nullable
    if types.is_float_dtype(dtype):
        return "float", nullable
    if types.is_datetime64_any_dtype(dtype):
        return "datetime", nullable
    kinds = {kind_of(v) for v in series[~nulls]}
    if not kinds:
        raise InvalidInput(
            f"column {name!r} holds only nulls in the example, so its type is unknown; "
            "give an example with values in it or pass signature="
        )
    if kinds <= {"integer", "float"}:
        return ("integer" if kinds == {"integer"} else "float"), nullable
    (only,) = kinds if len(kinds) == 1 else ("",)
    if only in COLUMN_TYPES:
        return cast("ColumnType", only), nullable
    raise InvalidInput(
        f"column {name!r} mixes values of types {', '.join(sorted(kinds))}: a signature column "
        "has one type; clean the example or pass signature="
    )


def _quoted(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_SHOWN])
    more = len(names) - _SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _repeats(names: Sequence[str]) -> list[str]:
    return sorted(name for name, count in Counter(names).items() if count > 1)
