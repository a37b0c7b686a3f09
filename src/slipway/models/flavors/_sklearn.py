"""The scikit-learn flavor: estimators and pipelines saved with skops, never with pickle.

skops stores an object as a schema plus arrays in a zip and rebuilds it type by type, refusing
types outside its trusted set: loading a file cannot run arbitrary code the way unpickling does.
Some scikit-learn types are outside that set too (the node arrays of `sklearn.tree._tree.Tree`,
behind every forest and gradient boosting model, are not bounds-checked by scikit-learn, so a
crafted file could crash the process at predict time); a caller who trusts the package's author
names such types in `trusted_types`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import logging
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from slipway.errors import ConfigError, IntegrityError, InvalidInput
from slipway.models.flavors._common import inside
from slipway.models.flavors._skops import import_skops_io

log = logging.getLogger("slipway.models")

_FILE = "model.skops"
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTOCOL_OPCODE = 0x80  # protocol 2+ pickles start with PROTO


class SklearnFlavor:
    name = "sklearn"

    def accepts(self, model: object) -> bool:
        # A scikit-learn estimator means scikit-learn is imported already: no import here.
        base = sys.modules.get("sklearn.base")
        return base is not None and isinstance(model, base.BaseEstimator)

    def requirements(self, model: object) -> list[str]:
        return ["scikit-learn", "skops", "numpy", "scipy", "pandas"]

    def save(self, model: object, model_dir: Path) -> dict[str, Any]:
        validation = importlib.import_module("sklearn.utils.validation")
        exceptions = importlib.import_module("sklearn.exceptions")
        try:
            validation.check_is_fitted(model)
        except exceptions.NotFittedError:
            raise InvalidInput(
                f"this {type(model).__name__} is not fitted; fit it before packaging it"
            ) from None
        skops_io = import_skops_io()
        path = model_dir / _FILE
        skops_io.dump(model, path)
        untrusted = sorted(skops_io.get_untrusted_types(file=path))
        local = [name for name in untrusted if name.startswith("__main__.")]
        if local:
            raise InvalidInput(
                f"{', '.join(local)} is defined in the running script, so no other process can "
                "import it; move it to a module of its own and pass code_paths=[that module]"
            )
        return {
            "file": _FILE,
            "serialization": "skops",
            "estimator": f"{type(model).__module__}.{type(model).__qualname__}",
            "sklearn_version": importlib.metadata.version("scikit-learn"),
            "skops_version": importlib.metadata.version("skops"),
            # Informative only: the loader checks the file itself, never this list.
            "untrusted_types": untrusted,
        }

    def load(self, model_dir: Path, data: Mapping[str, Any], trusted_types: Sequence[str]) -> Any:
        if data.get("serialization") != "skops":
            raise IntegrityError(
                f"{model_dir} declares serialization {data.get('serialization')!r}; the sklearn "
                "flavor reads only skops files (it never unpickles)"
            )
        path = inside(model_dir, data.get("file"))
        _check_is_skops(path)
        skops_io = import_skops_io()
        exceptions = importlib.import_module("skops.io.exceptions")
        try:
            # skops refuses any type outside its defaults and `trusted_types` before it builds
            # anything; the file is read once when it passes, twice only to explain a refusal.
            model = skops_io.load(path, trusted=list(trusted_types))
        except exceptions.UntrustedTypesFoundException:
            refused = sorted(set(skops_io.get_untrusted_types(file=path)) - set(trusted_types))
            raise InvalidInput(_untrusted_message(path, refused)) from None
        except ImportError as exc:
            raise ConfigError(
                f"cannot import a type {path} holds ({exc}); install its package, or save the "
                "model again with code_paths naming the module that defines it"
            ) from None
        except (zipfile.BadZipFile, KeyError, ValueError, TypeError, AttributeError) as exc:
            raise IntegrityError(f"cannot rebuild the model from {path}: {exc}") from None
        _warn_on_version_change(data)
        return model


def _check_is_skops(path: Path) -> None:
    """Refuse anything but a zip archive by its first bytes: never hand a pickle to a reader."""
    with path.open("rb") as file:
        head = file.read(len(_ZIP_MAGIC))
    if head == _ZIP_MAGIC:
        return
    if head[:1] == bytes([_PICKLE_PROTOCOL_OPCODE]):
        raise IntegrityError(
            f"{path} is a pickle, not a skops file. Slipway never unpickles: a pickle runs "
            "whatever code it names when loaded. Package the model again with Slipway "
            "(it writes skops), from a source you trust"
        )
    raise IntegrityError(f"{path} is not a skops file (it is not a zip archive)")


def _untrusted_message(path: Path, refused: Sequence[str]) -> str:
    reasons = cast(
        "Mapping[str, str]",
        getattr(importlib.import_module("skops.io.exceptions"), "UNTRUSTED_TYPE_REASONS", {}),
    )
    unchecked = [name for name in refused if name in reasons]
    note = (
        f" skops cannot check the content of {', '.join(unchecked)}: a crafted file can crash "
        "the process when the model predicts."
        if unchecked
        else ""
    )
    return (
        f"{path} holds types that are not trusted by default: {', '.join(refused)}. Loading "
        f"builds objects of these types, and skops vouches for none of them.{note} If you trust "
        f"whoever saved this package, load it with trusted_types={json.dumps(list(refused))}"
    )


def _warn_on_version_change(data: Mapping[str, Any]) -> None:
    saved = data.get("sklearn_version")
    installed = importlib.metadata.version("scikit-learn")
    if saved and saved != installed:
        log.warning(
            "the model was saved with scikit-learn %s and loads with %s: "
            "predictions may differ; pin scikit-learn==%s to be sure",
            saved,
            installed,
            saved,
        )
