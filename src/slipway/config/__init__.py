"""Settings: defaults, then `slipway.toml` in the workspace, then `SLIPWAY_*` variables, then flags.

Nothing here runs at import time; adapters build `Settings` at the edge and pass them down.
"""

from __future__ import annotations

from slipway.config._files import CONFIG_FILENAME, WORKSPACE_DIRNAME
from slipway.config._remotes import (
    REMOTES_SECTION,
    Remote,
    check_remote_name,
    delete_remote,
    resolve_remote_url,
    write_remote,
)
from slipway.config._settings import (
    DEFAULT_PRICES,
    DEFAULT_PROJECT,
    Settings,
    default_config,
    find_workspace,
    load_settings,
)
from slipway.config._urls import mask_options, mask_url, resolve_database_url, resolve_objects_url

__all__ = [
    "CONFIG_FILENAME",
    "DEFAULT_PRICES",
    "DEFAULT_PROJECT",
    "REMOTES_SECTION",
    "WORKSPACE_DIRNAME",
    "Remote",
    "Settings",
    "check_remote_name",
    "default_config",
    "delete_remote",
    "find_workspace",
    "load_settings",
    "mask_options",
    "mask_url",
    "resolve_database_url",
    "resolve_objects_url",
    "resolve_remote_url",
    "write_remote",
]
