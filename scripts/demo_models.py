"""Demo: the model registry. Version training and holdout data, train two models in runs that
read those versions, register them, evaluate them and write the gates file.

    python demo_models.py data        # churn_train.csv + churn_holdout.csv, versioned
    python demo_models.py train KIND  # KIND: logreg or forest; registers the next version

Runs inside the demo workspace (cwd).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import slipway as sw

FEATURES = ["tenure_months", "monthly_spend", "support_calls", "plan", "country"]
GATES = """\
models:
  churn:
    alias: champion
    evaluation_data: churn_holdout.csv@v1
    min_metrics: {f1_macro: 0.70, roc_auc: 0.80}
    max_regression: {f1_macro: 0.01}
    max_latency_us: {single_row_p50_us: 50000}
    data_checks: {no_pii: true, schema_unchanged: true}
    approvals: {required: 1}
"""


def customers(rows: int, seed: int) -> pd.DataFrame:
    """Churn that depends on tenure, support calls and plan (with noise), so models can learn."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure_months": rng.integers(1, 72, rows),
            "monthly_spend": rng.normal(60.0, 18.0, rows).round(2),
            "support_calls": rng.poisson(1.5, rows),
            "plan": rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2]),
            "country": rng.choice(["DE", "FR", "NL", "PL"], rows),
        }
    )
    risk = (
        -0.06 * frame["tenure_months"]
        + 0.8 * frame["support_calls"]
        + np.where(frame["plan"] == "basic", 0.9, -0.4)
        + 0.5 * (frame["tenure_months"] < 6)
        + rng.normal(0, 0.6, rows)
    )
    frame["churned"] = (risk > 0.4).astype(int)
    return frame


def data() -> None:
    customers(4000, seed=1).to_csv("churn_train.csv", index=False)
    customers(1500, seed=2).to_csv("churn_holdout.csv", index=False)
    for path in ("churn_train.csv", "churn_holdout.csv"):
        print(f"  {sw.data.add(path, project='churn').ref}")
    Path("slipway.gates.yaml").write_text(GATES)
    print("  wrote slipway.gates.yaml:\n" + GATES)


def train(kind: str) -> None:
    encode = make_column_transformer(
        (StandardScaler(), ["tenure_months", "monthly_spend", "support_calls"]),
        (OneHotEncoder(handle_unknown="ignore"), ["plan", "country"]),
    )
    estimator = (
        LogisticRegression(C=0.05, max_iter=1000)
        if kind == "logreg"
        else RandomForestClassifier(n_estimators=200, max_depth=8, random_state=7)
    )
    model = make_pipeline(encode, estimator)
    with sw.start_run(project="churn", name=f"registry-{kind}") as run:
        table = sw.data.load_table("churn_train.csv@v1", project="churn").to_pandas()
        run.log_params({"kind": kind, "rows": len(table)})
        model.fit(table[FEATURES], table["churned"])
        version = sw.models.log_model(
            model,
            "churn",
            input_example=table[FEATURES].head(5),
            datasets=["churn_train.csv@v1"],
            description=f"{kind} on churn_train v1",
        )
    result = sw.models.evaluate(
        version.ref,
        "churn_holdout.csv@v1",
        target="churned",
        task="classification",
        slices=["country"],
        project="churn",
    )
    metrics = {k: round(v, 4) for k, v in result.metrics.items() if v is not None}
    print(f"  {version.ref} ({version.flavor}) from run {run.id[:8]}; holdout: {metrics}")


if __name__ == "__main__":
    if sys.argv[1] == "data":
        data()
    else:
        train(sys.argv[2])
