"""What several flavors need: the package's files, the distributions to pin, version warnings."""

from __future__ import annotations

import importlib.metadata
import logging
from pathlib import Path

from slipway.errors import IntegrityError

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


def inside(model_dir: Path, name: object) -> Path:
    """`model_dir / name`, refusing a name that would reach outside the package."""
    if not isinstance(name, str) or not name:
        raise IntegrityError(f"{model_dir}: the package names no model file")
    path = (model_dir / name).resolve()
    if not path.is_relative_to(model_dir.resolve()):
        raise IntegrityError(f"{model_dir}: the model file {name!r} lies outside the package")
    if not path.is_file():
        raise IntegrityError(f"{model_dir}: the model file {name!r} is missing")
    return path
