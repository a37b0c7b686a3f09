"""Autologging for scikit-learn: every outermost `fit` becomes a run, as MLflow's does.

`autolog()` replaces `fit` on scikit-learn's estimator classes with a wrapper that logs the
estimator's params, training metrics, tags and the fitted model, and `autolog(disable=True)`
puts the originals back. Logging never breaks the user's fit: what fails is skipped and
reported in one warning.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import logging
import pickle
import platform
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FunctionType
from typing import Any

from slipway.errors import ConfigError, Conflict, InvalidInput
from slipway.services.runs.schemas import MAX_VALUE, check_key
from slipway.tracking import _fluent
from slipway.tracking._active_run import ActiveRun

log = logging.getLogger("slipway.tracking")

_MARK = "__slipway_autolog__"
_BAD_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-. /:]")
_SEARCHES = ("GridSearchCV", "RandomizedSearchCV")


@dataclass(frozen=True)
class _Settings:
    log_models: bool
    max_tuning_runs: int
    silent: bool


class _State:
    """What autolog changed. Classes are process-wide, so this is too (one instance)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.originals: dict[type, Callable[..., Any]] = {}
        self.settings: _Settings | None = None
        self.depth = 0


_state = _State()


def autolog(
    *,
    disable: bool = False,
    log_models: bool = True,
    max_tuning_runs: int = 5,
    silent: bool = False,
) -> None:
    """Log every outermost scikit-learn `fit` to the active run, or to a new one named after it.

    Calling it again changes the options without wrapping twice; `disable=True` restores the
    original `fit` methods. GridSearchCV/RandomizedSearchCV also log their best
    `max_tuning_runs` candidates as child runs.
    """
    if disable:
        _restore()
        return
    if isinstance(max_tuning_runs, bool) or not isinstance(max_tuning_runs, int):
        raise InvalidInput(f"max_tuning_runs must be a whole number, got {max_tuning_runs!r}")
    if max_tuning_runs < 0:
        raise InvalidInput(f"max_tuning_runs must be 0 or more, got {max_tuning_runs}")
    classes = _estimator_classes()
    with _state.lock:
        _state.settings = _Settings(log_models, max_tuning_runs, silent)
        for owner in _fit_owners(classes):
            original = vars(owner)["fit"]
            _state.originals[owner] = original
            owner.fit = _wrap(original)  # type: ignore[attr-defined]


def _estimator_classes() -> list[type]:
    # Imported here, not at module level: `import slipway` must not pay for scikit-learn.
    try:
        utils = importlib.import_module("sklearn.utils")
    except ImportError:
        raise ConfigError("autolog needs scikit-learn: pip install scikit-learn") from None
    pipeline = importlib.import_module("sklearn.pipeline")
    selection = importlib.import_module("sklearn.model_selection")
    extra = [pipeline.Pipeline, *(getattr(selection, name) for name in _SEARCHES)]
    return [cls for _, cls in utils.all_estimators()] + extra


def _fit_owners(classes: list[type]) -> list[type]:
    """The classes that define the `fit` each class uses, not yet wrapped.

    Wrapping where `fit` is defined (often a base class) means one wrapper per function, and
    `disable` puts back exactly what was there instead of leaving attributes on subclasses.
    """
    owners: dict[type, None] = {}
    for cls in classes:
        owner = next((k for k in cls.__mro__ if "fit" in vars(k)), None)
        if owner is None or owner in _state.originals:
            continue
        found = vars(owner)["fit"]
        if isinstance(found, FunctionType) and not hasattr(found, _MARK):
            owners[owner] = None
    return list(owners)


def _restore() -> None:
    with _state.lock:
        for owner, original in _state.originals.items():
            # Someone may have wrapped our wrapper since; theirs stays, and ours passes through.
            if hasattr(vars(owner).get("fit"), _MARK):
                owner.fit = original  # type: ignore[attr-defined]
        _state.originals.clear()
        _state.settings = None


def _wrap(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)  # keeps the signature sklearn inspects for metadata routing
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        settings = _state.settings
        with _fit_scope() as outermost:
            if settings is None or not outermost:
                return original(self, *args, **kwargs)
            return _logged_fit(settings, original, self, args, kwargs)

    setattr(fit, _MARK, True)
    return fit


@contextmanager
def _fit_scope() -> Iterator[bool]:
    """Yield whether this is the outermost fit in progress in the process.

    Counted per process, not per thread: sklearn fits sub-estimators in joblib worker threads
    (IsolationForest, searches under the threading backend) and those are nested fits too. The
    SDK's active-run stack is per process for the same reason, so two fits started at once in
    two user threads would share one run anyway; here the second one simply is not logged.
    """
    with _state.lock:
        _state.depth += 1
        outermost = _state.depth == 1
    try:
        yield outermost
    finally:
        with _state.lock:
            _state.depth -= 1


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


def _logged_fit(
    settings: _Settings,
    original: Callable[..., Any],
    estimator: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    report = _Report(estimator, settings.silent)
    run, owned = _open_run(estimator, report)
    if run is not None:
        # Before the fit, so a failed run still shows what was tried.
        with report.guard("params"):
            _log_params(run, _clean_params(estimator.get_params(deep=True)))
        with report.guard("tags"):
            run.set_tags(_estimator_tags(estimator))
    try:
        fitted = original(estimator, *args, **kwargs)
    except BaseException as exc:
        if run is not None and owned:
            with report.guard("the run's end"):
                run.end("killed" if isinstance(exc, KeyboardInterrupt) else "failed")
        report.emit()
        raise
    if run is not None:
        _log_after_fit(settings, run, estimator, _fit_inputs(original, args, kwargs), report)
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
    settings: _Settings, run: ActiveRun, estimator: Any, data: _FitData, report: _Report
) -> None:
    with report.guard("metrics"):
        metrics = _training_metrics(estimator, data)
        if metrics:
            run.log_metrics(metrics)
    search = _is_search(estimator)
    if search:
        with report.guard("the best params"):
            _log_best(run, estimator)
    if settings.log_models:
        with report.guard("the model"):
            _log_model(run, estimator)
    if search and settings.max_tuning_runs:
        with report.guard("the tuning runs"):
            _log_candidates(settings, run, estimator)


# -- params and tags ---------------------------------------------------------------------------


def _clean_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Params as the SDK takes them; a key that stays invalid or collides is left out."""
    cleaned: dict[str, str] = {}
    # Keys already valid go first, so they win over a sanitized key that lands on them.
    for raw in sorted(params, key=lambda k: _BAD_KEY_CHARS.search(str(k)) is not None):
        key = _BAD_KEY_CHARS.sub("_", str(raw))
        if key in cleaned or not _valid_key(key):
            log.debug("autolog: left out param %r (invalid or colliding key)", raw)
            continue
        try:
            cleaned[key] = str(params[raw])[:MAX_VALUE]
        except Exception:  # a user object whose __str__ fails must not fail the fit
            log.debug("autolog: left out param %r (value has no text form)", raw, exc_info=True)
    return cleaned


def _valid_key(key: str) -> bool:
    try:
        check_key(key)
    except ValueError:
        return False
    return True


def _log_params(run: ActiveRun, params: Mapping[str, str]) -> None:
    try:
        run.log_params(params)
    except Conflict:
        # A second fit in the same user run: params are immutable, so log the new keys and
        # keep the values already there.
        kept = []
        for key, value in params.items():
            try:
                run.log_params({key: value})
            except Conflict:
                kept.append(key)
        raise Conflict(
            f"the run already has other values for {', '.join(kept)}; kept those"
        ) from None


def _estimator_tags(estimator: Any) -> dict[str, str]:
    cls = type(estimator)
    return {"estimator_name": cls.__name__, "estimator_class": _dotted(cls)}


def _dotted(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# -- training metrics --------------------------------------------------------------------------


@dataclass(frozen=True)
class _FitData:
    X: Any
    y: Any
    sample_weight: Any


def _fit_inputs(fit: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> _FitData:
    """X, y and sample_weight as the fit received them, positionally or by name."""
    try:
        signature = inspect.signature(fit)
        bound = signature.bind(None, *args, **kwargs).arguments
    except (TypeError, ValueError):
        return _FitData(args[0] if args else kwargs.get("X"), None, None)
    values = dict(bound)
    for param in signature.parameters.values():
        if param.kind is inspect.Parameter.VAR_KEYWORD:  # fit(X, y, **fit_params)
            values.update(values.pop(param.name, {}))
    names = list(signature.parameters)[1:]
    x = values.get(names[0]) if names else None
    y = values["y"] if "y" in values else values.get("Y")
    return _FitData(x, y, values.get("sample_weight"))


Metric = Callable[[], Any]


def _training_metrics(estimator: Any, data: _FitData) -> dict[str, float]:
    """Metrics on the training data; one that cannot be computed is skipped."""
    base = importlib.import_module("sklearn.base")
    if data.X is None:
        return {}
    supervised = data.y is not None
    if supervised and base.is_classifier(estimator):
        metrics = _classifier_metrics(estimator, data)
    elif supervised and base.is_regressor(estimator):
        metrics = _regressor_metrics(estimator, data)
    elif base.is_clusterer(estimator) and hasattr(estimator, "score"):
        metrics = {"training_score": lambda: _score(estimator, data)}
    else:
        return {}
    values: dict[str, float] = {}
    for name, compute in metrics.items():
        try:
            values[name] = float(compute())
        except Exception:
            log.debug("autolog: skipped %s for %s", name, type(estimator).__name__, exc_info=True)
    return values


def _classifier_metrics(estimator: Any, data: _FitData) -> dict[str, Metric]:
    m = importlib.import_module("sklearn.metrics")
    y, weight = data.y, data.sample_weight
    predicted = functools.cache(lambda: estimator.predict(data.X))
    # zero_division=0 keeps a class never predicted from raising warnings in the user's output.
    averaged = {"average": "weighted", "zero_division": 0, "sample_weight": weight}
    metrics: dict[str, Metric] = {
        "training_accuracy_score": lambda: m.accuracy_score(y, predicted(), sample_weight=weight),
        "training_precision_score": lambda: m.precision_score(y, predicted(), **averaged),
        "training_recall_score": lambda: m.recall_score(y, predicted(), **averaged),
        "training_f1_score": lambda: m.f1_score(y, predicted(), **averaged),
    }
    if hasattr(estimator, "predict_proba"):
        proba = functools.cache(lambda: estimator.predict_proba(data.X))
        labels = estimator.classes_
        metrics["training_log_loss"] = lambda: m.log_loss(
            y, proba(), labels=labels, sample_weight=weight
        )
        metrics["training_roc_auc"] = lambda: _roc_auc(m, y, proba(), labels, weight)
    metrics["training_score"] = lambda: _score(estimator, data)
    return metrics


def _roc_auc(m: Any, y: Any, proba: Any, labels: Any, weight: Any) -> Any:
    if len(labels) == 2:
        return m.roc_auc_score(y, proba[:, 1], sample_weight=weight)
    return m.roc_auc_score(y, proba, multi_class="ovr", labels=labels, sample_weight=weight)


def _regressor_metrics(estimator: Any, data: _FitData) -> dict[str, Metric]:
    m = importlib.import_module("sklearn.metrics")
    y, weight = data.y, data.sample_weight
    predicted = functools.cache(lambda: estimator.predict(data.X))
    return {
        "training_mean_squared_error": lambda: m.mean_squared_error(
            y, predicted(), sample_weight=weight
        ),
        "training_root_mean_squared_error": lambda: m.root_mean_squared_error(
            y, predicted(), sample_weight=weight
        ),
        "training_mean_absolute_error": lambda: m.mean_absolute_error(
            y, predicted(), sample_weight=weight
        ),
        "training_r2_score": lambda: m.r2_score(y, predicted(), sample_weight=weight),
        "training_score": lambda: _score(estimator, data),
    }


def _score(estimator: Any, data: _FitData) -> Any:
    # Not every score() takes sample_weight; pass it only when the fit had one.
    if data.sample_weight is None:
        return estimator.score(data.X, data.y)
    return estimator.score(data.X, data.y, sample_weight=data.sample_weight)


# -- hyperparameter searches -------------------------------------------------------------------


def _is_search(estimator: Any) -> bool:
    selection = importlib.import_module("sklearn.model_selection")
    return isinstance(estimator, tuple(getattr(selection, name) for name in _SEARCHES))


def _log_best(run: ActiveRun, search: Any) -> None:
    best = getattr(search, "best_params_", None)
    if best:
        _log_params(run, _clean_params({f"best_{key}": value for key, value in best.items()}))
    if hasattr(search, "best_score_"):
        run.log_metrics({"best_cv_score": float(search.best_score_)})


def _log_candidates(settings: _Settings, parent: ActiveRun, search: Any) -> None:
    name = type(search).__name__
    for index, (params, metrics) in enumerate(_top_candidates(search, settings.max_tuning_runs)):
        child = _fluent.start_run(
            parent.info.project, f"{name} candidate {index + 1}", nested=True, capture=False
        )
        try:
            child.log_params(_clean_params(params))
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


# -- the model ---------------------------------------------------------------------------------


def _log_model(run: ActiveRun, estimator: Any) -> None:
    """Store the fitted estimator as the artifact folder `model/`: model file + model.json."""
    with tempfile.TemporaryDirectory(prefix="slipway-autolog-") as tmp:
        folder = Path(tmp) / "model"
        folder.mkdir()
        filename = _save_model(estimator, folder)
        meta = _model_meta(estimator, filename)
        (folder / "model.json").write_text(json.dumps(meta, indent=2) + "\n")
        run.log_artifact(folder, "model")
    # Readers must know a pickle is there: loading one runs code, so it needs an opt-in.
    run.set_tags({"slipway.model.format": meta["format"]})


def _save_model(estimator: Any, folder: Path) -> str:
    """Save as skops (loads without running code) when installed, else pickle; the file name."""
    try:
        skops_io = importlib.import_module("skops.io")
    except ImportError:
        skops_io = None
    if skops_io is not None:
        target = folder / "model.skops"
        try:
            skops_io.dump(estimator, target)
            return target.name
        except Exception:
            log.debug("autolog: skops could not save the model; using pickle", exc_info=True)
            target.unlink(missing_ok=True)
    target = folder / "model.pkl"
    with target.open("wb") as out:
        pickle.dump(estimator, out, protocol=pickle.HIGHEST_PROTOCOL)
    return target.name


def _model_meta(estimator: Any, filename: str) -> dict[str, Any]:
    sklearn = importlib.import_module("sklearn")
    names = getattr(estimator, "feature_names_in_", None)
    count = getattr(estimator, "n_features_in_", None)
    return {
        "flavor": "sklearn",
        "format": "skops" if filename.endswith(".skops") else "pickle",
        "file": filename,
        "estimator_class": _dotted(type(estimator)),
        "sklearn_version": sklearn.__version__,
        "python_version": platform.python_version(),
        "n_features_in": int(count) if count is not None else None,
        "feature_names_in": [str(n) for n in names] if names is not None else None,
    }
