"""Scoring a model on labelled data: quality overall and per slice, and latency per row.

`slipway.models.evaluate` feeds this a loaded version and keeps the scores with it.

Metrics come from scikit-learn's implementations (the definitions users already trust); the
model is called through its package, so its input is checked against its signature exactly
as in serving. Probabilities, where the model gives them, add ROC AUC and log loss.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from slipway.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd  # type: ignore[import-untyped]

Task = Literal["classification", "regression"]
TASKS = ("classification", "regression")
MAX_SLICE_VALUES = 50  # per slice column, the most frequent values; the rest are not scored
LATENCY_SAMPLES = 50  # single-row predictions timed for the per-row latency


@dataclass(frozen=True)
class Scorer:
    """How the evaluation calls a model: labels (or values), and class probabilities if any."""

    predict: Callable[[Any], Any]
    predict_proba: Callable[[Any], Any] | None = None
    classes: Sequence[Any] | None = None  # the columns of predict_proba
    inputs: Sequence[str] | None = None  # the model's input columns, when its signature says


@dataclass
class Scores:
    task: Task
    rows: int
    metrics: dict[str, float | None]
    confusion_matrix: dict[str, Any] | None = None  # {"labels": [...], "matrix": [[...]]}
    slices: list[dict[str, Any]] = field(default_factory=list)  # column, value, rows, metrics
    latency: dict[str, float] = field(default_factory=dict)  # microseconds


def score_frame(
    scorer: Scorer,
    frame: pd.DataFrame,
    *,
    target: str,
    task: str,
    slices: Sequence[str] = (),
) -> Scores:
    """Score `frame` (features plus the `target` column; slice columns may be either)."""
    import numpy as np

    if task not in TASKS:
        raise InvalidInput(f"task must be one of {', '.join(TASKS)}, not {task!r}")
    missing = [c for c in [target, *slices] if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"the data has no column {missing[0]!r}; it has {', '.join(map(str, frame.columns))}"
        )
    if len(frame) == 0:
        raise InvalidInput("the evaluation data has no rows")
    truth = frame[target].to_numpy()
    # A slice column that the model does not take is there only to group the rows.
    extra = [c for c in slices if scorer.inputs is not None and c not in scorer.inputs]
    features = frame.drop(columns=list(dict.fromkeys([target, *extra])))
    started = time.perf_counter()
    predicted = np.asarray(scorer.predict(features))
    batch_seconds = time.perf_counter() - started
    if predicted.shape[0] != len(frame):
        raise InvalidInput(
            f"the model returned {predicted.shape[0]} predictions for {len(frame)} rows"
        )
    if predicted.ndim > 1:
        predicted = predicted.reshape(len(frame), -1)[:, 0]
    probabilities = scorer.predict_proba(features) if scorer.predict_proba else None
    checked: Task = "classification" if task == "classification" else "regression"
    metrics, matrix = _metrics(checked, truth, predicted, probabilities, scorer.classes)
    result = Scores(checked, len(frame), metrics, matrix)
    for column in slices:
        result.slices += _slices(checked, frame, column, truth, predicted, probabilities, scorer)
    result.latency = _latency(scorer, features, batch_seconds)
    return result


def _metrics(
    task: Task,
    truth: np.ndarray,
    predicted: np.ndarray,
    probabilities: Any,
    classes: Sequence[Any] | None,
) -> tuple[dict[str, float | None], dict[str, Any] | None]:
    from sklearn import metrics as sk  # type: ignore[import-untyped]

    if task == "regression":
        try:
            truth_f, predicted_f = truth.astype(float), predicted.astype(float)
        except (TypeError, ValueError):
            raise InvalidInput("regression needs numeric targets and predictions") from None
        scores: dict[str, float | None] = {
            "rmse": math.sqrt(sk.mean_squared_error(truth_f, predicted_f)),
            "mae": float(sk.mean_absolute_error(truth_f, predicted_f)),
            "r2": float(sk.r2_score(truth_f, predicted_f)) if len(truth_f) > 1 else None,
        }
        return scores, None
    labels = sorted(set(truth.tolist()) | set(predicted.tolist()), key=str)
    scores = {"accuracy": float(sk.accuracy_score(truth, predicted))}
    for average in ("macro", "weighted"):
        precision, recall, f1, _ = sk.precision_recall_fscore_support(
            truth, predicted, labels=labels, average=average, zero_division=0
        )
        scores |= {
            f"precision_{average}": float(precision),
            f"recall_{average}": float(recall),
            f"f1_{average}": float(f1),
        }
    scores |= _probability_metrics(truth, probabilities, classes)
    with warnings.catch_warnings():  # one label (a slice, say) is a valid 1x1 matrix here
        warnings.simplefilter("ignore", UserWarning)
        matrix = sk.confusion_matrix(truth, predicted, labels=labels)
    return scores, {"labels": [_plain(v) for v in labels], "matrix": matrix.tolist()}


def _probability_metrics(
    truth: np.ndarray, probabilities: Any, classes: Sequence[Any] | None
) -> dict[str, float | None]:
    """ROC AUC and log loss, or None each where they are undefined (one class present)."""
    import numpy as np
    from sklearn import metrics as sk

    if probabilities is None or classes is None:
        return {"roc_auc": None, "log_loss": None}
    scores = np.asarray(probabilities, dtype=float)
    known = list(classes)
    if len(set(truth.tolist())) < 2 or any(t not in known for t in set(truth.tolist())):
        return {"roc_auc": None, "log_loss": None}
    if len(known) == 2:
        auc = sk.roc_auc_score(truth == known[1], scores[:, 1])
    else:
        auc = sk.roc_auc_score(truth, scores, multi_class="ovr", labels=known)
    return {"roc_auc": float(auc), "log_loss": float(sk.log_loss(truth, scores, labels=known))}


def _slices(
    task: Task,
    frame: pd.DataFrame,
    column: str,
    truth: np.ndarray,
    predicted: np.ndarray,
    probabilities: Any,
    scorer: Scorer,
) -> list[dict[str, Any]]:
    import numpy as np

    found = []
    values = frame[column].value_counts(dropna=False).index[:MAX_SLICE_VALUES]
    for value in values:
        mask = (frame[column].isna() if _is_null(value) else frame[column] == value).to_numpy()
        probs = np.asarray(probabilities)[mask] if probabilities is not None else None
        metrics, _ = _metrics(task, truth[mask], predicted[mask], probs, scorer.classes)
        found.append(
            {"column": column, "value": _plain(value), "rows": int(mask.sum()), "metrics": metrics}
        )
    return found


def _latency(scorer: Scorer, features: pd.DataFrame, batch_seconds: float) -> dict[str, float]:
    """Per row in one batch, and one row at a time (median and 95th percentile)."""
    import numpy as np

    singles = []
    for i in range(min(LATENCY_SAMPLES, len(features))):
        row = features.iloc[i : i + 1]
        started = time.perf_counter()
        scorer.predict(row)
        singles.append(time.perf_counter() - started)
    return {
        "batch_us_per_row": batch_seconds / len(features) * 1e6,
        "single_row_p50_us": float(np.percentile(singles, 50)) * 1e6,
        "single_row_p95_us": float(np.percentile(singles, 95)) * 1e6,
    }


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    """A JSON-safe scalar (numpy scalars become Python ones; NaN becomes None)."""
    if hasattr(value, "item"):
        value = value.item()
    return None if _is_null(value) else value
