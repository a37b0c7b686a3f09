"""The model both tools package in the `model_serve` case: the same data, seed and estimator,
so that both children train the same forest (numpy and scikit-learn are the same versions in
both venvs; the children compare their predictions with the expected ones)."""

from __future__ import annotations

from typing import Any

FEATURES = 20
ROWS = 5_000
SEED = 11


def training_data(rows: int = ROWS) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(SEED)
    values = rng.normal(size=(rows, FEATURES))
    frame = pd.DataFrame(values, columns=[f"f{i:02d}" for i in range(FEATURES)])
    label = (values[:, 0] + 0.5 * values[:, 1] - values[:, 2] * values[:, 3] > 0).astype(int)
    return frame, label


def train() -> tuple[Any, Any]:
    """(a fitted scaler + random forest pipeline, its training frame)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame, label = training_data()
    forest = RandomForestClassifier(n_estimators=100, max_depth=8, random_state=SEED, n_jobs=1)
    return make_pipeline(StandardScaler(), forest).fit(frame, label), frame
