"""Settings: defaults, then slipway.toml, then `SLIPWAY_*` variables, then flags."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from slipway.config._files import CONFIG_FILENAME, WORKSPACE_DIRNAME, load_toml
from slipway.config._remotes import REMOTES_SECTION, Remote, read_remotes
from slipway.config._urls import mask_options, mask_url, resolve_database_url, resolve_objects_url
from slipway.errors import ConfigError
from slipway.refs import check_name

# (section, key) -> type. Every key can be overridden by SLIPWAY_<SECTION>_<KEY>.
_KEYS: dict[tuple[str, str], type] = {
    ("metadata", "url"): str,
    ("objects", "url"): str,
    ("objects", "options"): dict,
    ("server", "url"): str,
    ("server", "host"): str,
    ("server", "port"): int,
    ("identity", "user"): str,
    ("project", "name"): str,  # the project a command uses when it is given none
    ("data", "remote"): str,  # the remote `data push`/`data pull` use without --remote
    # The price table `slipway cost report` turns recorded resources into money with.
    ("cost", "cpu_hour"): float,
    ("cost", "memory_gib_hour"): float,
    ("cost", "gpu_hour"): float,
    ("cost", "currency"): str,
    ("pipelines", "ray_address"): str,  # an existing cluster (ray://host:10001); else local
}


# Roughly on-demand cloud prices (a general-purpose vCPU, its memory, one data-centre GPU);
# set your own under [cost] in slipway.toml.
DEFAULT_PRICES = {"cpu_hour": 0.04, "memory_gib_hour": 0.005, "gpu_hour": 2.5}


# Short spellings users reach for first.
_ENV_ALIASES = {
    "SLIPWAY_SERVER": ("server", "url"),
    "SLIPWAY_USER": ("identity", "user"),
    "SLIPWAY_PROJECT": ("project", "name"),
}


DEFAULT_PROJECT = "default"


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
    project: str = DEFAULT_PROJECT  # [project] name, or $SLIPWAY_PROJECT
    sources: tuple[str, ...] = ()
    remotes: dict[str, Remote] = field(default_factory=dict)
    default_remote: str | None = None  # [data] remote, or $SLIPWAY_DATA_REMOTE
    prices: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    currency: str = "USD"
    ray_address: str | None = None  # [pipelines] ray_address, else $RAY_ADDRESS, else local

    @property
    def remote(self) -> bool:
        return bool(self.server_url)

    def project_or(self, given: str | None) -> str:
        """`given`, else the configured project: how every command picks its project."""
        return given or self.project

    def with_overrides(self, **values: Any) -> Settings:
        return replace(self, **values)

    def data_remote(self, name: str | None = None) -> Remote:
        """The remote called `name`, else the default one (the only one, if just one exists)."""
        configured = ", ".join(sorted(self.remotes)) or "none"
        if name is None:
            name = self.default_remote
            if name is None and len(self.remotes) == 1:
                name = next(iter(self.remotes))
            if name is None:
                hint = (
                    "`slipway data remote add NAME URL` adds one"
                    if not self.remotes
                    else f"pass --remote NAME (configured: {configured}) or set [data] remote"
                )
                raise ConfigError(f"no default data remote; {hint}")
        found = self.remotes.get(name)
        if found is None:
            raise ConfigError(
                f"no data remote named {name!r} (configured: {configured}); "
                "`slipway data remote list` shows them"
            )
        return found

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
            "project.name": self.project,
            "cost.prices": ", ".join(f"{k}={v:g}" for k, v in self.prices.items())
            + f" {self.currency}",
            "pipelines.ray_address": self.ray_address or "(local cluster, or $RAY_ADDRESS)",
            "data.remotes": ", ".join(
                f"{name}{' (default)' if name == self.default_remote else ''}: {r.describe()}"
                for name, r in sorted(self.remotes.items())
            )
            or "(none)",
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
    remotes: dict[str, Remote] = {}
    root = workspace.parent
    config_file = workspace / CONFIG_FILENAME
    if config_file.is_file():
        data = load_toml(config_file)
        remotes = read_remotes(data.pop(REMOTES_SECTION, {}), root, str(config_file))
        values.update(_read_config(data, config_file))
        sources.append(str(config_file))
    from_env = _read_env(env)
    if from_env:
        values.update(from_env)
        sources.append("environment")
    if overrides:
        values.update({k: _coerce(k, v, "flag") for k, v in overrides.items() if v is not None})
        sources.append("flags")
    return Settings(
        workspace=workspace,
        metadata_url=resolve_database_url(values[("metadata", "url")], root),
        objects_url=resolve_objects_url(values[("objects", "url")], root),
        objects_options=dict(values.get(("objects", "options"), {})),
        server_url=(values.get(("server", "url")) or None),
        server_host=values.get(("server", "host"), "127.0.0.1"),
        server_port=values.get(("server", "port"), 8080),
        user=values.get(("identity", "user")) or _os_user(),
        project=values.get(("project", "name")) or DEFAULT_PROJECT,
        sources=tuple(sources),
        remotes=remotes,
        default_remote=values.get(("data", "remote")) or None,
        prices={
            name: values.get(("cost", name), default) for name, default in DEFAULT_PRICES.items()
        },
        currency=values.get(("cost", "currency")) or "USD",
        ray_address=values.get(("pipelines", "ray_address")) or None,
    )


def _read_config(data: dict[str, Any], path: Path) -> dict[tuple[str, str], Any]:
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
    if key == ("project", "name"):
        try:
            return check_name(str(value))
        except ValueError as exc:
            raise ConfigError(f"{label} ({source}): {exc}") from None
    if kind is int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{label} must be an integer, got {value!r} ({source})") from None
        if key == ("server", "port") and not 0 <= number <= 65535:
            raise ConfigError(f"{label} must be between 0 and 65535, got {number} ({source})")
        return number
    if kind is float:
        try:
            price = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{label} must be a number, got {value!r} ({source})") from None
        if not 0 <= price < float("inf"):
            raise ConfigError(f"{label} must be zero or more, got {value!r} ({source})")
        return price
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
    return ", ".join([*(".".join(k) for k in _KEYS), f"{REMOTES_SECTION}.NAME"])


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"
