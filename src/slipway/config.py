"""Settings: defaults, then `slipway.toml` in the workspace, then `SLIPWAY_*` variables, then flags.

Nothing here runs at import time; adapters build `Settings` at the edge and pass them down.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from slipway.errors import ConfigError

WORKSPACE_DIRNAME = ".slipway"
CONFIG_FILENAME = "slipway.toml"

# (section, key) -> type. Every key can be overridden by SLIPWAY_<SECTION>_<KEY>.
_KEYS: dict[tuple[str, str], type] = {
    ("metadata", "url"): str,
    ("objects", "url"): str,
    ("objects", "options"): dict,
    ("server", "url"): str,
    ("server", "host"): str,
    ("server", "port"): int,
    ("identity", "user"): str,
}
# Short spellings users reach for first.
_ENV_ALIASES = {"SLIPWAY_SERVER": ("server", "url"), "SLIPWAY_USER": ("identity", "user")}
_SECRET_WORDS = re.compile(r"secret|password|passwd|token|key|credential", re.IGNORECASE)
_SAFE_KEYS = {"endpoint_url", "region_name"}


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. Paths inside URLs are absolute."""

    workspace: Path
    metadata_url: str
    objects_url: str
    objects_options: dict[str, Any] = field(default_factory=dict)
    server_url: str | None = None
    server_host: str = "127.0.0.1"
    server_port: int = 8080
    user: str = "local"
    sources: tuple[str, ...] = ()

    @property
    def remote(self) -> bool:
        return bool(self.server_url)

    def with_overrides(self, **values: Any) -> Settings:
        return replace(self, **values)

    def describe(self) -> dict[str, str]:
        """What is configured, secrets masked; for `slipway doctor`."""
        return {
            "workspace": str(self.workspace),
            "metadata.url": mask_url(self.metadata_url),
            "objects.url": mask_url(self.objects_url),
            "objects.options": json.dumps(mask_options(self.objects_options), sort_keys=True),
            "server.url": mask_url(self.server_url) if self.server_url else "(embedded mode)",
            "server.listen": f"{self.server_host}:{self.server_port}",
            "identity.user": self.user,
            "sources": ", ".join(self.sources) or "defaults",
        }


def find_workspace(start: Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """`SLIPWAY_WORKSPACE`, else the nearest `.slipway/` with a config up from `start`."""
    env = os.environ if env is None else env
    if env.get("SLIPWAY_WORKSPACE"):
        return Path(env["SLIPWAY_WORKSPACE"]).expanduser().absolute()
    start = (start or Path.cwd()).absolute()
    for folder in (start, *start.parents):
        candidate = folder / WORKSPACE_DIRNAME
        if (candidate / CONFIG_FILENAME).is_file():
            return candidate
    return start / WORKSPACE_DIRNAME


def default_config(workspace: Path) -> dict[str, dict[str, Any]]:
    """The configuration `slipway init` writes: relative to the folder holding the workspace."""
    name = workspace.name
    return {
        "metadata": {"url": f"sqlite:///{name}/slipway.db"},
        "objects": {"url": f"file://{name}/objects"},
    }


def load_settings(
    workspace: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[tuple[str, str], Any] | None = None,
) -> Settings:
    """Build settings from defaults, the workspace's `slipway.toml`, the environment and flags."""
    env = os.environ if env is None else env
    workspace = (workspace or find_workspace(env=env)).absolute()
    values: dict[tuple[str, str], Any] = {
        (section, key): value
        for section, entries in default_config(workspace).items()
        for key, value in entries.items()
    }
    sources: list[str] = []
    config_file = workspace / CONFIG_FILENAME
    if config_file.is_file():
        values.update(_read_config(config_file))
        sources.append(str(config_file))
    from_env = _read_env(env)
    if from_env:
        values.update(from_env)
        sources.append("environment")
    if overrides:
        values.update({k: _coerce(k, v, "flag") for k, v in overrides.items() if v is not None})
        sources.append("flags")
    root = workspace.parent
    return Settings(
        workspace=workspace,
        metadata_url=resolve_database_url(values[("metadata", "url")], root),
        objects_url=resolve_objects_url(values[("objects", "url")], root),
        objects_options=dict(values.get(("objects", "options"), {})),
        server_url=(values.get(("server", "url")) or None),
        server_host=values.get(("server", "host"), "127.0.0.1"),
        server_port=values.get(("server", "port"), 8080),
        user=values.get(("identity", "user")) or _os_user(),
        sources=tuple(sources),
    )


def _read_config(path: Path) -> dict[tuple[str, str], Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    values: dict[tuple[str, str], Any] = {}
    for section, entries in data.items():
        if not isinstance(entries, dict):
            raise ConfigError(f"{path}: '{section}' must be a [section]; known: {_known()}")
        for key, value in entries.items():
            values[(section, key)] = _coerce((section, key), value, str(path))
    return values


def _read_env(env: Mapping[str, str]) -> dict[tuple[str, str], Any]:
    values: dict[tuple[str, str], Any] = {}
    for section, key in _KEYS:
        name = f"SLIPWAY_{section.upper()}_{key.upper()}"
        if name in env:
            values[(section, key)] = _coerce((section, key), env[name], name)
    for name, target in _ENV_ALIASES.items():
        if name in env:
            values[target] = _coerce(target, env[name], name)
    return values


def _coerce(key: tuple[str, str], value: Any, source: str) -> Any:
    if key not in _KEYS:
        raise ConfigError(f"unknown setting '{'.'.join(key)}' in {source}; known: {_known()}")
    kind = _KEYS[key]
    label = ".".join(key)
    if kind is int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{label} must be an integer, got {value!r} ({source})") from None
        if key == ("server", "port") and not 0 <= number <= 65535:
            raise ConfigError(f"{label} must be between 0 and 65535, got {number} ({source})")
        return number
    if kind is dict:
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except json.JSONDecodeError:
                raise ConfigError(f"{label} must be a JSON object ({source})") from None
        if not isinstance(value, dict):
            raise ConfigError(f"{label} must be a table/object, got {value!r} ({source})")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{label} must be a string, got {value!r} ({source})")
    return value.strip()


def _known() -> str:
    return ", ".join(".".join(k) for k in _KEYS)


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
    return {
        k: ("***" if _SECRET_WORDS.search(k) and k not in _SAFE_KEYS else v)
        for k, v in options.items()
    }


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"
