"""The onnx flavor: an ONNX graph saved as model.onnx, run by onnxruntime on the CPU.

An ONNX file is a protobuf message describing a graph of standard operators: loading parses
data, and running it executes onnxruntime's kernels, never code from the file. The input a
package receives (checked by its signature) is fed to the graph's inputs by their shape and
name: a graph with one input takes all the columns as one matrix; a graph with one input per
column (as skl2onnx makes for a DataFrame of mixed types) takes each column by its name.
Each array is cast to the element type the graph declares. `predict` returns the first output.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from slipway.errors import IntegrityError, InvalidInput
from slipway.models.flavors._common import distributions, inside

_FILE = "model.onnx"
# ONNX element types by the name onnxruntime reports, as numpy dtypes ("O": Python strings).
_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(int16)": "int16",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
    "tensor(string)": "O",
}


class OnnxFlavor:
    name = "onnx"

    def accepts(self, model: object) -> bool:
        # An onnx ModelProto means onnx is imported already: no import here.
        onnx = sys.modules.get("onnx")
        return onnx is not None and isinstance(model, onnx.ModelProto)

    def requirements(self, model: object) -> list[str]:
        return [*distributions("onnxruntime"), "numpy", "pandas"]

    def save(self, model: object, model_dir: Path) -> dict[str, Any]:
        onnx = importlib.import_module("onnx")
        try:
            onnx.checker.check_model(model, full_check=True)
        except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
            raise InvalidInput(f"the ONNX model is not valid: {exc}") from None
        onnx.save_model(model, str(model_dir / _FILE))
        graph = model.graph  # type: ignore[attr-defined]
        return {
            "file": _FILE,
            "inputs": [i.name for i in graph.input],
            "outputs": [o.name for o in graph.output],
            "opsets": {op.domain or "ai.onnx": int(op.version) for op in model.opset_import},  # type: ignore[attr-defined]
            "onnx_version": str(onnx.__version__),
        }

    def load(self, model_dir: Path, data: Mapping[str, Any], trusted_types: Sequence[str]) -> Any:
        path = inside(model_dir, data.get("file"))
        ort = importlib.import_module("onnxruntime")
        try:
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf/... types
            raise IntegrityError(
                f"{path} is not an ONNX model onnxruntime can run ({exc})"
            ) from None
        return OnnxPredictor(session)


class OnnxPredictor:
    """An onnxruntime session behind `predict` (the first output) and `run` (all of them)."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.inputs = list(session.get_inputs())
        self.output_names = [o.name for o in session.get_outputs()]

    def predict(self, data: Any) -> Any:
        return self.run(data)[self.output_names[0]]

    def run(self, data: Any) -> dict[str, Any]:
        """Every output of the graph for `data`, by name."""
        outputs = self.session.run(None, self._feeds(data))
        return dict(zip(self.output_names, outputs, strict=True))

    def _feeds(self, data: Any) -> dict[str, Any]:
        np = importlib.import_module("numpy")
        if len(self.inputs) == 1:
            (only,) = self.inputs
            return {only.name: _cast(data, only, np)}
        from slipway.models._signature import as_frame

        frame = as_frame(data)
        names = [i.name for i in self.inputs]
        missing = [name for name in names if name not in frame.columns]
        if missing:
            raise InvalidInput(
                f"the ONNX model takes one input per column ({', '.join(names)}); the data has "
                f"no column {', '.join(repr(m) for m in missing)}"
            )
        return {i.name: _cast(frame[[i.name]], i, np) for i in self.inputs}

    def __repr__(self) -> str:
        return f"OnnxPredictor(inputs={[i.name for i in self.inputs]}, outputs={self.output_names})"


def _cast(data: Any, node: Any, np: Any) -> Any:
    """`data` (a DataFrame or an array) as the array input `node` declares."""
    dtype = _DTYPES.get(node.type)
    if dtype is None:
        raise InvalidInput(f"the ONNX model's input {node.name!r} is a {node.type}, unsupported")
    try:
        if hasattr(data, "to_numpy"):
            # Nulls reach a float input as NaN; any other input refuses them below.
            nulls = {"na_value": np.nan} if dtype.startswith("float") else {}
            array = data.to_numpy(dtype=dtype, **nulls)
        else:
            array = np.asarray(data).astype(dtype, copy=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"the ONNX model's input {node.name!r} takes {node.type}; the data cannot be "
            f"converted to it ({exc})"
        ) from None
    if dtype == "O":
        array = array.astype(str).astype(object)  # onnxruntime takes Python str only
    rank = len(node.shape) if node.shape is not None else array.ndim
    if rank == 1 and array.ndim == 2 and array.shape[1] == 1:
        array = array.ravel()  # a graph input of shape [N] fed from one column
    return array
