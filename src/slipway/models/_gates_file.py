"""Reading `slipway.gates.yaml`: strictly, with errors that name the file, line and key.

The file (format in `slipway.services.registry.gates`) is committed with the code, so a pull request
that changes a model's gates shows in review like any other change. Unknown keys, misspelt
metric names, duplicate keys and values of the wrong type are refused rather than ignored:
a gate that silently checks nothing is worse than none.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from slipway.errors import InvalidInput
from slipway.refs import check_name
from slipway.services.registry.gates import GatePolicy

GATES_FILENAME = "slipway.gates.yaml"
_TOP_LEVEL = ("version", "defaults", "models")
_MAX_ERRORS = 10

Lines = dict[tuple[Any, ...], int]


@dataclass(frozen=True)
class GatesFile:
    path: Path
    models: Mapping[str, GatePolicy]
    digest: str  # sha256 of the file's bytes: which policy a report was checked against

    @property
    def source(self) -> str:
        return f"{self.path.name} sha256:{self.digest[:12]}"

    def policy(self, model: str) -> GatePolicy:
        found = self.models.get(model)
        if found is None:
            listed = ", ".join(sorted(self.models)) or "none"
            raise InvalidInput(
                f"{self.path} has no section for model {model!r} (it has: {listed}); "
                f"add one under models:"
            )
        return found


def find_gates_file(start: Path, fallback: Path | None = None) -> Path:
    """The nearest slipway.gates.yaml from `start` upwards, else `fallback`'s (the workspace's
    folder)."""
    for folder in (start.absolute(), *start.absolute().parents):
        if (folder / GATES_FILENAME).is_file():
            return folder / GATES_FILENAME
    if fallback is not None and (fallback / GATES_FILENAME).is_file():
        return fallback / GATES_FILENAME
    raise InvalidInput(
        f"no {GATES_FILENAME} in {start.absolute()} or the folders above it; write one "
        "(one section per model under `models:`) or pass the file (--gates FILE)"
    )


def load_gates_file(path: Path) -> GatesFile:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such gates file") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read it: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not UTF-8 text") from None
    return GatesFile(path, parse_gates(text, str(path)), hashlib.sha256(data).hexdigest())


def parse_gates(text: str, source: str = GATES_FILENAME) -> dict[str, GatePolicy]:
    """Each model's policy, its section merged over `defaults` (key by key, top level)."""
    raw, lines = _load(text, source)

    def fail(path: tuple[Any, ...], message: str) -> InvalidInput:
        return InvalidInput(f"{_where(source, lines, path)}: {message}")

    if not isinstance(raw, dict):
        raise fail((), "expected a mapping with a `models:` section")
    for key in raw:
        if key not in _TOP_LEVEL:
            raise fail((key,), f"unknown key {key!r}; the top level takes {', '.join(_TOP_LEVEL)}")
    if raw.get("version", 1) != 1 or isinstance(raw.get("version"), bool):
        raise fail(("version",), f"unknown format version {raw['version']!r}; this Slipway reads 1")
    models, defaults = raw.get("models"), raw.get("defaults") or {}
    if not isinstance(models, dict) or not models:
        raise fail(
            ("models",) if "models" in raw else (), "`models:` must map model names to gates"
        )
    if not isinstance(defaults, dict):
        raise fail(("defaults",), "`defaults:` must be a mapping of rules")
    errors: list[str] = []
    try:
        GatePolicy.model_validate(defaults, context={"partial": True})
    except ValidationError as exc:
        errors += _describe(exc, source, lines, ("defaults",))
    policies: dict[str, GatePolicy] = {}
    for name, section in models.items():
        try:
            check_name(str(name))
        except ValueError as exc:
            errors.append(f"{_where(source, lines, ('models', name))}: model: {exc}")
            continue
        if not isinstance(section, dict):
            errors.append(f"{_where(source, lines, ('models', name))}: expected a mapping of rules")
            continue
        try:
            policies[str(name)] = GatePolicy.model_validate({**defaults, **section})
        except ValidationError as exc:
            # A key the section does not set came from `defaults`: point there.
            errors += _describe(
                exc, source, lines, ("models", name), inherited=set(defaults) - set(section)
            )
    if errors:
        # By line, once each: a bad default is reported once, not once per model.
        errors = sorted(dict.fromkeys(errors), key=_line_of)
        shown = errors[:_MAX_ERRORS]
        more = len(errors) - len(shown)
        tail = [f"... and {more} more"] if more else []
        raise InvalidInput("invalid gates file:\n  " + "\n  ".join([*shown, *tail]))
    return policies


def _load(text: str, source: str) -> tuple[Any, Lines]:
    """The document, and the line (1-based) of each key path in it."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: Lines = {}
        if node is not None:
            _lines(loader, node, (), lines, source)
        return (loader.construct_document(node) if node is not None else None), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise InvalidInput(f"{where}: not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()


def _lines(
    loader: yaml.SafeLoader, node: yaml.Node, path: tuple[Any, ...], lines: Lines, source: str
) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str | int | float | bool):
                raise InvalidInput(f"{source}:{line}: a key must be a plain name")
            if key in seen:
                raise InvalidInput(
                    f"{source}:{line}: {_dotted((*path, key))} appears twice (first on line "
                    f"{seen[key]}); YAML would silently keep only the last one"
                )
            seen[key] = line
            _lines(loader, value_node, (*path, key), lines, source)
            lines[(*path, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(loader, item, (*path, i), lines, source)


def _describe(
    exc: ValidationError,
    source: str,
    lines: Lines,
    prefix: tuple[Any, ...],
    inherited: set[Any] | None = None,
) -> list[str]:
    found = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if p != "[key]")
        base = ("defaults",) if inherited and loc and loc[0] in inherited else prefix
        path = (*base, *loc)
        message = str(err["msg"]).removeprefix("Value error, ")
        given = err.get("input")
        if err["type"].endswith(("_type", "_parsing")) and isinstance(given, str | int | float):
            message += f" (got {given!r})"
        if err["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}" + _allowed(loc)
        found.append(f"{_where(source, lines, path)}: {_dotted(path)}: {message}")
    return found


def _allowed(loc: tuple[Any, ...]) -> str:
    """What the mapping holding an unknown key takes, as a hint."""
    from slipway.services.registry.gates import ApprovalRule, DataChecks

    sections: dict[str, Any] = {"data_checks": DataChecks, "approvals": ApprovalRule}
    owner = sections.get(str(loc[-2])) if len(loc) > 1 else GatePolicy
    if owner is None:
        return ""
    close = difflib.get_close_matches(str(loc[-1]), list(owner.model_fields), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{hint}; it takes {', '.join(owner.model_fields)}"


def _line_of(error: str) -> int:
    where = error.split(": ", 1)[0]
    line = where.rsplit(":", 1)[-1]
    return int(line) if line.isdigit() else 0


def _where(source: str, lines: Lines, path: tuple[Any, ...]) -> str:
    """`source:LINE` of the deepest part of `path` that the file has."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return f"{source}:{lines[path[:end]]}"
    return source


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path) or "(top level)"
