"""The rule for names of projects, datasets and models: checked before any heavy import."""

from __future__ import annotations

import re

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
_NAME = re.compile(NAME_PATTERN)
NAME_RULE = "1-128 characters: letters, digits, '.', '_', '-', starting with a letter or digit"


def check_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"invalid name {value!r}: {NAME_RULE}")
    return value
