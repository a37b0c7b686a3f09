"""Store URLs: relative paths made absolute, secrets masked for display."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from slipway.errors import ConfigError

_SECRET_WORDS = re.compile(r"secret|password|passwd|token|key|credential", re.IGNORECASE)


_SAFE_KEYS = {"endpoint_url", "region_name"}


def resolve_database_url(url: str, root: Path) -> str:
    """Make a relative SQLite path absolute against the folder that holds the workspace."""
    if not url:
        raise ConfigError("metadata.url is empty; set it to e.g. sqlite:///.slipway/slipway.db")
    prefix = "sqlite:///"
    if url.startswith(prefix):
        raw = url[len(prefix) :]
        path, _, query = raw.partition("?")
        if path and not path.startswith("/") and path != ":memory:":
            path = str(root / path)
        return prefix + path + (f"?{query}" if query else "")
    return url


def resolve_objects_url(url: str, root: Path) -> str:
    """Make a relative `file://` (or bare path) object store location absolute."""
    if not url:
        raise ConfigError("objects.url is empty; set it to e.g. file://.slipway/objects")
    if "://" not in url:
        path = Path(url).expanduser()
        return "file://" + str(path if path.is_absolute() else root / path)
    if url.startswith("file://"):
        path = Path(url[len("file://") :]).expanduser()
        return "file://" + str(path if path.is_absolute() else root / path)
    return url


def mask_url(url: str) -> str:
    """Hide the password in `scheme://user:password@host/...`."""
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def mask_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options with secret-looking values hidden, in nested tables too (client_kwargs)."""
    return {
        k: (
            "***"
            if _SECRET_WORDS.search(k) and k not in _SAFE_KEYS
            else mask_options(v)
            if isinstance(v, Mapping)
            else v
        )
        for k, v in options.items()
    }
