"""Pipelines the tests run. Module-level, so the process and Ray executors can import them.

Each step appends its name to the file $SLIPWAY_TEST_STEP_LOG when it really runs (a cache hit
does not run it), which is how the tests see which steps executed.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from slipway import Dataset, pipeline, step


def note(name: str) -> None:
    log = os.environ.get("SLIPWAY_TEST_STEP_LOG")
    if log:
        with Path(log).open("a") as out:
            out.write(f"{name}\n")


def executed(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def _scale(values: np.ndarray) -> np.ndarray:
    return (values - values.mean(axis=0)) / values.std(axis=0)


@step
def ingest(rows: int, seed: int = 0) -> pd.DataFrame:
    note("ingest")
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows)})
    frame["label"] = (frame["a"] + 0.5 * frame["b"] > 0).astype("int64")
    return frame


@step
def featurize(frame: pd.DataFrame) -> np.ndarray:
    note("featurize")
    return _scale(frame[["a", "b"]].to_numpy())


@step(packages=["scikit-learn"])
def train(features: np.ndarray, frame: pd.DataFrame, c: float = 1.0):
    from sklearn.linear_model import LogisticRegression

    note("train")
    return LogisticRegression(C=c).fit(features, frame["label"].to_numpy())


@step
def evaluate(model, features: np.ndarray, frame: pd.DataFrame) -> dict:
    note("evaluate")
    predicted = model.predict(features)
    return {
        "accuracy": float((predicted == frame["label"].to_numpy()).mean()),
        "coef": [round(float(v), 10) for v in model.coef_[0]],
    }


@pipeline
def churn(rows: int = 400, c: float = 1.0):
    frame = ingest(rows)
    features = featurize(frame)
    model = train(features, frame, c=c)
    evaluate(model, features, frame)


# -- datasets --------------------------------------------------------------------------------


@step
def load(source: Dataset) -> pd.DataFrame:
    note("load")
    return source.load_table().to_pandas()


@step
def summarize(frame: pd.DataFrame) -> dict:
    note("summarize")
    return {"rows": len(frame), "total": float(frame["value"].sum())}


@pipeline
def from_dataset(source: str = "numbers@latest"):
    summarize(load(source))


# -- failures ----------------------------------------------------------------------------------


@step(retries=2, retry_delay_s=0.01)
def flaky(attempts_file: str) -> int:
    """Fails on its first two calls (counted in a file, so any executor sees the count)."""
    path = Path(attempts_file)
    calls = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(calls))
    note("flaky")
    if calls <= 2:
        raise RuntimeError(f"flaky failure number {calls}")
    return calls


@step
def double(value: int) -> int:
    note("double")
    return value * 2


@pipeline
def retried(attempts_file: str):
    double(flaky(attempts_file))


@step(retries=1, retry_delay_s=0.01)
def broken(value: int) -> int:
    note("broken")
    raise ValueError(f"cannot use {value}")


@step
def independent(value: int) -> int:
    note("independent")
    return value + 1


@pipeline
def partly_broken():
    double(broken(1))
    independent(1)


@step(timeout_s=0.5)
def slow(seconds: float) -> float:
    note("slow")
    time.sleep(seconds)
    return seconds


@pipeline
def too_slow(seconds: float = 30.0):
    slow(seconds)


# -- resume ------------------------------------------------------------------------------------


@step
def first(value: int) -> int:
    note("first")
    return value + 1


@step
def second(value: int) -> int:
    note("second")
    return value * 10


@step(cache=False)
def gate(value: int) -> int:
    """Blocks while the file $SLIPWAY_TEST_GATE exists: where the test kills the driver."""
    note("gate")
    gate_file = os.environ.get("SLIPWAY_TEST_GATE")
    while gate_file and Path(gate_file).exists():
        time.sleep(0.05)
    return value + 3


@step
def last(value: int) -> int:
    note("last")
    return value - 1


@pipeline
def resumable(start: int = 1):
    last(gate(second(first(start))))
