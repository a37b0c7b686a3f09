"""The lightgbm flavor: the booster in lightgbm's text format, never a pickle.

A scikit-learn wrapper (LGBMClassifier, LGBMRegressor, LGBMRanker) is saved as its booster plus,
for a classifier, its classes (JSON values and their numpy dtype). Loading gives a
`LightGBMModel` that predicts through the booster the way the wrapper does: a regressor or
ranker returns the booster's prediction, a classifier the class of highest probability
(`predict_proba` gives the probabilities), so labels come back identical, dtype included.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from slipway.errors import IntegrityError, InvalidInput
from slipway.models.flavors._common import distributions, inside, not_fitted, warn_on_version_change

_FILE = "model.txt"
_FORMAT = "lightgbm-text"


class LightGBMFlavor:
    name = "lightgbm"

    def accepts(self, model: object) -> bool:
        # A lightgbm model means lightgbm is imported already: no import here.
        lgb = sys.modules.get("lightgbm")
        return lgb is not None and isinstance(model, lgb.Booster | lgb.LGBMModel)

    def requirements(self, model: object) -> list[str]:
        return [*distributions("lightgbm"), "numpy", "scipy"]

    def save(self, model: object, model_dir: Path) -> dict[str, Any]:
        lgb = importlib.import_module("lightgbm")
        data: dict[str, Any] = {"file": _FILE, "format": _FORMAT, "estimator": "Booster"}
        booster = model
        if isinstance(model, lgb.LGBMModel):
            if not_fitted(model):
                raise InvalidInput(
                    f"this {type(model).__name__} is not fitted; fit it before packaging it"
                )
            if callable(getattr(model, "objective", None)):
                # The file keeps the trees, not the Python function that scores them.
                raise InvalidInput(
                    "this model was trained with a custom objective function, which lightgbm's "
                    "model file cannot keep; package it as a slipway.models.flavors.PythonModel"
                )
            booster = model.booster_
            data["estimator"] = type(model).__name__
            data["params"] = _json_params(model.get_params())
            if isinstance(model, lgb.LGBMClassifier):
                data.update(_classes(model.classes_))
        booster.save_model(str(model_dir / _FILE))  # type: ignore[attr-defined]
        data["lightgbm_version"] = str(lgb.__version__)
        return data

    def load(self, model_dir: Path, data: Mapping[str, Any], trusted_types: Sequence[str]) -> Any:
        if data.get("format") != _FORMAT:
            raise IntegrityError(
                f"{model_dir} declares format {data.get('format')!r}; the lightgbm flavor reads "
                "only lightgbm's text model files (it never unpickles)"
            )
        path = inside(model_dir, data.get("file"))
        lgb = importlib.import_module("lightgbm")
        warn_on_version_change("lightgbm", lgb.__version__, data.get("lightgbm_version"))
        try:
            booster = lgb.Booster(model_file=str(path))
        except (lgb.basic.LightGBMError, ValueError, UnicodeDecodeError) as exc:
            raise IntegrityError(f"{path} is not a readable lightgbm model ({exc})") from None
        classes = None
        if "classes" in data:
            np = importlib.import_module("numpy")
            try:
                classes = np.asarray(data["classes"], dtype=np.dtype(str(data["classes_dtype"])))
            except (KeyError, TypeError, ValueError) as exc:
                raise IntegrityError(f"{model_dir}: the classes are malformed ({exc})") from None
        return LightGBMModel(booster, classes, str(data.get("estimator")))


class LightGBMModel:
    """A booster that predicts as the scikit-learn wrapper it was saved from."""

    def __init__(self, booster: Any, classes: Any, estimator: str = "Booster") -> None:
        self.booster = booster
        self.classes_ = classes  # None unless a classifier
        self.estimator = estimator

    def predict(self, data: Any) -> Any:
        if self.classes_ is None:
            return self.booster.predict(data)
        np = importlib.import_module("numpy")
        # As LGBMClassifier.predict: the first class of highest probability.
        return self.classes_[np.argmax(self.predict_proba(data), axis=1)]

    def predict_proba(self, data: Any) -> Any:
        if self.classes_ is None:
            raise AttributeError(f"a lightgbm {self.estimator} gives no class probabilities")
        np = importlib.import_module("numpy")
        result = self.booster.predict(data)
        # A binary booster gives the positive class only, as LGBMClassifier.predict_proba sees.
        return np.vstack((1.0 - result, result)).transpose() if result.ndim == 1 else result

    def __repr__(self) -> str:
        return f"LightGBMModel({self.estimator}, trees={self.booster.num_trees()})"


def _classes(classes: Any) -> dict[str, Any]:
    values = classes.tolist()
    try:
        same = json.loads(json.dumps(values)) == values
    except (TypeError, ValueError):
        same = False
    if not same:
        raise InvalidInput(
            f"the classifier's classes ({values[:5]!r}...) are not plain values JSON keeps; "
            "train it on integer, string or boolean labels"
        )
    return {"classes": values, "classes_dtype": classes.dtype.str}


def _json_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The wrapper's parameters that JSON keeps (informative: the booster file has its own)."""
    kept = {}
    for key, value in params.items():
        try:
            if json.loads(json.dumps(value)) == value:
                kept[key] = value
        except (TypeError, ValueError):
            continue
    return kept
