"""Demo: training as a pipeline. The demo copies this file into its workspace as churn_flow.py
and runs `slipway pipeline run churn_flow:churn`; a second run finds every step cached.

Reads the versioned churn_train.csv and churn_holdout.csv (see demo_models.py), so the steps
that read them record those versions as their inputs, and registers the model it trains.
"""

from __future__ import annotations

import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import slipway as sw
from slipway import Dataset, pipeline, step

NUMERIC = ["tenure_months", "monthly_spend", "support_calls"]
CATEGORIES = ["plan", "country"]


@step
def ingest(source: Dataset) -> pd.DataFrame:
    return source.load_table().to_pandas()


@step
def featurize(frame: pd.DataFrame) -> pd.DataFrame:
    features = frame[NUMERIC + CATEGORIES + ["churned"]].copy()
    features["calls_per_year"] = features["support_calls"] / (features["tenure_months"] / 12)
    return features


@step(retries=2, resources={"cpus": 1, "memory_gb": 1}, packages=["scikit-learn"])
def train(features: pd.DataFrame, c: float = 1.0):  # noqa: ANN201
    columns = make_column_transformer(
        (StandardScaler(), [*NUMERIC, "calls_per_year"]), (OneHotEncoder(), CATEGORIES)
    )
    model = make_pipeline(columns, LogisticRegression(C=c, max_iter=500))
    return model.fit(features.drop(columns="churned"), features["churned"])


@step
def evaluate(model, holdout: Dataset) -> dict:  # noqa: ANN001
    frame = featurize.func(holdout.load_table().to_pandas())
    truth, inputs = frame["churned"], frame.drop(columns="churned")
    return {
        "f1_macro": float(f1_score(truth, model.predict(inputs), average="macro")),
        "roc_auc": float(roc_auc_score(truth, model.predict_proba(inputs)[:, 1])),
    }


@step
def register(model, metrics: dict) -> str:  # noqa: ANN001
    sw.log_metrics(metrics)
    version = sw.models.log_model(
        model, "churn-pipeline", description=f"f1 {metrics['f1_macro']:.3f}"
    )
    return f"{version.name}@v{version.version}"


@pipeline
def churn(
    train_data: str = "churn_train.csv@latest",
    holdout_data: str = "churn_holdout.csv@latest",
    c: float = 1.0,
) -> None:
    features = featurize(ingest(train_data))
    model = train(features, c=c)
    register(model, evaluate(model, holdout_data))
