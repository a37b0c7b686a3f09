"""Converting a packaged scikit-learn model to ONNX, kept only if it predicts the same.

skl2onnx writes the graph; onnxruntime then predicts the package's input example plus rows
generated from it (values drawn within and slightly beyond each column's range, categories
among those seen), and the graph is kept only if it gives the same labels (a classifier) or
values within 1e-4 relative (a regressor; 1e-6 absolute near zero) as scikit-learn does.

A graph can drift from scikit-learn in known ways, so several are tried in turn and the first
that passes wins. Precision: scikit-learn computes in float64 but its trees read their input as
float32, while skl2onnx computes in the input's type; so a model ending in trees is converted
as float64 up to the trees and float32 into them (or float32 throughout when it is only trees),
and any other in float64, then float32. Ties: a classifier's own label output breaks ties
between equally likely classes its own way (a forest of an even number of trees votes 50/50 now
and then), so the label may instead be taken as scikit-learn takes it, the first class of
highest probability. Each graph's first output is what scikit-learn's `predict` returns, with
its shape (1-D for one target) and its classes' type.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slipway.errors import ConfigError, InvalidInput

if TYPE_CHECKING:
    from slipway.models._package import PackagedModel
    from slipway.models._signature import Signature

GENERATED_ROWS = 200
_SEED = 0
RELATIVE_TOLERANCE = 1e-4
ABSOLUTE_TOLERANCE = 1e-6  # values near zero: float rounding, not a different prediction
SPLIT = "float64, float32 into the trees"
TIE = 1e-5  # probabilities this close are a tie (float32 sums over a few hundred trees)


@dataclass(frozen=True)
class Conversion:
    """An ONNX graph that predicts as the scikit-learn model it came from, and how it was made."""

    model: Any  # onnx.ModelProto
    precision: str  # "float64", "float32" or SPLIT: how the graph computes
    layout: str  # "matrix" (one input) or "columns" (one input per column)
    rows_checked: int


def convert(loaded: PackagedModel, *, source: str = "the model") -> Conversion:
    """The ONNX graph of the scikit-learn model `loaded` holds, checked against it.

    InvalidInput when skl2onnx cannot convert it, or no graph predicts the same; ConfigError
    when skl2onnx or onnxruntime is missing.
    """
    missing = [
        m for m in ("onnx", "onnxruntime", "skl2onnx") if importlib.util.find_spec(m) is None
    ]
    if missing:
        raise ConfigError(f"to_onnx needs {', '.join(missing)}: pip install 'slipway[onnx]'")
    if loaded.flavor != "sklearn":
        article = "an" if loaded.flavor[:1] in "aeiou" else "a"
        raise InvalidInput(
            f"{source} is {article} {loaded.flavor} model; only scikit-learn models convert to ONNX"
        )
    signature, example = loaded.signature, loaded.input_example()
    if signature is None or example is None:
        raise InvalidInput(
            f"{source} was logged without an input example, and the ONNX graph is checked "
            "against scikit-learn on it; log the model again with input_example=..."
        )
    dated = [c.name for c in signature.inputs if c.type == "datetime"]
    if dated:
        raise InvalidInput(
            f"{source} takes datetime column(s) {', '.join(dated)}, which ONNX has no type for; "
            "turn them into numbers inside the model (or before it) to convert it"
        )
    rows = _rows(signature, example)
    try:
        expected = loaded.predict(rows)
    except Exception:  # the model refuses drawn values (an unseen combination, say): no matter
        rows, expected = example, loaded.predict(example)
    estimator = loaded.model
    classifier = bool(importlib.import_module("sklearn.base").is_classifier(estimator))
    problems: list[str] = []
    for precision, layout, initial_types in _candidates(signature, estimator):
        try:
            graph = _skl2onnx(estimator, precision, initial_types, classifier)
        except Exception as exc:  # skl2onnx raises many types: it could not convert, that's all
            if type(exc).__name__ in ("MissingShapeCalculator", "MissingConverter"):
                raise InvalidInput(
                    f"{source} cannot be converted to ONNX: skl2onnx has no converter for a part "
                    f"of it ({_first_line(exc)})"
                ) from None
            problems.append(f"{precision} {layout}: {_first_line(exc)}")
            continue
        for variant in _variants(graph, estimator, classifier, expected):
            problem = _compare(_predict(variant, rows), expected, classifier)
            if problem is None:
                return Conversion(variant, precision, layout, len(expected))
            problems.append(f"{precision} {layout}: {problem}")
    if not problems:
        raise InvalidInput(
            f"{source} takes an array of {signature.describe_inputs()}: ONNX takes numbers in "
            "an array, so log a model with a DataFrame input to convert it"
        )
    raise InvalidInput(
        f"{source} ({type(estimator).__name__}) cannot be converted to ONNX that predicts as "
        f"scikit-learn does on {len(expected)} rows (its input example and rows drawn from it): "
        + "; ".join(dict.fromkeys(problems))
    )


# -- the rows it is checked on -------------------------------------------------------------


def _rows(signature: Signature, example: Any) -> Any:
    """The example plus rows drawn from its columns' values, as the model receives them."""
    from slipway.models._signature import as_frame

    np = importlib.import_module("numpy")
    pd = importlib.import_module("pandas")
    rng = np.random.default_rng(_SEED)
    frame, n = as_frame(example), GENERATED_ROWS
    drawn: dict[str, Any] = {}
    for spec in signature.inputs:
        seen = frame[spec.name].dropna()
        if seen.empty:
            drawn[spec.name] = [None] * n
        elif spec.type == "float":
            low, high = float(seen.min()), float(seen.max())
            margin = (high - low or abs(high) or 1.0) / 10
            drawn[spec.name] = rng.uniform(low - margin, high + margin, n)
        elif spec.type == "integer":
            drawn[spec.name] = rng.integers(int(seen.min()), int(seen.max()) + 1, n)
        elif spec.type == "boolean":
            drawn[spec.name] = rng.random(n) < 0.5
        else:
            drawn[spec.name] = rng.choice(seen.astype(str).unique(), n)
    generated = pd.DataFrame(drawn, columns=list(frame.columns))
    return signature.validate(pd.concat([frame, generated], ignore_index=True))


# -- the graphs tried ----------------------------------------------------------------------


def _candidates(signature: Signature, estimator: Any) -> Iterator[tuple[str, str, list[Any]]]:
    """(precision, layout, skl2onnx initial types) to try, the most faithful first."""
    types = importlib.import_module("skl2onnx.common.data_types")
    double, single = types.DoubleTensorType, types.FloatTensorType
    if _reads_float32(estimator):
        # scikit-learn's trees cast their input to float32 and compare it with thresholds in
        # float64, so a value rounded onto a threshold goes left; ONNX in float64 would send it
        # right. What comes before the trees (a scaler, say) still computes in float64.
        orders = [("float32", single), ("float64", double)]
        if len(getattr(estimator, "steps", ())) > 1:
            orders.insert(0, (SPLIT, double))
    else:
        orders = [("float64", double), ("float32", single)]
    for precision, tensor in orders:
        for layout, initial_types in _inputs(signature, types, tensor):
            yield precision, layout, initial_types


def _inputs(signature: Signature, types: Any, tensor: Any) -> Iterator[tuple[str, list[Any]]]:
    if all(c.type in ("float", "integer", "boolean") for c in signature.inputs):
        yield "matrix", [("X", tensor([None, len(signature.inputs)]))]
    if signature.input_format == "dataframe":
        columns = []
        for c in signature.inputs:
            if c.type == "string":
                kind = types.StringTensorType
            elif c.type == "integer" and not c.nullable:
                kind = types.Int64TensorType
            else:  # floats, booleans as 0/1 and nullable integers (NaN for null)
                kind = tensor
            columns.append((c.name, kind([None, 1])))
        yield "columns", columns


def _reads_float32(estimator: Any) -> bool:
    """Whether the model ends in a scikit-learn tree model that reads its input as float32."""
    final = getattr(estimator, "_final_estimator", estimator)
    module, name = type(final).__module__, type(final).__name__
    # HistGradientBoosting bins its input in float64.
    return module.startswith(("sklearn.tree", "sklearn.ensemble")) and "Hist" not in name


def _skl2onnx(estimator: Any, precision: str, initial_types: list[Any], classifier: bool) -> Any:
    skl2onnx = importlib.import_module("skl2onnx")
    # Probabilities as a plain tensor, not ZipMap's list of dicts: the label is rebuilt from it.
    options = {"zipmap": False} if classifier else None
    if precision != SPLIT:
        return skl2onnx.convert_sklearn(estimator, initial_types=initial_types, options=options)
    onnx = importlib.import_module("onnx")
    pipeline = importlib.import_module("sklearn.pipeline")
    head = skl2onnx.convert_sklearn(
        pipeline.Pipeline(estimator.steps[:-1]), initial_types=initial_types
    )
    opsets = {o.domain or "": o.version for o in head.opset_import}
    cast = onnx.helper.make_node("Cast", ["{in}"], ["{out}"], to=onnx.TensorProto.FLOAT)
    head = _replace_output(head, [cast], [], onnx.TensorProto.FLOAT, flat=False)
    single = importlib.import_module("skl2onnx.common.data_types").FloatTensorType
    trees = skl2onnx.convert_sklearn(
        estimator.steps[-1][1],
        initial_types=[("features", single([None, estimator.steps[-1][1].n_features_in_]))],
        options=options,
        target_opset=opsets,
    )
    # The two conversions may pick different IR versions; the newer reads both graphs.
    head.ir_version = trees.ir_version = max(head.ir_version, trees.ir_version)
    return onnx.compose.merge_models(
        head, trees, io_map=[(head.graph.output[0].name, "features")], prefix2="trees_"
    )


def _variants(graph: Any, estimator: Any, classifier: bool, expected: Any) -> Iterator[Any]:
    np = importlib.import_module("numpy")
    if not classifier:
        yield _flat_output(graph) if np.ndim(expected) == 1 else graph
        return
    classes = getattr(estimator, "classes_", None)
    plain = graph
    if classes is not None and np.asarray(classes).dtype.kind == "b":
        plain = _bool_label(graph)  # skl2onnx gives 0/1 for boolean classes
    if classes is None or len(graph.graph.output) < 2:
        yield plain
        return
    argmax = _argmax_label(graph, np.asarray(classes))
    # A forest's probabilities are votes, so equal ones are common and its predict takes the
    # first class among them; other classifiers (a linear model, say) decide by their own rule.
    final = getattr(estimator, "_final_estimator", estimator)
    if type(final).__module__.startswith(("sklearn.ensemble", "sklearn.tree")):
        yield from (argmax, plain)
    else:
        yield from (plain, argmax)


def _argmax_label(graph: Any, classes: Any) -> Any:
    """`graph` whose first output is the first class whose probability is the highest, as
    scikit-learn picks it; onnxruntime's sums are float32, so 'highest' is within TIE."""
    onnx = importlib.import_module("onnx")
    np = importlib.import_module("numpy")
    make = onnx.helper.make_node
    output = graph.graph.output[1]
    floats = onnx.helper.tensor_dtype_to_np_dtype(output.type.tensor_type.elem_type)
    constants = [
        onnx.numpy_helper.from_array(_class_values(classes), name="slipway_classes"),
        onnx.numpy_helper.from_array(np.array(TIE, dtype=floats), name="slipway_tie"),
    ]
    opset = max(o.version for o in graph.opset_import if o.domain in ("", "ai.onnx"))
    if opset >= 18:  # ReduceMax takes its axes as an input from opset 18 on
        constants.append(
            onnx.numpy_helper.from_array(np.array([1], dtype=np.int64), name="slipway_axes")
        )
        highest = make("ReduceMax", [output.name, "slipway_axes"], ["slipway_max"], keepdims=1)
    else:
        highest = make("ReduceMax", [output.name], ["slipway_max"], axes=[1], keepdims=1)
    nodes = [
        highest,
        make("Sub", ["slipway_max", "slipway_tie"], ["slipway_floor"]),
        make("Less", [output.name, "slipway_floor"], ["slipway_below"]),
        make("Not", ["slipway_below"], ["slipway_top"]),
        make("Cast", ["slipway_top"], ["slipway_top_0_1"], to=onnx.TensorProto.FLOAT),
        make("ArgMax", ["slipway_top_0_1"], ["slipway_index"], axis=1, keepdims=0),
        make("Gather", ["slipway_classes", "slipway_index"], ["{out}"], axis=0),
    ]
    return _replace_output(graph, nodes, constants, constants[0].data_type)


def _class_values(classes: Any) -> Any:
    np = importlib.import_module("numpy")
    if classes.dtype.kind in "biu":
        return classes.astype(bool if classes.dtype.kind == "b" else np.int64)
    if classes.dtype.kind == "f":
        return classes.astype(np.float64)
    return classes.astype(str).astype(object)


def _bool_label(graph: Any) -> Any:
    onnx = importlib.import_module("onnx")
    nodes = [onnx.helper.make_node("Cast", ["{in}"], ["{out}"], to=onnx.TensorProto.BOOL)]
    return _replace_output(graph, nodes, [], onnx.TensorProto.BOOL, flat=False)


def _flat_output(graph: Any) -> Any:
    """`graph` whose first output is 1-D, as a single-target regressor's `predict` returns."""
    onnx = importlib.import_module("onnx")
    np = importlib.import_module("numpy")
    shape = onnx.numpy_helper.from_array(np.array([-1], dtype=np.int64), name="slipway_flat")
    nodes = [onnx.helper.make_node("Reshape", ["{in}", "slipway_flat"], ["{out}"])]
    return _replace_output(graph, nodes, [shape], graph.graph.output[0].type.tensor_type.elem_type)


def _replace_output(
    graph: Any, nodes: list[Any], constants: list[Any], element: int, *, flat: bool = True
) -> Any:
    """A copy of `graph` whose first output comes from `nodes` instead ("{in}": the old one),
    of type `element`, 1-D if `flat` (else shaped as the old one)."""
    onnx = importlib.import_module("onnx")
    copy = onnx.ModelProto()
    copy.CopyFrom(graph)
    first = copy.graph.output[0]
    name, hidden = first.name, f"{first.name}_skl2onnx"
    for node in copy.graph.node:  # the old output lives on under another name
        node.output[:] = [hidden if o == name else o for o in node.output]
        node.input[:] = [hidden if i == name else i for i in node.input]
    for node in nodes:
        node.input[:] = [hidden if i == "{in}" else i for i in node.input]
        node.output[:] = [name if o == "{out}" else o for o in node.output]
    copy.graph.initializer.extend(constants)
    copy.graph.node.extend(nodes)
    first.type.tensor_type.elem_type = element
    if flat:
        first.type.tensor_type.shape.CopyFrom(
            onnx.helper.make_tensor_type_proto(element, [None]).tensor_type.shape
        )
    return copy


# -- checking ------------------------------------------------------------------------------


def _predict(graph: Any, rows: Any) -> Any:
    from slipway.models.flavors import onnx_predictor

    onnx = importlib.import_module("onnx")
    ort = importlib.import_module("onnxruntime")
    try:
        # The onnx flavor checks a graph before saving it: one it would refuse is no candidate.
        onnx.checker.check_model(graph, full_check=True)
        session = ort.InferenceSession(
            graph.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        return onnx_predictor(session).predict(rows)
    except Exception as exc:  # onnx's and onnxruntime's own error types: it does not run here
        return exc


def _compare(got: Any, expected: Any, classifier: bool) -> str | None:
    """None when `got` is scikit-learn's prediction `expected`; what differs otherwise."""
    if isinstance(got, Exception):
        return f"the graph does not check or run ({_first_line(got)})"
    np = importlib.import_module("numpy")
    got, expected = np.asarray(got), np.asarray(expected)
    if got.size != expected.size:
        return f"the graph gives {got.shape} values where scikit-learn gives {expected.shape}"
    got = got.reshape(expected.shape)
    if classifier:
        same = np.asarray(got == expected).reshape(len(expected), -1).all(axis=1)
        what = "labels"
    else:
        close = np.isclose(got, expected, rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE)
        same = np.asarray(close).reshape(len(expected), -1).all(axis=1)
        what = "values"
    if same.all():
        return None
    row = int(np.flatnonzero(~same)[0])
    return (
        f"{what} differ on {int((~same).sum())} of {len(same)} rows (row {row}: ONNX gives "
        f"{_shown(got[row])}, scikit-learn {_shown(expected[row])})"
    )


def _shown(value: Any) -> str:
    return repr(value.tolist() if hasattr(value, "tolist") else value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
