"""Names and references: the one place that says what `churn`, `train@v3` and `churn@champion`
mean. Plain regular expressions, so that anything may check a name before a heavy import.

Projects, datasets and models share one name rule. A dataset reference reads NAME (its newest
version), NAME@latest (the same), NAME@vN or NAME@N. A model reference also accepts an alias,
NAME@ALIAS; alias names therefore never look like a version.
"""

from __future__ import annotations

import re

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
NAME_RULE = "1-128 characters: letters, digits, '.', '_', '-', starting with a letter or digit"
ALIAS_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
ALIAS_RULE = "1-64 characters: letters, digits, '.', '_', '-', starting with a letter or digit"

_NAME = re.compile(NAME_PATTERN)
_ALIAS = re.compile(ALIAS_PATTERN)
_LOOKS_LIKE_VERSION = re.compile(r"^(?:[vV]?[0-9]+|[lL][aA][tT][eE][sS][tT])$")
_VERSION = re.compile(r"^v?([0-9]+)$")
_REF = re.compile(r"^(?P<name>[^@\s]+)(?:@(?P<tail>[^@\s]+))?$")


def check_name(value: str) -> str:
    """`value` if it can name a project, dataset or model; ValueError saying why not."""
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(f"invalid name {value!r}: {NAME_RULE}")
    return value


def check_alias(name: str) -> str:
    """`name` if it can be an alias; ValueError saying why not."""
    if not isinstance(name, str) or not _ALIAS.match(name):
        raise ValueError(f"invalid alias {name!r}: {ALIAS_RULE}")
    if _LOOKS_LIKE_VERSION.match(name):
        raise ValueError(
            f"invalid alias {name!r}: MODEL@{name} would read as a version; "
            "use a word such as 'production' or 'champion'"
        )
    return name


def parse_dataset_ref(ref: str) -> tuple[str, int | None]:
    """`train@v3` -> ("train", 3); `train` or `train@latest` -> ("train", None)."""
    name, tail = _split(ref, "a dataset reference: use NAME, NAME@vN or NAME@latest")
    if tail is None or tail == "latest":
        return name, None
    number = _VERSION.match(tail)
    if number is None:
        raise ValueError(f"{ref!r} is not a dataset reference: use NAME, NAME@vN or NAME@latest")
    return name, _version(ref, number[1])


def parse_model_ref(ref: str) -> tuple[str, int | None, str | None]:
    """`churn@v3` -> ("churn", 3, None); `churn@prod` -> ("churn", None, "prod");
    `churn` or `churn@latest` -> ("churn", None, None)."""
    name, tail = _split(ref, "a model reference: use NAME, NAME@latest, NAME@vN or NAME@ALIAS")
    if tail is None or tail == "latest":
        return name, None, None
    if number := _VERSION.match(tail):
        return name, _version(ref, number[1]), None
    return name, None, check_alias(tail)


def _split(ref: str, what: str) -> tuple[str, str | None]:
    match = _REF.match(ref.strip()) if isinstance(ref, str) else None
    if match is None:
        raise ValueError(f"{ref!r} is not {what}")
    return check_name(match["name"]), match["tail"]


def _version(ref: str, digits: str) -> int:
    version = int(digits)
    if version < 1:
        raise ValueError(f"{ref!r}: versions are numbered from 1")
    return version
