"""Training metrics: what the fit received, and the estimator's scores on it."""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("slipway.tracking")


@dataclass(frozen=True)
class FitData:
    X: Any
    y: Any
    sample_weight: Any


def fit_inputs(fit: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> FitData:
    """X, y and sample_weight as the fit received them, positionally or by name."""
    try:
        signature = inspect.signature(fit)
        bound = signature.bind(None, *args, **kwargs).arguments
    except (TypeError, ValueError):
        return FitData(args[0] if args else kwargs.get("X"), None, None)
    values = dict(bound)
    for param in signature.parameters.values():
        if param.kind is inspect.Parameter.VAR_KEYWORD:  # fit(X, y, **fit_params)
            values.update(values.pop(param.name, {}))
    names = list(signature.parameters)[1:]
    x = values.get(names[0]) if names else None
    y = values["y"] if "y" in values else values.get("Y")
    return FitData(x, y, values.get("sample_weight"))


Metric = Callable[[], Any]


def training_metrics(estimator: Any, data: FitData) -> dict[str, float]:
    """Metrics on the training data; one that cannot be computed is skipped."""
    base = importlib.import_module("sklearn.base")
    if data.X is None:
        return {}
    supervised = data.y is not None
    if supervised and base.is_classifier(estimator):
        metrics = _classifier_metrics(estimator, data)
    elif supervised and base.is_regressor(estimator):
        metrics = _regressor_metrics(estimator, data)
    elif base.is_clusterer(estimator) and hasattr(estimator, "score"):
        metrics = {"training_score": lambda: _score(estimator, data)}
    else:
        return {}
    values: dict[str, float] = {}
    for name, compute in metrics.items():
        try:
            values[name] = float(compute())
        except Exception:
            log.debug("autolog: skipped %s for %s", name, type(estimator).__name__, exc_info=True)
    return values


def _classifier_metrics(estimator: Any, data: FitData) -> dict[str, Metric]:
    m = importlib.import_module("sklearn.metrics")
    y, weight = data.y, data.sample_weight
    predicted = functools.cache(lambda: estimator.predict(data.X))
    # zero_division=0 keeps a class never predicted from raising warnings in the user's output.
    averaged = {"average": "weighted", "zero_division": 0, "sample_weight": weight}
    metrics: dict[str, Metric] = {
        "training_accuracy_score": lambda: m.accuracy_score(y, predicted(), sample_weight=weight),
        "training_precision_score": lambda: m.precision_score(y, predicted(), **averaged),
        "training_recall_score": lambda: m.recall_score(y, predicted(), **averaged),
        "training_f1_score": lambda: m.f1_score(y, predicted(), **averaged),
    }
    if hasattr(estimator, "predict_proba"):
        proba = functools.cache(lambda: estimator.predict_proba(data.X))
        labels = estimator.classes_
        metrics["training_log_loss"] = lambda: m.log_loss(
            y, proba(), labels=labels, sample_weight=weight
        )
        metrics["training_roc_auc"] = lambda: _roc_auc(m, y, proba(), labels, weight)
    metrics["training_score"] = lambda: _score(estimator, data)
    return metrics


def _roc_auc(m: Any, y: Any, proba: Any, labels: Any, weight: Any) -> Any:
    if len(labels) == 2:
        return m.roc_auc_score(y, proba[:, 1], sample_weight=weight)
    return m.roc_auc_score(y, proba, multi_class="ovr", labels=labels, sample_weight=weight)


def _regressor_metrics(estimator: Any, data: FitData) -> dict[str, Metric]:
    m = importlib.import_module("sklearn.metrics")
    y, weight = data.y, data.sample_weight
    predicted = functools.cache(lambda: estimator.predict(data.X))
    return {
        "training_mean_squared_error": lambda: m.mean_squared_error(
            y, predicted(), sample_weight=weight
        ),
        "training_root_mean_squared_error": lambda: m.root_mean_squared_error(
            y, predicted(), sample_weight=weight
        ),
        "training_mean_absolute_error": lambda: m.mean_absolute_error(
            y, predicted(), sample_weight=weight
        ),
        "training_r2_score": lambda: m.r2_score(y, predicted(), sample_weight=weight),
        "training_score": lambda: _score(estimator, data),
    }


def _score(estimator: Any, data: FitData) -> Any:
    # Not every score() takes sample_weight; pass it only when the fit had one.
    if data.sample_weight is None:
        return estimator.score(data.X, data.y)
    return estimator.score(data.X, data.y, sample_weight=data.sample_weight)
