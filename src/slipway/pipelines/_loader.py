"""Import a pipeline by reference (`module:attribute`), as the CLI, resume and the scheduler do."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from slipway.errors import InvalidInput
from slipway.pipelines._dsl import Pipeline


def load_pipeline(ref: str) -> Pipeline:
    """The `Pipeline` at `module:attribute`; modules are found from the current folder too."""
    module_name, sep, attribute = ref.partition(":")
    if not sep or not module_name or not attribute:
        raise InvalidInput(f"{ref!r} must read module:pipeline, e.g. flows.train:churn")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise InvalidInput(
                f"cannot import {module_name!r} (from {cwd}): run from the folder that holds it"
            ) from None
        raise
    target: object = module
    for part in attribute.split("."):
        target = getattr(target, part, None)
    if not isinstance(target, Pipeline):
        found = "nothing" if target is None else type(target).__name__
        raise InvalidInput(f"{ref} is {found}, not a @pipeline function")
    return target
