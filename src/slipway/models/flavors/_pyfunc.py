"""The pyfunc flavor: a model written in Python, saved as code plus data, never pickled.

A package records the model's class by import path ("module:QualName"), the keyword arguments
that rebuild it (JSON values) and its artifact files. Loading imports that class and runs its
`__init__` and `load_context`: it runs the author's code by nature, so the loader must name the
class in `trusted_types` (as for skops types), or a crafted package could run anything.
"""

from __future__ import annotations

import abc
import importlib
import importlib.metadata
import json
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from slipway.errors import ConfigError, IntegrityError, InvalidInput

_ARTIFACT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_COPY_IGNORE = ("__pycache__", "*.pyc", ".git")


class PythonModel(abc.ABC):
    """Base class of a model written in Python: subclass it and define `predict`.

    Saving keeps three things: the class (by import path), `init_args()` (keyword arguments for
    `__init__`, JSON values that survive a round trip unchanged) and the files `artifact_files()`
    names. Loading calls `cls(**init_args)`, then `load_context` with the packaged copies of
    those files. Nothing else of the instance is saved: state built after `__init__` (fitted
    weights, a loaded model) belongs in an artifact that `load_context` reads back.

    The class must be importable where the model loads: from an installed package, or from
    the sources given as `save_package(..., code_paths=[...])`, not from a script's `__main__`.
    """

    def init_args(self) -> dict[str, Any]:
        """Keyword arguments that rebuild this model with `type(self)(**init_args)`."""
        return {}

    def artifact_files(self) -> dict[str, Path]:
        """Files or folders to copy into the package, by name (letters, digits, _ . -)."""
        return {}

    def load_context(self, artifacts: dict[str, Path]) -> None:  # noqa: B027 - optional hook
        """Read the artifacts back after `__init__`; `artifacts` maps names to packaged paths."""

    @abc.abstractmethod
    def predict(self, data: Any) -> Any:
        """Predict for `data`, already checked against the package's signature if it has one."""


class PyfuncFlavor:
    name = "pyfunc"

    def accepts(self, model: object) -> bool:
        if isinstance(model, PythonModel):
            return True
        module = type(model).__module__
        return (
            callable(getattr(model, "predict", None))
            and not isinstance(model, type)
            and module.partition(".")[0] not in ("sklearn", "builtins")
        )

    def requirements(self, model: object) -> list[str]:
        found = ["numpy", "pandas"]
        top = type(model).__module__.partition(".")[0]
        for dist in importlib.metadata.packages_distributions().get(top, []):
            if dist not in found and dist != "slipway":
                found.append(dist)
        return found

    def save(self, model: object, model_dir: Path) -> dict[str, Any]:
        cls = type(model)
        class_path = _class_path(cls)
        if not isinstance(model, PythonModel) and vars(model) and not hasattr(model, "init_args"):
            raise InvalidInput(
                f"{cls.__qualname__} holds state ({', '.join(sorted(vars(model))[:5])}) that the "
                "pyfunc flavor would not save; subclass slipway.models.flavors.PythonModel and "
                "keep it in init_args() or artifact_files()"
            )
        init_args = _init_args(model)
        artifacts = _copy_artifacts(model, model_dir)
        return {"class": class_path, "init_args": init_args, "artifacts": artifacts}

    def load(self, model_dir: Path, data: Mapping[str, Any], trusted_types: Sequence[str]) -> Any:
        class_path, init_args = trusted_class(model_dir, data, trusted_types, "pyfunc")
        cls = _import_class(class_path)
        model = cls(**init_args)
        artifacts = {
            name: _inside(model_dir, relative)
            for name, relative in dict(data.get("artifacts") or {}).items()
        }
        if hasattr(model, "load_context"):
            model.load_context(artifacts)
        if not callable(getattr(model, "predict", None)):
            raise InvalidInput(f"{class_path.replace(':', '.')} has no predict method")
        return model


def trusted_class(
    model_dir: Path, data: Mapping[str, Any], trusted_types: Sequence[str], flavor: str
) -> tuple[str, dict[str, Any]]:
    """The package's class path and init args, once the caller has trusted the class:
    rebuilding it runs that class's code (pyfunc models, torch modules from a state dict)."""
    class_path = data.get("class")
    if not isinstance(class_path, str) or ":" not in class_path:
        raise IntegrityError(f"{model_dir}: the package names no {flavor} class")
    dotted = class_path.replace(":", ".")
    if dotted not in trusted_types and class_path not in trusted_types:
        raise InvalidInput(
            f"this {flavor} model is the class {dotted}: loading it runs that class's code "
            "(imported from the package's code/ folder or the environment). If you trust "
            f"whoever saved this package, load it with trusted_types=[{dotted!r}]"
        )
    init_args = data.get("init_args") or {}
    if not isinstance(init_args, dict):
        raise IntegrityError(f"{model_dir}: the {flavor} init_args are not a mapping")
    return class_path, init_args


def _class_path(cls: type) -> str:
    """The "module:QualName" of a class another process can import; refuse one it cannot."""
    module, qualname = cls.__module__, cls.__qualname__
    fix = "define it at the top level of a module and pass code_paths=[that module's file]"
    if module == "__main__":
        raise InvalidInput(f"{qualname} is defined in the running script; {fix}")
    if "<locals>" in qualname:
        raise InvalidInput(f"{qualname} is defined inside a function; {fix}")
    try:
        found = _import_class(f"{module}:{qualname}")
    except ConfigError:
        found = None
    if found is not cls:
        raise InvalidInput(f"{module}.{qualname} does not import back as the same class; {fix}")
    return f"{module}:{qualname}"


def _import_class(class_path: str) -> type:
    module_name, _, qualname = class_path.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"cannot import {module_name}.{qualname} ({exc}); install the package that "
            "defines it, or save the model with code_paths naming its source"
        ) from None
    if not isinstance(found, type):
        raise ConfigError(f"{module_name}.{qualname} is not a class")
    return found


def _init_args(model: object) -> dict[str, Any]:
    method = getattr(model, "init_args", None)
    args = method() if callable(method) else {}
    if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
        raise InvalidInput(f"{type(model).__qualname__}.init_args() must return a dict by name")
    for key, value in args.items():
        try:
            same = json.loads(json.dumps(value, allow_nan=False)) == value
        except (TypeError, ValueError):
            same = False
        if not same:
            raise InvalidInput(
                f"init_args()[{key!r}] is a {type(value).__name__} that JSON does not keep as it "
                "is; give JSON values (str, int, float, bool, None, lists, dicts by str) "
                "or save it as an artifact"
            )
    return args


def _copy_artifacts(model: object, model_dir: Path) -> dict[str, str]:
    method = getattr(model, "artifact_files", None)
    files = method() if callable(method) else {}
    if not isinstance(files, Mapping):
        raise InvalidInput(f"{type(model).__qualname__}.artifact_files() must return a dict")
    copied: dict[str, str] = {}
    for name, source in files.items():
        if not isinstance(name, str) or not _ARTIFACT_NAME.fullmatch(name) or name == "..":
            raise InvalidInput(f"artifact name {name!r}: use letters, digits, _ . - only")
        source = Path(source)
        if not source.exists():
            raise InvalidInput(f"artifact {name!r}: {source} does not exist")
        target = model_dir / "artifacts" / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns(*_COPY_IGNORE))
        else:
            target.mkdir(parents=True)
            target = target / source.name
            shutil.copy2(source, target)
        copied[name] = target.relative_to(model_dir).as_posix()
    return copied


def _inside(model_dir: Path, relative: object) -> Path:
    if not isinstance(relative, str):
        raise IntegrityError(f"{model_dir}: an artifact path is not a string")
    path = (model_dir / relative).resolve()
    if not path.is_relative_to(model_dir.resolve()) or not path.exists():
        raise IntegrityError(f"{model_dir}: artifact {relative!r} is missing from the package")
    return path
