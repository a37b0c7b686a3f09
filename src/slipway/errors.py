"""One error hierarchy for every interface.

Adapters map these to exit codes (CLI) and HTTP statuses (API); the HTTP client maps them
back, so a caller sees the same exception class in embedded and remote mode.
"""

from __future__ import annotations


class SlipwayError(Exception):
    """Base of every error Slipway raises on purpose."""

    http_status = 500
    exit_code = 1

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def name(self) -> str:
        return type(self).__name__


class InvalidInput(SlipwayError):
    """The caller sent something malformed or out of range."""

    http_status = 400
    exit_code = 2


class NotFound(SlipwayError):
    http_status = 404
    exit_code = 3


class AlreadyExists(SlipwayError):
    http_status = 409
    exit_code = 4


class Conflict(SlipwayError):
    """The operation is valid but the current state forbids it (e.g. a guarded delete)."""

    http_status = 409
    exit_code = 4


class PermissionDenied(SlipwayError):
    http_status = 403
    exit_code = 5


class IntegrityError(SlipwayError):
    """Stored data does not match its recorded hash: corruption or tampering."""

    http_status = 500
    exit_code = 6


class ConfigError(SlipwayError):
    """Settings are malformed, name an unknown backend, or miss a required extra."""

    http_status = 500
    exit_code = 7


class Unavailable(SlipwayError):
    """A configured service (database, object store, server) cannot be reached."""

    http_status = 503
    exit_code = 8


class SchemaOutdated(Unavailable):
    """The metadata database is at an older (or newer) schema than this Slipway."""


ERRORS: dict[str, type[SlipwayError]] = {
    cls.__name__: cls
    for cls in (
        SlipwayError,
        InvalidInput,
        NotFound,
        AlreadyExists,
        Conflict,
        PermissionDenied,
        IntegrityError,
        ConfigError,
        Unavailable,
        SchemaOutdated,
    )
}


def from_name(name: str, detail: str) -> SlipwayError:
    """Rebuild an error sent over HTTP; unknown names become the base class."""
    return ERRORS.get(name, SlipwayError)(detail)
