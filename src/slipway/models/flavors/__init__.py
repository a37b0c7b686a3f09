"""Model flavors: how one kind of model is saved into a package and loaded back.

A flavor is a narrow protocol (`Flavor`). Flavors are found by name through a registry of lazy
`"module:Class"` strings, so packaging a scikit-learn model never imports another flavor's
library, and a flavor whose library is missing names the extra that installs it.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from slipway.errors import ConfigError, InvalidInput
from slipway.models.flavors._pyfunc import PythonModel

if TYPE_CHECKING:  # `_FLAVORS` names these "module:Class"; each is imported on first use
    from slipway.models.flavors._lightgbm import LightGBMFlavor  # noqa: F401
    from slipway.models.flavors._onnx import OnnxFlavor  # noqa: F401
    from slipway.models.flavors._pyfunc import PyfuncFlavor  # noqa: F401
    from slipway.models.flavors._sklearn import SklearnFlavor  # noqa: F401
    from slipway.models.flavors._torch import TorchFlavor  # noqa: F401
    from slipway.models.flavors._xgboost import XGBoostFlavor  # noqa: F401

__all__ = [
    "Flavor",
    "Predictor",
    "PythonModel",
    "detect_flavor",
    "flavor_names",
    "get_flavor",
    "onnx_predictor",
]


@runtime_checkable
class Predictor(Protocol):
    """What a flavor loads: anything with `predict`."""

    def predict(self, data: Any) -> Any: ...


class Flavor(Protocol):
    """Saves one kind of model into a package's `model/` folder and loads it back."""

    name: str

    def accepts(self, model: object) -> bool:
        """Whether `model` is of this flavor's kind (without importing libraries it lacks)."""
        ...

    def requirements(self, model: object) -> list[str]:
        """The distributions loading needs, by name; the package pins their installed versions."""
        ...

    def save(self, model: object, model_dir: Path) -> dict[str, Any]:
        """Write the model into the empty `model_dir`; the flavor data for slipway-model.yaml."""
        ...

    def load(
        self, model_dir: Path, data: Mapping[str, Any], trusted_types: Sequence[str]
    ) -> Predictor:
        """Read the model back; refuse to run code of types the caller has not trusted."""
        ...


class _Entry(NamedTuple):
    target: str  # "module:Class", imported on first use
    modules: tuple[str, ...]  # what the flavor imports when it saves or loads
    extra: str  # the slipway extra that installs them
    accepts: str  # what models it takes, for error messages


# Detection tries flavors in this order, the most specific first: xgboost's and lightgbm's
# wrappers are scikit-learn estimators too (and their boosters have `predict`), so their flavors
# come before "sklearn"; onnx and torch take their libraries' own types; "pyfunc" stays last,
# since it takes any class with `predict`. Each flavor's `accepts` looks only at modules already
# imported, so detection imports none of these libraries.
_FLAVORS: dict[str, _Entry] = {
    "xgboost": _Entry(
        "slipway.models.flavors._xgboost:XGBoostFlavor",
        ("xgboost",),
        "xgboost",
        "an xgboost Booster, or a fitted XGBClassifier, XGBRegressor, XGBRanker or XGBRF*",
    ),
    "lightgbm": _Entry(
        "slipway.models.flavors._lightgbm:LightGBMFlavor",
        ("lightgbm",),
        "lightgbm",
        "a lightgbm Booster, or a fitted LGBMClassifier, LGBMRegressor or LGBMRanker",
    ),
    "onnx": _Entry(
        "slipway.models.flavors._onnx:OnnxFlavor",
        # Loading needs only onnxruntime; whoever saves a ModelProto has onnx already.
        ("onnxruntime",),
        "onnx",
        "an onnx.ModelProto",
    ),
    "torch": _Entry(
        "slipway.models.flavors._torch:TorchFlavor",
        ("torch",),
        "torch",
        "a TorchScript module, or a torch.nn.Module whose init_args() rebuild it",
    ),
    "sklearn": _Entry(
        "slipway.models.flavors._sklearn:SklearnFlavor",
        ("sklearn", "skops"),
        "sklearn",
        "a fitted scikit-learn estimator or Pipeline",
    ),
    "pyfunc": _Entry(
        "slipway.models.flavors._pyfunc:PyfuncFlavor",
        (),
        "",
        "a slipway.models.flavors.PythonModel subclass, or an importable class with predict()",
    ),
}


def onnx_predictor(session: Any) -> Predictor:
    """`predict` over an onnxruntime session, as the onnx flavor loads one."""
    from slipway.models.flavors._onnx import OnnxPredictor

    return OnnxPredictor(session)


def flavor_names() -> list[str]:
    return list(_FLAVORS)


def get_flavor(name: str) -> Flavor:
    """The flavor called `name`, ready to use: its libraries are installed."""
    entry = _entry(name)
    missing = [m for m in entry.modules if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(
            f"the {name} flavor needs {', '.join(missing)}: pip install 'slipway[{entry.extra}]'"
        )
    return _instance(name, entry)


def detect_flavor(model: object) -> str:
    """The name of the first flavor that accepts `model`."""
    for name, entry in _FLAVORS.items():
        if _instance(name, entry).accepts(model):
            return name
    kinds = "; ".join(f"{name}: {entry.accepts}" for name, entry in _FLAVORS.items())
    raise InvalidInput(
        f"no flavor can package a {type(model).__module__}.{type(model).__qualname__}. "
        f"Flavors: {kinds}"
    )


def _entry(name: str) -> _Entry:
    if name not in _FLAVORS:
        raise InvalidInput(f"unknown flavor {name!r}; flavors are {', '.join(sorted(_FLAVORS))}")
    return _FLAVORS[name]


def _instance(name: str, entry: _Entry) -> Flavor:
    module, _, cls = entry.target.partition(":")
    try:
        flavor: Flavor = getattr(importlib.import_module(module), cls)()
    except ImportError as exc:
        hint = f": pip install 'slipway[{entry.extra}]'" if entry.extra else ""
        raise ConfigError(f"cannot load the {name} flavor ({exc}){hint}") from None
    return flavor
