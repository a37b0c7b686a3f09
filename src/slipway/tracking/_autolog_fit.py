"""What one autologged fit records: params and tags before it, metrics, the best candidates of
a search and the model after it. Logging never breaks the user's fit: what fails is skipped and
reported in one warning."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from slipway.tracking import _fluent
from slipway.tracking._active_run import ActiveRun
from slipway.tracking._autolog_metrics import FitData, fit_inputs, training_metrics
from slipway.tracking._autolog_model import log_model_package
from slipway.tracking._autolog_params import clean_params, estimator_tags, log_params
from slipway.tracking._autolog_search import is_search, log_best, log_candidates

log = logging.getLogger("slipway.tracking")


@dataclass(frozen=True)
class Options:
    log_models: bool
    max_tuning_runs: int
    silent: bool


class _Report:
    """Collects what could not be logged during one fit, to warn once rather than per step."""

    def __init__(self, estimator: Any, silent: bool) -> None:
        self.name = type(estimator).__name__
        self.silent = silent
        self.problems: list[str] = []

    @contextmanager
    def guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            log.debug("autolog: could not log %s for %s", what, self.name, exc_info=True)
            self.problems.append(f"{what} ({type(exc).__name__}: {exc})")

    def emit(self) -> None:
        if self.problems and not self.silent:
            log.warning(
                "autolog could not record %s for %s; the fit itself was not affected",
                "; ".join(self.problems),
                self.name,
            )


def logged_fit(
    options: Options,
    original: Callable[..., Any],
    estimator: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Run the original `fit` and log it: to the active run, else to a run of its own."""
    report = _Report(estimator, options.silent)
    run, owned = _open_run(estimator, report)
    if run is not None:
        # Before the fit, so a failed run still shows what was tried.
        with report.guard("params"):
            log_params(run, clean_params(estimator.get_params(deep=True)))
        with report.guard("tags"):
            run.set_tags(estimator_tags(estimator))
    try:
        fitted = original(estimator, *args, **kwargs)
    except BaseException as exc:
        if run is not None and owned:
            with report.guard("the run's end"):
                run.end("killed" if isinstance(exc, KeyboardInterrupt) else "failed")
        report.emit()
        raise
    if run is not None:
        _log_after_fit(options, run, estimator, fit_inputs(original, args, kwargs), report)
        if owned:
            with report.guard("the run's end"):
                run.end("finished")
    report.emit()
    return fitted


def _open_run(estimator: Any, report: _Report) -> tuple[ActiveRun | None, bool]:
    """The run to log to, and whether this fit started it (and so must end it)."""
    with report.guard("a run"):
        active = _fluent.active_run()
        if active is not None:
            return active, False
        return _fluent.start_run(name=type(estimator).__name__), True
    return None, False


def _log_after_fit(
    options: Options, run: ActiveRun, estimator: Any, data: FitData, report: _Report
) -> None:
    with report.guard("metrics"):
        metrics = training_metrics(estimator, data)
        if metrics:
            run.log_metrics(metrics)
    search = is_search(estimator)
    if search:
        with report.guard("the best params"):
            log_best(run, estimator)
    if options.log_models:
        with report.guard("the model"):
            log_model_package(run, estimator)
    if search and options.max_tuning_runs:
        with report.guard("the tuning runs"):
            log_candidates(run, estimator, options.max_tuning_runs)
