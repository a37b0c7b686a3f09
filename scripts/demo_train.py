"""Demo: train real models with tracking, then find the best run with the search language.

Runs inside the demo workspace (cwd); prints the id of the best run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import slipway as sw

# The project commands use when given none (read when the first client is made).
os.environ["SLIPWAY_PROJECT"] = "churn"
X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=7)

grid = [
    ("logreg", {"C": c}, make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000)))
    for c in (0.01, 0.1, 1.0)
] + [
    (
        "forest",
        {"n_estimators": n, "max_depth": d},
        RandomForestClassifier(n_estimators=n, max_depth=d, random_state=7),
    )
    for n, d in ((50, 4), (200, None))
]

for family, params, model in grid:
    label = "-".join(f"{k}={v}" for k, v in params.items())
    with sw.start_run(project="churn", name=f"{family}-{label}", tags={"family": family}) as run:
        run.log_params({**params, "features": X.shape[1], "train_rows": len(X_train)})
        model.fit(X_train, y_train)
        scores = model.predict_proba(X_test)[:, 1]
        predicted = (scores >= 0.5).astype(int)
        run.log_metrics(
            {
                "accuracy": accuracy_score(y_test, predicted),
                "precision": precision_score(y_test, predicted),
                "recall": recall_score(y_test, predicted),
                "f1": f1_score(y_test, predicted),
                "roc_auc": roc_auc_score(y_test, scores),
            }
        )
        # A learning curve: the metric history keeps every (step, time, value).
        for step, size in enumerate((50, 100, 200, len(X_train))):
            model.fit(X_train[:size], y_train[:size])
            run.log_metric("curve_accuracy", accuracy_score(y_test, model.predict(X_test)), step)
        run.log_dict({"threshold": 0.5, "test_size": 0.25}, "config.json")
        print(f"  {run.info.name:32} f1={f1_score(y_test, predicted):.4f}")

# Autologging: a plain scikit-learn fit becomes a run with params, training metrics and model,
# in the configured project (set at the top of this script).
sw.autolog()
autologged = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000))
autologged.fit(X_train, y_train)
sw.autolog(disable=True)
[auto] = sw.search_runs(project="churn", filter="tags.estimator_name = 'Pipeline'").runs
print(f"  autologged {auto.name}: training_f1_score={auto.metrics['training_f1_score']:.4f}")

best = sw.search_runs(project="churn", filter="metrics.f1 > 0.9", order_by=["metrics.f1 DESC"])
top = best.runs[0]
print(f"best run by f1: {top.name} ({top.id[:8]}) f1={top.metrics['f1']:.4f}")
print(f"its curve_accuracy history: {sw.get_metric_history(top.id, 'curve_accuracy')}")
Path(sys.argv[1]).write_text(top.id) if len(sys.argv) > 1 else None
