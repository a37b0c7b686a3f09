"""The xgboost flavor: boosters and their scikit-learn wrappers in xgboost's own format.

`save_model` writes the trees and the learner's configuration as UBJSON (binary JSON), data
that xgboost parses without running code, unlike a pickle. A scikit-learn wrapper (XGBClassifier
and the like) keeps its parameters in that file too: loading builds an empty wrapper of the
recorded class and reads the file into it, so `predict` gives labels exactly as before.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from slipway.errors import IntegrityError, InvalidInput
from slipway.models.flavors._common import distributions, inside, not_fitted, warn_on_version_change

_FILE = "model.ubj"
_FORMATS = ("ubj", "json")  # what xgboost's loader reads by the file's extension
_BOOSTER = "Booster"


class XGBoostFlavor:
    name = "xgboost"

    def accepts(self, model: object) -> bool:
        # An xgboost model means xgboost is imported already: no import here.
        xgb = sys.modules.get("xgboost")
        return xgb is not None and isinstance(model, xgb.Booster | xgb.XGBModel)

    def requirements(self, model: object) -> list[str]:
        found = [*distributions("xgboost"), "numpy", "scipy"]
        xgb = importlib.import_module("xgboost")
        return [*found, "scikit-learn"] if isinstance(model, xgb.XGBModel) else found

    def save(self, model: object, model_dir: Path) -> dict[str, Any]:
        xgb = importlib.import_module("xgboost")
        if isinstance(model, xgb.XGBModel):
            estimator = _estimator_name(type(model))
            if not_fitted(model):
                raise InvalidInput(
                    f"this {type(model).__name__} is not fitted; fit it before packaging it"
                )
        else:
            estimator = _BOOSTER
        model.save_model(str(model_dir / _FILE))  # type: ignore[attr-defined]
        return {
            "file": _FILE,
            "format": "ubj",
            "estimator": estimator,
            "xgboost_version": str(xgb.__version__),
        }

    def load(self, model_dir: Path, data: Mapping[str, Any], trusted_types: Sequence[str]) -> Any:
        if data.get("format") not in _FORMATS:
            raise IntegrityError(
                f"{model_dir} declares format {data.get('format')!r}; the xgboost flavor reads "
                "only xgboost's JSON or UBJSON model files (it never unpickles)"
            )
        path = inside(model_dir, data.get("file"))
        if path.suffix != f".{data['format']}":
            raise IntegrityError(f"{path}: the file name does not match format {data['format']}")
        xgb = importlib.import_module("xgboost")
        estimator = data.get("estimator")
        model = xgb.Booster() if estimator == _BOOSTER else _estimator_class(xgb, str(estimator))()
        warn_on_version_change("xgboost", xgb.__version__, data.get("xgboost_version"))
        try:
            model.load_model(str(path))
        except (xgb.core.XGBoostError, ValueError, UnicodeDecodeError) as exc:
            raise IntegrityError(f"{path} is not a readable xgboost model ({exc})") from None
        return BoosterPredictor(model) if estimator == _BOOSTER else model


class BoosterPredictor:
    """A bare Booster behind `predict`: the input becomes a DMatrix first."""

    def __init__(self, booster: Any) -> None:
        self.booster = booster

    def predict(self, data: Any) -> Any:
        xgb = importlib.import_module("xgboost")
        return self.booster.predict(xgb.DMatrix(data))


def _estimator_name(cls: type) -> str:
    # Only xgboost's own wrappers: a subclass may hold state the model file does not keep.
    if not cls.__module__.startswith("xgboost.") or "." in cls.__qualname__:
        raise InvalidInput(
            f"{cls.__module__}.{cls.__qualname__} is not one of xgboost's own estimators, so "
            "xgboost's model file may not keep all of it; package its booster "
            "(model.get_booster()) or write a slipway.models.flavors.PythonModel"
        )
    return cls.__qualname__


def _estimator_class(xgb: Any, name: str) -> type:
    """xgboost's wrapper class called `name`; nothing else is ever instantiated."""
    found = getattr(xgb, name, None) if name.isidentifier() else None
    if not (isinstance(found, type) and issubclass(found, xgb.XGBModel)):
        raise IntegrityError(f"the package names {name!r}, which is no xgboost estimator")
    return found
