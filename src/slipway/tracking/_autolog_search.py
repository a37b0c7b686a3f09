"""Hyperparameter searches: the best params and score, and the best candidates as child runs."""

from __future__ import annotations

import importlib
from typing import Any

from slipway.tracking import _fluent
from slipway.tracking._active_run import ActiveRun
from slipway.tracking._autolog_params import clean_params, log_params

SEARCHES = ("GridSearchCV", "RandomizedSearchCV")


def is_search(estimator: Any) -> bool:
    selection = importlib.import_module("sklearn.model_selection")
    return isinstance(estimator, tuple(getattr(selection, name) for name in SEARCHES))


def log_best(run: ActiveRun, search: Any) -> None:
    best = getattr(search, "best_params_", None)
    if best:
        log_params(run, clean_params({f"best_{key}": value for key, value in best.items()}))
    if hasattr(search, "best_score_"):
        run.log_metrics({"best_cv_score": float(search.best_score_)})


def log_candidates(parent: ActiveRun, search: Any, limit: int) -> None:
    """The `limit` best-ranked candidates as finished child runs of `parent`, best first."""
    name = type(search).__name__
    for index, (params, metrics) in enumerate(_top_candidates(search, limit)):
        child = _fluent.start_run(
            parent.info.project, f"{name} candidate {index + 1}", nested=True, capture=False
        )
        try:
            child.log_params(clean_params(params))
            child.log_metrics(metrics)
        except BaseException:
            child.end("failed")
            raise
        child.end("finished")


def _top_candidates(search: Any, limit: int) -> list[tuple[dict[str, Any], dict[str, float]]]:
    """(params, metrics) of the best-ranked candidates, best first."""
    results = search.cv_results_
    # Multi-metric searches rank by each scorer's name; the one refit used is the one to follow.
    if "rank_test_score" in results:
        scorer = "score"
    elif isinstance(search.refit, str):
        scorer = search.refit
    else:
        return []
    ranks = results[f"rank_test_{scorer}"]
    best = sorted(range(len(ranks)), key=lambda i: (ranks[i], i))[:limit]
    stats = [f"{stat}_test_{scorer}" for stat in ("mean", "std", "rank")]
    return [(results["params"][i], {s: float(results[s][i]) for s in stats}) for i in best]
