"""Where settings live on disk: the workspace folder, its slipway.toml, read and rewritten."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from slipway.errors import ConfigError

WORKSPACE_DIRNAME = ".slipway"


CONFIG_FILENAME = "slipway.toml"


_HEADER = "# Slipway workspace settings; SLIPWAY_* variables override them.\n"


def load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def config_file_of(workspace: Path) -> Path:
    config_file = workspace / CONFIG_FILENAME
    if not config_file.is_file():
        raise ConfigError(f"no workspace at {workspace}; `slipway init` creates one")
    return config_file


def write_toml(path: Path, data: dict[str, Any]) -> None:
    """Rewrite the file atomically, keeping its leading comment lines (TOML writers drop them)."""
    import tomli_w

    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = "".join(line for line in _leading_comments(lines)) or _HEADER
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(header + tomli_w.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def _leading_comments(lines: list[str]) -> list[str]:
    kept = []
    for line in lines:
        if not line.startswith("#"):
            break
        kept.append(line if line.endswith("\n") else line + "\n")
    return kept
