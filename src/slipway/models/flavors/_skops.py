"""Importing skops.io without the array-library adapters that scikit-learn's discovery drags in.

Why: `import skops.io` builds skops's default trusted types from
`sklearn.utils.all_estimators()`, whose `pkgutil.walk_packages` imports every sub-package of
scikit-learn to list it, the array-API adapters in `sklearn.externals.array_api_compat`
included; the torch adapter's `__init__` runs `import torch`. With torch installed that is 2-3 s
of a 4 s scikit-learn load, for a list that leaves `sklearn.externals` out anyway. No setting
of skops, scikit-learn or scipy avoids it, and every skops.io submodule goes through the same
`skops/io/__init__.py`.

So, while skops.io is first imported (and only on the importing thread), the adapters whose
library is not imported yet are declined with ModuleNotFoundError, which the walk skips as it
skips any adapter whose library is missing. skops's trusted types and checks are the same
either way (tests/models/test_skops_import.py); the adapters import normally afterwards,
should scikit-learn's array-API dispatch ask for one.

This is the one trick of the model flavors: `SLIPWAY_SKOPS_FULL_IMPORT=1` turns it off, and
the bench's `model_serve` case has a row that shows what it buys.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

FULL_IMPORT_VARIABLE = "SLIPWAY_SKOPS_FULL_IMPORT"
_ADAPTERS = "sklearn.externals.array_api_compat"
_LIBRARIES = ("torch", "cupy", "dask", "jax")  # the array libraries scikit-learn adapts
_lock = threading.Lock()


class _DeclineAdapters:
    """A meta path finder refusing the named modules to one thread; others pass through."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.thread = threading.get_ident()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname in self.names and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(
                f"{fullname} is skipped while skops lists scikit-learn's estimators",
                name=fullname,
            )
        return None  # not ours: the next finder looks


def import_skops_io() -> ModuleType:
    """`skops.io`, imported without scikit-learn's adapters for array libraries not yet
    imported (unless $SLIPWAY_SKOPS_FULL_IMPORT is 1)."""
    with _lock:
        if "skops.io" in sys.modules or os.environ.get(FULL_IMPORT_VARIABLE) == "1":
            return importlib.import_module("skops.io")
        names = {f"{_ADAPTERS}.{lib}" for lib in _LIBRARIES if lib not in sys.modules}
        finder = _DeclineAdapters(names)
        sys.meta_path.insert(0, finder)
        try:
            return importlib.import_module("skops.io")
        finally:
            sys.meta_path.remove(finder)
