"""Timing of a loaded model's single-row predictions, shared by both model children."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _model_data import training_data

WARMUP = 20
EXPECTED = Path("expected.json")  # the trained model's labels for the first SAMPLE rows
SAMPLE = 200  # rows whose predictions are checked, and fed one by one to predict


def measure_loaded(load: Callable[[], Any], label: str, calls: int) -> dict[str, Any]:
    """Time `load()` (imports included: call it before importing the tool), check the loaded
    model's predictions, then time single-row predictions."""
    start = time.perf_counter()
    loaded = load()
    load_s = time.perf_counter() - start
    frame, _ = training_data()
    sample = frame.head(SAMPLE)
    predicted = [int(v) for v in loaded.predict(sample).reshape(-1)]
    if predicted != json.loads(EXPECTED.read_text()):
        raise SystemExit(f"{label} predicts differently from the trained model")
    rows = [sample.iloc[i : i + 1] for i in range(SAMPLE)]
    times = single_row_latency(loaded.predict, rows, calls)
    return {"load_s": load_s, "calls": calls, **summary(times)}


def single_row_latency(predict: Callable[[Any], Any], rows: list[Any], calls: int) -> list[float]:
    """Seconds per call of `predict` on one-row inputs, after a warm-up."""
    for i in range(WARMUP):
        predict(rows[i % len(rows)])
    times = []
    for i in range(calls):
        row = rows[i % len(rows)]
        start = time.perf_counter()
        predict(row)
        times.append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median_s": statistics.median(ordered),
        "p95_s": ordered[int(len(ordered) * 0.95) - 1],
    }
