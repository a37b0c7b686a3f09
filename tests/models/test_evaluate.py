"""Evaluation metrics checked against values worked out by hand with numpy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from slipway.errors import InvalidInput
from slipway.models._scoring import Scorer, score_frame


def fixed(predictions: list[object], probabilities: list[list[float]] | None = None) -> Scorer:
    """A scorer that answers `predictions` for the full frame and their head for fewer rows."""

    def predict(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(predictions)[frame.index.to_numpy()]

    def proba(frame: pd.DataFrame) -> np.ndarray:
        assert probabilities is not None
        return np.asarray(probabilities)[frame.index.to_numpy()]

    return Scorer(predict, proba if probabilities else None, [0, 1] if probabilities else None)


def test_classification_metrics_match_their_definitions() -> None:
    truth = [1, 1, 1, 0, 0, 0, 0, 1]
    predicted = [1, 0, 1, 0, 0, 1, 0, 1]
    positive = [0.9, 0.4, 0.8, 0.2, 0.1, 0.6, 0.3, 0.7]
    frame = pd.DataFrame({"x": range(8), "label": truth, "country": list("aabbaabb")})
    result = score_frame(
        fixed(predicted, [[1 - p, p] for p in positive]),
        frame,
        target="label",
        task="classification",
        slices=["country"],
    )
    t, p = np.array(truth), np.array(predicted)
    tp, fp, fn = (
        ((t == 1) & (p == 1)).sum(),
        ((t == 0) & (p == 1)).sum(),
        ((t == 1) & (p == 0)).sum(),
    )
    tn = ((t == 0) & (p == 0)).sum()
    f1_pos = 2 * tp / (2 * tp + fp + fn)
    f1_neg = 2 * tn / (2 * tn + fn + fp)
    assert result.metrics["accuracy"] == pytest.approx((tp + tn) / 8)
    assert result.metrics["f1_macro"] == pytest.approx((f1_pos + f1_neg) / 2)
    assert result.metrics["precision_macro"] == pytest.approx((tp / (tp + fp) + tn / (tn + fn)) / 2)
    assert result.confusion_matrix == {"labels": [0, 1], "matrix": [[tn, fp], [fn, tp]]}
    # ROC AUC: the share of (positive, negative) pairs the scores order correctly.
    pos = [s for s, y in zip(positive, truth, strict=True) if y == 1]
    neg = [s for s, y in zip(positive, truth, strict=True) if y == 0]
    pairs = [(a > b) + 0.5 * (a == b) for a in pos for b in neg]
    assert result.metrics["roc_auc"] == pytest.approx(sum(pairs) / len(pairs))
    expected_loss = -np.mean(
        [np.log(s if y else 1 - s) for s, y in zip(positive, truth, strict=True)]
    )
    assert result.metrics["log_loss"] == pytest.approx(expected_loss)
    by_value = {s["value"]: s for s in result.slices}
    assert set(by_value) == {"a", "b"} and by_value["a"]["rows"] == 4
    in_a = frame["country"].to_numpy() == "a"
    assert by_value["a"]["metrics"]["accuracy"] == pytest.approx((t[in_a] == p[in_a]).mean())
    assert result.latency["single_row_p50_us"] > 0 and result.rows == 8


def test_regression_metrics_match_their_definitions() -> None:
    truth = np.array([3.0, -0.5, 2.0, 7.0, 4.2])
    predicted = np.array([2.5, 0.0, 2.0, 8.0, 4.0])
    frame = pd.DataFrame({"x": range(5), "y": truth})
    result = score_frame(fixed(list(predicted)), frame, target="y", task="regression")
    errors = truth - predicted
    assert result.metrics["rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)))
    assert result.metrics["mae"] == pytest.approx(np.mean(np.abs(errors)))
    r2 = 1 - np.sum(errors**2) / np.sum((truth - truth.mean()) ** 2)
    assert result.metrics["r2"] == pytest.approx(r2)
    assert result.confusion_matrix is None


def test_a_slice_with_one_class_has_no_auc_rather_than_a_wrong_one() -> None:
    frame = pd.DataFrame({"x": range(4), "label": [1, 1, 0, 0], "g": ["only-pos"] * 2 + ["n"] * 2})
    result = score_frame(
        fixed([1, 0, 0, 0], [[0.1, 0.9], [0.6, 0.4], [0.8, 0.2], [0.7, 0.3]]),
        frame,
        target="label",
        task="classification",
        slices=["g"],
    )
    assert result.metrics["roc_auc"] == pytest.approx(1.0)
    assert all(s["metrics"]["roc_auc"] is None for s in result.slices)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "nope", "task": "classification"}, "no column 'nope'"),
        ({"target": "label", "task": "ranking"}, "task must be one of"),
        ({"target": "label", "task": "classification", "slices": ["zz"]}, "no column 'zz'"),
    ],
)
def test_bad_requests_name_what_is_wrong(kwargs: dict[str, object], message: str) -> None:
    frame = pd.DataFrame({"x": [1, 2], "label": [0, 1]})
    with pytest.raises(InvalidInput, match=message):
        score_frame(fixed([0, 1]), frame, **kwargs)  # type: ignore[arg-type]
