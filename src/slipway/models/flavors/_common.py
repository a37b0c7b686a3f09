"""What several flavors need: the package's files, the distributions to pin, version warnings."""

from __future__ import annotations

import importlib.metadata
import logging

from slipway.models.flavors._sklearn import _inside as inside

__all__ = ["distributions", "inside", "not_fitted", "warn_on_version_change"]

log = logging.getLogger("slipway.models")


def distributions(module: str) -> list[str]:
    """The installed distributions that provide `module`, so a package pins what this
    environment has (xgboost installs as xgboost or xgboost-cpu, both imported as xgboost)."""
    found = importlib.metadata.packages_distributions().get(module, [])
    return sorted(set(found)) or [module]


def not_fitted(model: object) -> bool:
    """Whether a scikit-learn-style wrapper says it is not fitted (its own check, no import)."""
    check = getattr(model, "__sklearn_is_fitted__", None)
    return callable(check) and not check()


def warn_on_version_change(library: str, installed: str, saved: object) -> None:
    if saved and saved != installed:
        log.warning(
            "the model was saved with %s %s and loads with %s: predictions may differ; "
            "pin %s==%s to be sure",
            library,
            saved,
            installed,
            library,
            saved,
        )
