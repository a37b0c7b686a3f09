"""Autologging for scikit-learn: every outermost `fit` becomes a run, as MLflow's does.

`autolog()` replaces `fit` on scikit-learn's estimator classes with a wrapper that logs what
`_autolog_fit` says a fit logs, and `autolog(disable=True)` puts the originals back. Classes are
process-wide, so what was patched is too: one `_Patches` object, the only state autolog keeps.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FunctionType
from typing import Any

from slipway.errors import ConfigError, InvalidInput
from slipway.tracking._autolog_fit import Options, logged_fit
from slipway.tracking._autolog_search import SEARCHES

_MARK = "__slipway_autolog__"


class _Patches:
    """The `fit` functions autolog replaced, the options in force, and the fits in progress."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.originals: dict[type, Callable[..., Any]] = {}
        self.options: Options | None = None
        self.depth = 0

    def install(self, options: Options, classes: list[type]) -> None:
        with self.lock:
            self.options = options
            for owner in self._fit_owners(classes):
                original = vars(owner)["fit"]
                self.originals[owner] = original
                owner.fit = self._wrap(original)  # type: ignore[attr-defined]

    def restore(self) -> None:
        with self.lock:
            for owner, original in self.originals.items():
                # Someone may have wrapped our wrapper since; theirs stays, ours passes through.
                if hasattr(vars(owner).get("fit"), _MARK):
                    owner.fit = original  # type: ignore[attr-defined]
            self.originals.clear()
            self.options = None

    def _fit_owners(self, classes: list[type]) -> list[type]:
        """The classes that define the `fit` each class uses, not yet wrapped.

        Wrapping where `fit` is defined (often a base class) means one wrapper per function,
        and `disable` puts back exactly what was there instead of leaving attributes on
        subclasses.
        """
        owners: dict[type, None] = {}
        for cls in classes:
            owner = next((k for k in cls.__mro__ if "fit" in vars(k)), None)
            if owner is None or owner in self.originals:
                continue
            found = vars(owner)["fit"]
            if isinstance(found, FunctionType) and not hasattr(found, _MARK):
                owners[owner] = None
        return list(owners)

    def _wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)  # keeps the signature sklearn inspects for metadata routing
        def fit(estimator: Any, *args: Any, **kwargs: Any) -> Any:
            options = self.options
            with self._fit_scope() as outermost:
                if options is None or not outermost:
                    return original(estimator, *args, **kwargs)
                return logged_fit(options, original, estimator, args, kwargs)

        setattr(fit, _MARK, True)
        return fit

    @contextmanager
    def _fit_scope(self) -> Iterator[bool]:
        """Yield whether this is the outermost fit in progress in the process.

        Counted per process, not per thread: sklearn fits sub-estimators in joblib worker
        threads (IsolationForest, searches under the threading backend) and those are nested
        fits too. Two fits started at once in two user threads would share the client's active
        run anyway; here the second one simply is not logged.
        """
        with self.lock:
            self.depth += 1
            outermost = self.depth == 1
        try:
            yield outermost
        finally:
            with self.lock:
                self.depth -= 1


_patches = _Patches()


def autolog(
    *,
    disable: bool = False,
    log_models: bool = True,
    max_tuning_runs: int = 5,
    silent: bool = False,
) -> None:
    """Log every outermost scikit-learn `fit` to the active run, or to a new one named after it.

    Calling it again changes the options without wrapping twice; `disable=True` restores the
    original `fit` methods.
    """
    if disable:
        _patches.restore()
        return
    if isinstance(max_tuning_runs, bool) or not isinstance(max_tuning_runs, int):
        raise InvalidInput(f"max_tuning_runs must be a whole number, got {max_tuning_runs!r}")
    if max_tuning_runs < 0:
        raise InvalidInput(f"max_tuning_runs must be 0 or more, got {max_tuning_runs}")
    _patches.install(Options(log_models, max_tuning_runs, silent), _estimator_classes())


def _estimator_classes() -> list[type]:
    # Imported here, not at module level: `import slipway` must not pay for scikit-learn.
    try:
        utils = importlib.import_module("sklearn.utils")
    except ImportError:
        raise ConfigError("autolog needs scikit-learn: pip install scikit-learn") from None
    pipeline = importlib.import_module("sklearn.pipeline")
    selection = importlib.import_module("sklearn.model_selection")
    extra = [pipeline.Pipeline, *(getattr(selection, name) for name in SEARCHES)]
    return [cls for _, cls in utils.all_estimators()] + extra
