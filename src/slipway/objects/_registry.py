"""Choose an object backend by URL scheme; name the missing extra when an import fails."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from slipway.config import mask_url
from slipway.errors import ConfigError
from slipway.objects._backend import ObjectBackend

# scheme -> (module fsspec needs, the slipway extra that installs it)
_REMOTE_SCHEMES: dict[str, tuple[str, str]] = {
    "s3": ("s3fs", "s3"),
    "s3a": ("s3fs", "s3"),
    "gs": ("gcsfs", "gcs"),
    "gcs": ("gcsfs", "gcs"),
    "az": ("adlfs", "azure"),
    "abfs": ("adlfs", "azure"),
    "memory": ("fsspec", ""),
}


def open_backend(url: str, options: Mapping[str, Any] | None = None) -> ObjectBackend:
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(
            f"objects.url {url!r} has no scheme; use file:///path or s3://bucket/prefix"
        )
    if scheme == "file":
        from slipway.objects._local import LocalBackend

        if not rest.startswith("/"):
            raise ConfigError(f"objects.url {url!r} must be an absolute file:// path")
        return LocalBackend(Path(rest))
    if scheme not in _REMOTE_SCHEMES:
        raise ConfigError(
            f"unknown object store scheme {scheme!r} in {mask_url(url)!r}; "
            f"supported: file, {', '.join(sorted(_REMOTE_SCHEMES))}"
        )
    module, extra = _REMOTE_SCHEMES[scheme]
    try:
        import fsspec

        fs, root = fsspec.core.url_to_fs(url, **dict(options or {}))
    except ImportError:
        raise ConfigError(f"{scheme}:// needs {module}: pip install 'slipway[{extra}]'") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"cannot use objects.url {mask_url(url)!r}: {exc}") from None
    from slipway.objects._fsspec import FsspecBackend

    return FsspecBackend(fs, root, url)
