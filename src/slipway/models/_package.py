"""Model packages: a folder with a model in its flavor's format and what loading it needs.

```
slipway-model.yaml   format version, flavor and its data, signature, versions, file list
model/               the flavor's files (model.skops; a pyfunc's artifacts/)
code/                sources given as code_paths, put on sys.path when the model loads
input_example.json   optional: {"columns": [...], "data": [[...], ...]}, at most 100 rows
requirements.txt     one requirement a line (pinned installed versions by default)
```

slipway-model.yaml is written last, so a folder without it is not (yet) a package.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import importlib.metadata
import json
import logging
import os
import platform
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slipway._version import __version__
from slipway.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound
from slipway.models._signature import Signature, as_frame, infer_outputs, infer_signature
from slipway.services.registry.schemas import PACKAGE_META_FILE

log = logging.getLogger("slipway.models")

FORMAT_VERSION = 1
META_FILE = PACKAGE_META_FILE
MODEL_DIR = "model"
CODE_DIR = "code"
EXAMPLE_FILE = "input_example.json"
REQUIREMENTS_FILE = "requirements.txt"
EXAMPLE_ROWS = 100  # an example documents the input; the training set does not belong here
_COPY_IGNORE = ("__pycache__", "*.pyc", ".git")


@dataclass(frozen=True)
class PackageFile:
    path: str  # relative, with "/"
    role: str  # model, artifact, code, input_example or requirements
    size: int


@dataclass(frozen=True)
class PackageMeta:
    """What slipway-model.yaml says."""

    flavor: str
    flavor_data: dict[str, Any]
    signature: Signature | None
    requirements: tuple[str, ...]
    python_version: str
    slipway_version: str
    created_at: dt.datetime
    files: tuple[PackageFile, ...]
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "flavor": self.flavor,
            "flavor_data": self.flavor_data,
            "signature": self.signature.to_dict() if self.signature else None,
            "python_version": self.python_version,
            "slipway_version": self.slipway_version,
            "requirements": list(self.requirements),
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "files": [dataclasses.asdict(f) for f in self.files],
        }

    @classmethod
    def from_dict(cls, raw: Any) -> PackageMeta:
        """Read slipway-model.yaml's content; InvalidInput naming what is wrong."""
        if not isinstance(raw, Mapping):
            raise InvalidInput("it is not a mapping")
        version = raw.get("format_version")
        if not isinstance(version, int) or version < 1:
            raise InvalidInput(f"format_version {version!r} is not a format version")
        if version > FORMAT_VERSION:
            raise InvalidInput(
                f"it is in format {version}, newer than this Slipway reads ({FORMAT_VERSION}); "
                "upgrade slipway"
            )
        flavor, data = raw.get("flavor"), raw.get("flavor_data")
        if not isinstance(flavor, str) or not isinstance(data, dict):
            raise InvalidInput("it names no flavor, or its flavor_data is not a mapping")
        requirements = raw.get("requirements") or []
        if not isinstance(requirements, list) or not all(isinstance(r, str) for r in requirements):
            raise InvalidInput("requirements is not a list of strings")
        created = raw.get("created_at")
        try:
            if not isinstance(created, dt.datetime):
                created = dt.datetime.fromisoformat(str(created))
            files = tuple(
                PackageFile(str(f["path"]), str(f["role"]), int(f["size"]))
                for f in raw.get("files") or []
            )
        except (TypeError, ValueError, KeyError) as exc:
            raise InvalidInput(f"created_at or files is malformed ({exc})") from None
        signature = raw.get("signature")
        return cls(
            flavor=flavor,
            flavor_data=data,
            signature=Signature.from_dict(signature) if signature is not None else None,
            requirements=tuple(requirements),
            python_version=str(raw.get("python_version", "")),
            slipway_version=str(raw.get("slipway_version", "")),
            created_at=created,
            files=files,
            format_version=version,
        )


class PackagedModel:
    """A loaded package: `predict` checks its input against the signature, then runs the model."""

    def __init__(self, folder: Path, meta: PackageMeta, model: Any) -> None:
        self.folder = folder
        self.meta = meta
        self.model = model  # what the flavor loaded: the estimator, the PythonModel instance

    @property
    def flavor(self) -> str:
        return self.meta.flavor

    @property
    def signature(self) -> Signature | None:
        return self.meta.signature

    def predict(self, data: Any) -> Any:
        """The model's prediction for `data`, returned as the model gives it.

        `data`: a pandas DataFrame, pyarrow Table, 2-D numpy array, list of records or one
        record (dict); checked and converted by the signature (InvalidInput naming the
        columns at fault). scikit-learn models return a numpy array; a pyfunc model returns
        whatever its predict does.
        """
        if self.signature is not None:
            return self.model.predict(self.signature.validate(data))
        np = importlib.import_module("numpy")
        return self.model.predict(data if isinstance(data, np.ndarray) else as_frame(data))

    def input_example(self) -> Any:
        """The stored example as the model receives it (DataFrame or array); None without one."""
        path = self.folder / EXAMPLE_FILE
        if not path.exists():
            return None
        stored = json.loads(path.read_text(encoding="utf-8"))
        records = [dict(zip(stored["columns"], row, strict=True)) for row in stored["data"]]
        if self.signature is None:
            return as_frame(records)
        return self.signature.validate(records)

    def __repr__(self) -> str:
        return f"PackagedModel(flavor={self.flavor!r}, folder={str(self.folder)!r})"


def save_package(
    model: Any,
    folder: Path,
    *,
    flavor: str | None = None,
    input_example: Any = None,
    signature: Signature | None = None,
    requirements: list[str] | None = None,
    code_paths: Sequence[Path] = (),
) -> PackageMeta:
    """Write `model` as a package into `folder` (absent or empty).

    Without `signature`, one is inferred from `input_example` (outputs from the model's
    prediction for the example's first rows); with both, the example must fit the signature.
    `code_paths`: files or folders copied under code/, importable where the model loads.
    """
    from slipway.models.flavors import detect_flavor, get_flavor

    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise AlreadyExists(f"{folder} is not empty; a package is written into an empty folder")
    name = flavor if flavor is not None else detect_flavor(model)
    chosen = get_flavor(name)
    if flavor is not None and not chosen.accepts(model):
        raise InvalidInput(
            f"the {name} flavor cannot package a {type(model).__qualname__}; "
            "leave flavor out to have it detected"
        )
    if signature is not None and not isinstance(signature, Signature):
        raise InvalidInput("signature must be a slipway.models Signature (see infer_signature)")
    example = None
    if input_example is not None:
        inferred = signature is None
        signature = signature or infer_signature(input_example)
        example = _head(signature.validate(input_example))
        if inferred:
            signature = _with_outputs(model, signature, example)
    pins = _pinned(chosen.requirements(model)) if requirements is None else _checked(requirements)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        (folder / MODEL_DIR).mkdir()
        flavor_data = chosen.save(model, folder / MODEL_DIR)
        _copy_code(code_paths, folder / CODE_DIR)
        if example is not None:
            (folder / EXAMPLE_FILE).write_text(_example_json(example), encoding="utf-8")
        (folder / REQUIREMENTS_FILE).write_text("".join(f"{r}\n" for r in pins), encoding="utf-8")
        meta = PackageMeta(
            flavor=name,
            flavor_data=flavor_data,
            signature=signature,
            requirements=tuple(pins),
            python_version=platform.python_version(),
            slipway_version=__version__,
            created_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
            files=_list_files(folder),
        )
        _write_meta(folder, meta)
    except BaseException:
        # The folder was empty or absent: leave it so, not half a package.
        _empty(folder, remove=created)
        raise
    return meta


def read_package_meta(folder: Path) -> PackageMeta:
    """The package's slipway-model.yaml, read without loading the model."""
    yaml = importlib.import_module("yaml")
    folder = Path(folder)
    if not folder.is_dir():
        raise NotFound(f"no model package at {folder}: no such folder")
    path = folder / META_FILE
    if not path.is_file():
        raise InvalidInput(
            f"{folder} is not a Slipway model package: it has no {META_FILE} "
            "(an interrupted save leaves none: save the model again)"
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return PackageMeta.from_dict(raw)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problem = str(exc).replace("\n", " ")
        raise InvalidInput(f"{path} is corrupted (not readable YAML: {problem})") from None
    except InvalidInput as exc:
        raise InvalidInput(f"{path} is not a valid package description: {exc.detail}") from None


def load_package(folder: Path, *, trusted_types: Sequence[str] = ()) -> PackagedModel:
    """Load the package in `folder`; `predict` on the result.

    Nothing in a package runs unless trusted: scikit-learn models load through skops, which
    refuses types outside its default trusted set unless `trusted_types` names them
    ("module.Class"); a pyfunc model runs its own code by nature, so its class must be named
    there too. A package's code/ folder is appended to sys.path for the life of the process
    (after installed packages, so it cannot shadow them); a module already imported is not
    imported again, so two packages whose code/ holds the same module share the first one.
    """
    from slipway.models.flavors import get_flavor

    if isinstance(trusted_types, str):
        trusted_types = [trusted_types]
    folder = Path(folder)
    meta = read_package_meta(folder)
    _check_files(folder, meta)
    chosen = get_flavor(meta.flavor)
    if meta.python_version.rsplit(".", 1)[0] != platform.python_version().rsplit(".", 1)[0]:
        log.warning(
            "%s was saved with Python %s and loads with %s",
            folder,
            meta.python_version,
            platform.python_version(),
        )
    code = folder / CODE_DIR
    if code.is_dir() and str(code) not in sys.path:
        sys.path.append(str(code))
        importlib.invalidate_caches()
    model = chosen.load(folder / MODEL_DIR, meta.flavor_data, tuple(trusted_types))
    return PackagedModel(folder, meta, model)


# -- helpers -------------------------------------------------------------------------------


def _head(validated: Any) -> Any:
    return validated.iloc[:EXAMPLE_ROWS] if hasattr(validated, "iloc") else validated[:EXAMPLE_ROWS]


def _with_outputs(model: Any, signature: Signature, example: Any) -> Signature:
    try:
        output = model.predict(example)
        return dataclasses.replace(signature, outputs=infer_outputs(output))
    except Exception as exc:  # outputs are informative: the package is sound without them
        log.warning("no output signature: predicting the input example failed (%s)", exc)
        return signature


def _pinned(names: Sequence[str]) -> list[str]:
    pins = []
    for name in names:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here, so the model cannot need it
    return pins


def _checked(requirements: Sequence[str]) -> list[str]:
    if isinstance(requirements, str) or not all(
        isinstance(r, str) and r.strip() and "\n" not in r for r in requirements
    ):
        raise InvalidInput("requirements must be a list of one-line strings, e.g. ['numpy>=2']")
    return [r.strip() for r in requirements]


def _copy_code(code_paths: Sequence[Path], target: Path) -> None:
    if isinstance(code_paths, str | Path):
        code_paths = [Path(code_paths)]
    for source in map(Path, code_paths):
        if not source.exists():
            raise InvalidInput(f"code path {source} does not exist")
        destination = target / source.name
        if destination.exists():
            raise InvalidInput(f"two code paths are named {source.name!r}; rename one")
        target.mkdir(exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination, ignore=shutil.ignore_patterns(*_COPY_IGNORE))
        else:
            shutil.copy2(source, destination)


def _example_json(example: Any) -> str:
    """The validated example as {"columns", "data"}; nulls as null, datetimes as ISO 8601."""
    frame = as_frame(example)
    pd = importlib.import_module("pandas")

    def plain(value: Any) -> Any:
        if value is None or (not isinstance(value, list | tuple) and pd.isna(value)):
            return None
        if isinstance(value, dt.date):
            return value.isoformat()
        return value.item() if hasattr(value, "item") else value

    rows = [[plain(v) for v in row] for row in frame.astype(object).itertuples(index=False)]
    return json.dumps({"columns": list(frame.columns), "data": rows}, ensure_ascii=False)


def _role(relative: Path) -> str:
    top = relative.parts[0]
    if top == MODEL_DIR:
        return "artifact" if relative.parts[1:2] == ("artifacts",) else "model"
    roles = {CODE_DIR: "code", EXAMPLE_FILE: "input_example", REQUIREMENTS_FILE: "requirements"}
    return roles.get(top, "other")


def _list_files(folder: Path) -> tuple[PackageFile, ...]:
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            relative = path.relative_to(folder)
            found.append(PackageFile(relative.as_posix(), _role(relative), path.stat().st_size))
    return tuple(found)


def _empty(folder: Path, *, remove: bool) -> None:
    if remove:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _write_meta(folder: Path, meta: PackageMeta) -> None:
    yaml = importlib.import_module("yaml")
    text = yaml.safe_dump(meta.to_dict(), sort_keys=False, allow_unicode=True)
    temporary = folder / f".{META_FILE}.tmp"
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, folder / META_FILE)  # present whole or not at all


def _check_files(folder: Path, meta: PackageMeta) -> None:
    root = folder.resolve()
    for entry in meta.files:
        path = (folder / entry.path).resolve()
        if not path.is_relative_to(root):
            raise IntegrityError(f"{folder}/{META_FILE} lists {entry.path!r}, outside the package")
        if not path.is_file():
            raise IntegrityError(f"{folder} is incomplete: {entry.path} is missing")
        if path.stat().st_size != entry.size:
            raise IntegrityError(
                f"{folder}: {entry.path} has changed since the package was saved "
                f"({path.stat().st_size} bytes, not {entry.size})"
            )
