"""The params and metrics every tool logs for run number `index`: deterministic, shared.

Standard library only; imported by both child scripts and by the search case (to know how many
runs its filter must match).
"""

from __future__ import annotations

import random

KEYS = 10
START_MS = 1_767_225_600_000  # 2026-01-01 UTC: run i starts at START_MS + i, in every process
FILTER = "metrics.m0 > 0.5 and params.p0 = '3'"  # about 1 run in 20 (m0 > 0.5: 1/2, p0: 1/10)


def run_values(index: int) -> tuple[dict[str, float], dict[str, str]]:
    """(metrics m0..m9 uniform in [0, 1), params p0..p9 digits "0".."9") for one run."""
    rng = random.Random(f"slipway-bench-{index}")  # a str seed: the same in every process
    metrics = {f"m{k}": rng.random() for k in range(KEYS)}
    params = {f"p{k}": str(rng.randrange(10)) for k in range(KEYS)}
    return metrics, params


def matches(index: int) -> bool:
    """Whether run `index` satisfies FILTER."""
    metrics, params = run_values(index)
    return metrics["m0"] > 0.5 and params["p0"] == "3"
