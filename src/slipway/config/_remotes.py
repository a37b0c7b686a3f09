"""Data remotes: the [remotes.NAME] tables `slipway data push` and `pull` copy objects to."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slipway.config._files import config_file_of, load_toml, write_toml
from slipway.config._urls import mask_options, mask_url
from slipway.errors import AlreadyExists, ConfigError

# [remotes.NAME] tables: where `slipway data push` and `pull` copy objects.
REMOTES_SECTION = "remotes"


_REMOTE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")


_NOT_TABLES = f"'{REMOTES_SECTION}' must hold [{REMOTES_SECTION}.NAME] tables"


@dataclass(frozen=True)
class Remote:
    """A named object store that data is pushed to and pulled from (an fsspec URL)."""

    name: str
    url: str  # a relative file:// path is made absolute against the workspace's folder
    options: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        options = mask_options(self.options)
        shown = f" {json.dumps(options, sort_keys=True)}" if options else ""
        return f"{mask_url(self.url)}{shown}"


def read_remotes(section: Any, root: Path, source: str) -> dict[str, Remote]:
    if not isinstance(section, dict):
        raise ConfigError(
            f"{source}: '{REMOTES_SECTION}' must hold [{REMOTES_SECTION}.NAME] tables"
        )
    remotes: dict[str, Remote] = {}
    for name, entry in section.items():
        label = f"{REMOTES_SECTION}.{name}"
        check_remote_name(name)
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise ConfigError(f'{label} must have url = "scheme://..." ({source})')
        unknown = set(entry) - {"url", "options"}
        if unknown:
            raise ConfigError(
                f"unknown setting {label}.{sorted(unknown)[0]} in {source}; known: url, options"
            )
        options = entry.get("options", {})
        if not isinstance(options, dict):
            raise ConfigError(f"{label}.options must be a table, got {options!r} ({source})")
        url = resolve_remote_url(entry["url"], root, label=label)
        remotes[name] = Remote(name, url, dict(options))
    return remotes


def check_remote_name(name: str) -> str:
    if not isinstance(name, str) or not _REMOTE_NAME.match(name):
        raise ConfigError(
            f"{name!r} cannot name a remote: use up to 64 letters, digits, '.', '_' or '-'"
        )
    return name


def resolve_remote_url(url: str, root: Path, *, label: str = "remote url") -> str:
    """Check a remote's URL; make a relative `file://` path absolute against `root`."""
    text = url.strip() if isinstance(url, str) else ""
    scheme, sep, rest = text.partition("://")
    if (
        not sep
        or not _SCHEME.match(scheme)
        or not rest.strip("/")
        or any(c.isspace() for c in text)
    ):
        raise ConfigError(
            f"{label} {mask_url(text)!r} is not a URL; use e.g. s3://bucket/prefix or "
            "file:///absolute/folder (file://relative/folder is relative to the workspace's folder)"
        )
    if scheme == "file":
        path = Path(rest).expanduser()
        return "file://" + os.path.normpath(path if path.is_absolute() else root / path)
    return text


def write_remote(
    workspace: Path,
    name: str,
    url: str,
    options: Mapping[str, Any] | None = None,
    *,
    default: bool = False,
) -> bool:
    """Add [remotes.NAME] to the workspace's slipway.toml; True if it became the default.

    The URL is written as given (a relative file:// path stays relative, so the file can be
    committed); the first remote added becomes the default.
    """
    config_file = config_file_of(workspace)
    check_remote_name(name)
    resolve_remote_url(url, workspace.parent, label=f"{REMOTES_SECTION}.{name}.url")
    data = load_toml(config_file)
    remotes = data.setdefault(REMOTES_SECTION, {})
    if not isinstance(remotes, dict):
        raise ConfigError(
            f"{config_file}: '{REMOTES_SECTION}' must hold [{REMOTES_SECTION}.NAME] tables"
        )
    if name in remotes:
        raise AlreadyExists(
            f"remote {name!r} already exists; `slipway data remote remove {name}` first"
        )
    entry: dict[str, Any] = {"url": url.strip()}
    if options:
        entry["options"] = dict(options)
    remotes[name] = entry
    section = data.setdefault("data", {})
    made_default = default or not section.get("remote") or len(remotes) == 1
    if made_default:
        section["remote"] = name
    write_toml(config_file, data)
    return made_default


def delete_remote(workspace: Path, name: str) -> None:
    """Remove [remotes.NAME] (and [data] remote if it named it) from slipway.toml."""
    config_file = config_file_of(workspace)
    data = load_toml(config_file)
    remotes = data.get(REMOTES_SECTION)
    if not isinstance(remotes, dict) or name not in remotes:
        known = ", ".join(sorted(remotes)) if isinstance(remotes, dict) and remotes else "none"
        raise ConfigError(f"no data remote named {name!r} in {config_file} (configured: {known})")
    del remotes[name]
    if not remotes:
        del data[REMOTES_SECTION]
    section = data.get("data")
    if isinstance(section, dict) and section.get("remote") == name:
        del section["remote"]
        if not section:
            del data["data"]
    write_toml(config_file, data)
